"""The HTTP side of the client: JSON requests to the server's /api/v1, on the standard library.

Every failure becomes an ApiError whose message says what went wrong and what
to do, so the commands print one line instead of a traceback.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import shutil
import socket
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from caseworker_client.errors import ClientError
from crypto.files import atomic_write

API_PREFIX = "/api/v1"
TIMEOUT_SECONDS = 60.0
USER_AGENT = "reporting-caseworker"
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class ApiError(ClientError):
    """A request that did not succeed; `status` is the HTTP status (0: none reached us)."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_server(url: str) -> str:
    """The server's base address, refusing plain HTTP except on loopback and onion services.

    A token sent over plain HTTP across a network could be read by anyone on the way.
    """
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ApiError(
            f"{url!r} is not a server address; give one like https://reports.example.org"
        )
    if parts.scheme == "http" and not (_is_loopback(host) or host.endswith(".onion")):
        raise ApiError(
            f"refusing plain http:// for {host}: your password and token would cross the "
            "network unencrypted; use https:// (or an .onion address through torsocks)"
        )
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the bearer token must not travel to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Part:
    """A file part of a multipart form, read from `path` while it is sent."""

    field: str
    path: Path
    filename: str


class Api:
    """One server, optionally with a token. Methods return parsed JSON (or write files)."""

    def __init__(self, server: str, token: str | None = None, timeout: float = TIMEOUT_SECONDS):
        self.server = normalise_server(server)
        self.token = token
        self.timeout = timeout
        host = urllib.parse.urlsplit(self.server).hostname or ""
        # Loopback never goes through a proxy (a test or an SSH tunnel); others follow $https_proxy.
        proxies = urllib.request.ProxyHandler({} if _is_loopback(host) else None)
        https = urllib.request.HTTPSHandler(context=ssl.create_default_context())
        self._opener = urllib.request.build_opener(proxies, https, _NoRedirects())

    # -- requests ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Open the request and return the response object, or raise an ApiError."""
        url = self.server + API_PREFIX + path
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - https/http checked
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                raise self._http_error(error) from None
        except urllib.error.URLError as error:
            raise self._network_error(error.reason) from None
        except TimeoutError:
            raise ApiError(
                f"{self.server} did not answer within {self.timeout:.0f} s; try again later"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise self._network_error(error) from None

    def _network_error(self, reason: object) -> ApiError:
        if isinstance(reason, ssl.SSLCertVerificationError):
            return ApiError(
                f"the TLS certificate of {self.server} could not be verified "
                f"({reason.verify_message}); check the address, and do not work around this: "
                "someone may be impersonating the server"
            )
        if isinstance(reason, ssl.SSLError):
            return ApiError(f"a TLS connection to {self.server} failed ({reason.reason})")
        if isinstance(reason, ConnectionRefusedError):
            return ApiError(
                f"cannot connect to {self.server}: connection refused; "
                "check the address and that the server is running"
            )
        if isinstance(reason, socket.gaierror):
            return ApiError(f"cannot find the server {self.server}: check the address")
        if isinstance(reason, TimeoutError | socket.timeout):
            return ApiError(f"{self.server} did not answer in time; try again later")
        text = getattr(reason, "strerror", None) or str(reason)
        return ApiError(f"cannot reach {self.server}: {text}")

    def _http_error(self, error: urllib.error.HTTPError) -> ApiError:
        status = error.code
        code, message, fields = "", "", []
        try:
            data = json.loads(error.read(64 * 1024) or b"null")
            if isinstance(data, dict):
                code = str(data.get("error") or "")
                message = str(data.get("message") or "")
                fields = [str(f) for f in data.get("fields") or []]
        except (ValueError, OSError):
            pass
        if status == 401 and code != "login_failed":
            return ApiError(
                "the server did not accept your session (it expired or was revoked); "
                "log in again with `reporting-caseworker login`",
                status,
                code or "unauthorized",
            )
        if not message:
            message = f"the server answered {status} {error.reason}"
        if fields:
            message += f" (fields: {', '.join(fields)})"
        if status == 404 and not code:
            message += "; the address may not be this service's"
        return ApiError(message, status, code)

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            with self._request(method, path, body, headers) as response:
                raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise self._network_error(error) from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(f"the server's answer to {method} {path} was not JSON") from None

    def get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return self._json("GET", path)

    def post(self, path: str, payload: Any = None) -> Any:
        return self._json("POST", path, {} if payload is None else payload)

    def put(self, path: str, payload: Any) -> Any:
        return self._json("PUT", path, payload)

    def patch(self, path: str, payload: Any) -> Any:
        return self._json("PATCH", path, payload)

    def delete(self, path: str) -> Any:
        return self._json("DELETE", path)

    def download(self, path: str, target: Path) -> int:
        """Stream a file to `target` via a .part file, so a cut download leaves no blob behind."""
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._request("GET", path) as response, atomic_write(target) as out:
                shutil.copyfileobj(response, out, 1024 * 1024)
                size = out.tell()
            return size
        except (OSError, http.client.HTTPException) as error:
            raise ApiError(f"the download of {path} was cut off ({error}); run it again") from None

    def post_multipart(
        self, path: str, fields: Mapping[str, str], files: Sequence[Part], scratch: Path
    ) -> Any:
        """POST a multipart form; the body is spooled to `scratch` (it holds only ciphertext)."""
        boundary = f"----reporting-caseworker-{uuid.uuid4().hex}"
        fd, body_path = tempfile.mkstemp(prefix=".upload.", dir=scratch)
        try:
            with os.fdopen(fd, "w+b") as body:
                _write_multipart(body, boundary, fields.items(), files)
                length = body.tell()
                body.seek(0)
                headers = {
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(length),
                }
                with self._request("POST", path, body, headers) as response:
                    raw = response.read()
            return json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(f"the server's answer to POST {path} was not JSON") from None
        finally:
            os.unlink(body_path)


def _write_multipart(
    out: IO[bytes], boundary: str, fields: Iterable[tuple[str, str]], files: Sequence[Part]
) -> None:
    dash = f"--{boundary}\r\n".encode()
    for name, value in fields:
        out.write(dash)
        out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode("utf-8") + b"\r\n")
    for part in files:
        out.write(dash)
        out.write(
            f'Content-Disposition: form-data; name="{part.field}"; '
            f'filename="{part.filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        with part.path.open("rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())

"""The client's HTTP layer: addresses it refuses, and a clear message for each way a request fails.

The failures are produced for real, by small servers on loopback: a refused
connection, a self-signed TLS certificate, JSON errors, a redirect, a proxy.
"""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from caseworker_client.api import Api, ApiError, normalise_server
from tests.support.processes import free_port


def error(code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"error": code, "message": message, **extra}).encode()


ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/api/v1/expired": (401, {}, error("unauthorized", "Token expired.")),
    "/api/v1/login": (401, {}, error("login_failed", "Wrong name, password or code")),
    "/api/v1/gone": (404, {}, error("not_found", "No such report in your organisation.")),
    "/api/v1/consent": (409, {}, error("consent_refused", "The reporter did not allow sharing.")),
    "/api/v1/invalid": (422, {}, error("invalid", "Unknown tag.", fields=["tags"])),
    "/api/v1/proxy": (502, {"Content-Type": "text/html"}, b"<h1>Bad gateway</h1>"),
    "/api/v1/elsewhere": (302, {"Location": "http://127.0.0.2:9/steal"}, b""),
    "/api/v1/ok": (200, {"Content-Type": "application/json"}, b'{"fine": true}'),
}


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        status, headers, body = ANSWERS.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = serve(httpd)
    Handler.seen = []
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://reports.example.org/", "https://reports.example.org"),
        ("reports.example.org", "https://reports.example.org"),
        ("https://example.org/ngo/api/v1", "https://example.org/ngo"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://localhost:5000/", "http://localhost:5000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://abcdefghijklmnop.onion", "http://abcdefghijklmnop.onion"),
    ],
)
def test_server_addresses(given: str, expected: str) -> None:
    assert normalise_server(given) == expected


@pytest.mark.parametrize(
    "given", ["http://reports.example.org", "ftp://x.org", "file:///etc/passwd"]
)
def test_unsafe_addresses_are_refused(given: str) -> None:
    with pytest.raises(ApiError):
        normalise_server(given)


def test_connection_refused_says_so() -> None:
    with pytest.raises(ApiError, match="connection refused; check the address"):
        Api(f"http://127.0.0.1:{free_port()}").get("/me")


def test_expired_token_says_log_in_again(server: str) -> None:
    with pytest.raises(ApiError, match="log in again") as caught:
        Api(server, "rcw_old").get("/expired")
    assert caught.value.status == 401


def test_refused_login_keeps_the_servers_words(server: str) -> None:
    with pytest.raises(ApiError, match="Wrong name, password or code") as caught:
        Api(server).post("/login", {})
    assert caught.value.code == "login_failed"


@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("/gone", 404, "not_found", "No such report in your organisation."),
        ("/consent", 409, "consent_refused", "The reporter did not allow sharing."),
        ("/invalid", 422, "invalid", "Unknown tag. (fields: tags)"),
        ("/proxy", 502, "", "the server answered 502 Bad Gateway"),
        ("/nothing", 404, "", "the server answered 404 Not Found; the address may not be"),
    ],
)
def test_json_errors_become_one_clear_message(
    server: str, path: str, status: int, code: str, message: str
) -> None:
    with pytest.raises(ApiError) as caught:
        Api(server, "rcw_token").get(path)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert str(caught.value).startswith(message)


def test_redirects_are_not_followed_with_the_token(server: str) -> None:
    with pytest.raises(ApiError, match="302"):
        Api(server, "rcw_secret").get("/elsewhere")
    assert len(Handler.seen) == 1


def test_token_and_no_proxy_on_loopback(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    assert Api(server, "rcw_token").get("/ok") == {"fine": True}
    assert Handler.seen[0]["Authorization"] == "Bearer rcw_token"


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = serve(httpd)
    try:
        with pytest.raises(ApiError, match=r"TLS certificate .* could not be verified"):
            Api(f"https://127.0.0.1:{httpd.server_port}").get("/ok")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_lands_whole_or_not_at_all(server: str, tmp_path: Path) -> None:
    target = tmp_path / "blobs" / "b.age"
    with pytest.raises(ApiError):
        Api(server, "t").download("/gone", target)
    assert not target.exists() and not list(target.parent.iterdir())
    assert Api(server, "t").download("/ok", target) == len(b'{"fine": true}')
    assert json.loads(target.read_bytes()) == {"fine": True}

"""POST one ciphertext to an organisation's webhook, signed per Standard Webhooks.

The URL is configured by an organisation's admin, so it is untrusted input to a
server that sits next to the database: we refuse anything that could reach
inside our network (SSRF). The host is resolved once here, every address is
checked, and we connect to a checked address itself, so a second DNS answer
cannot swap in a private one (DNS rebinding). Redirects are never followed:
a redirect would be a new, unchecked URL. Errors carry no content and no URL
parts beyond the host, since URLs may hold tokens.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crypto import webhooks
from protocol.headers import delivery_headers
from reporting.delivery.addresses import AddressRefused, IPNetwork, parse_networks, resolve_checked
from worker.channels import ChannelRefused, Outcome

if TYPE_CHECKING:
    from reporting.infra.config import DeliverySettings
    from worker.delivery import Claimed

log = logging.getLogger(__name__)

RESPONSE_LIMIT = 64 * 1024  # the receiver's answer is read this far and discarded
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_OWN_HEADERS = {"host", "content-type", "content-length", "user-agent", "webhook-id",
                "webhook-timestamp", "webhook-signature"}  # fmt: skip


@dataclass(frozen=True)
class WebhookTarget:
    """Where an organisation receives deliveries, and the secret it checks them with."""

    url: str  # http:// or https:// only
    secret: str  # whsec_… (Standard Webhooks)


@dataclass(frozen=True)
class WebhookPolicy:
    """Limits for one delivery; allowed_networks opens private ranges (tests, on-site NGOs)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    allowed_networks: tuple[IPNetwork, ...] = ()


def _resolve(host: str, port: int, policy: WebhookPolicy) -> list[str]:
    """Every address of `host`, each checked (reporting/delivery/addresses.py, as when the channel
    was added); a refused one is a delivery no retry can fix."""
    try:
        return resolve_checked(host, port, policy.allowed_networks)
    except AddressRefused as refused:
        raise ChannelRefused(str(refused)) from None
    except UnicodeError:  # a label the IDNA codec rejects, e.g. longer than 63 characters
        raise ChannelRefused("invalid URL") from None


def _check_header(name: str, value: str) -> None:
    if not _TOKEN.match(name) or any(c in value for c in "\r\n\0"):
        raise ChannelRefused("invalid header")


def _parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and request path of an acceptable URL."""
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise ChannelRefused("invalid URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ChannelRefused("invalid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ChannelRefused("scheme refused")
    if "@" in parts.netloc:
        raise ChannelRefused("credentials in URL refused")
    if not parts.hostname:
        raise ChannelRefused("invalid URL")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def post_ciphertext(
    target: WebhookTarget,
    message_id: str,
    body: bytes | Path,
    extra_headers: Mapping[str, str],
    policy: WebhookPolicy,
    *,
    now: Callable[[], float] = time.time,
) -> Outcome:
    """Deliver `body` once; never raises for network or receiver trouble.

    Only a Path that cannot be read raises (OSError): that is our fault, not the receiver's.

    A Path is read whole into memory, because the HMAC covers every byte before
    the first is sent: memory use equals the file size, and the worker only
    sends blobs up to the submission limit.
    """
    host = "?"
    try:
        scheme, host, port, path = _parse(target.url)
        _check_header("webhook-id", message_id)
        for name, value in extra_headers.items():
            _check_header(name, value)
            if name.lower() in _OWN_HEADERS:
                raise ChannelRefused("invalid header")
        payload = body.read_bytes() if isinstance(body, Path) else bytes(body)
        try:
            signed = webhooks.headers(target.secret, message_id, int(now()), payload)
        except webhooks.WebhookSignatureError:
            raise ChannelRefused("invalid webhook secret") from None
        addresses = _resolve(host, port, policy)
        outcome = _send(scheme, host, port, path, addresses, payload, signed, extra_headers, policy)
    except ChannelRefused as refused:
        outcome = Outcome(False, False, str(refused))
    except socket.gaierror:
        outcome = Outcome(False, True, "DNS lookup failed")
    log.debug("webhook to %s: %s", host, outcome.error or "delivered")
    return outcome


def _send(
    scheme: str, host: str, port: int, path: str, addresses: list[str], payload: bytes,
    signed: Mapping[str, str], extra_headers: Mapping[str, str], policy: WebhookPolicy,
) -> Outcome:  # fmt: skip
    """Connect to a checked address, send, and classify what comes back."""
    literal = ":" in host
    host_header = f"[{host}]" if literal else host
    if port != (443 if scheme == "https" else 80):
        host_header += f":{port}"
    headers = {
        "Host": host_header,
        "Content-Type": "application/octet-stream",
        "Content-Length": str(len(payload)),
        "User-Agent": "reporting-worker",
        **signed,
        **extra_headers,
    }
    sock: socket.socket | None = None
    try:
        sock, address = _connect(addresses, port, policy.connect_timeout)
        if scheme == "https":  # the handshake still runs under the connect timeout
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.settimeout(policy.read_timeout)
        conn = http.client.HTTPConnection(f"[{address}]" if ":" in address else address, port)
        conn.sock, conn.auto_open = sock, 0  # http.client must never connect by itself
        conn.request("POST", path, body=payload, headers=headers)
        response = conn.getresponse()
        # The status is the answer; a slow or broken body does not change it.
        with contextlib.suppress(OSError, http.client.HTTPException):
            response.read(RESPONSE_LIMIT)
        return _classify(response.status)
    except ssl.SSLCertVerificationError:
        return Outcome(False, False, "TLS error (certificate)")
    except ssl.SSLError:
        return Outcome(False, True, "TLS error")
    except TimeoutError:
        return Outcome(False, True, "timeout")
    except ConnectionRefusedError:
        return Outcome(False, True, "connection refused")
    except (ConnectionError, http.client.HTTPException):
        return Outcome(False, True, "connection lost")
    except OSError as error:
        code = errno.errorcode.get(error.errno or 0, "?")
        return Outcome(False, True, f"network error ({code})")
    finally:
        if sock is not None:
            sock.close()


def _connect(addresses: list[str], port: int, timeout: float) -> tuple[socket.socket, str]:
    """A socket to the first checked address that answers; never a name, so no re-resolving."""
    for address in addresses[:-1]:
        with contextlib.suppress(OSError):
            return socket.create_connection((address, port), timeout=timeout), address
    return socket.create_connection((addresses[-1], port), timeout=timeout), addresses[-1]


def _classify(status: int) -> Outcome:
    """2xx and 409 (already received this webhook-id) are done; 408/429/5xx may pass later."""
    if 200 <= status < 300 or status == 409:
        return Outcome(True, False, "")
    if 300 <= status < 400:
        return Outcome(False, False, f"redirect refused (HTTP {status})")
    return Outcome(False, status in (408, 429) or 500 <= status < 600, f"HTTP {status}")


def deliver(item: Claimed, settings: DeliverySettings, ciphertext: bytes) -> Outcome:
    """The channel interface (worker/channels/__init__.py): POST to the organisation's URL,
    signed with its secret, with the delivery headers that say what the item is."""
    policy = WebhookPolicy(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        allowed_networks=parse_networks(settings.allowed_networks),
    )
    headers = delivery_headers(
        item.organisation, item.report_id, item.message_id, item.message_kind, item.part
    )
    return post_ciphertext(
        WebhookTarget(item.target, item.secret), item.idempotency_id, ciphertext, headers, policy
    )

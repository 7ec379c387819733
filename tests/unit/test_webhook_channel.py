"""The webhook channel against real loopback servers: signing, outcomes, and SSRF refusals."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crypto import webhooks
from worker.channels import Outcome, webhook
from worker.channels.webhook import WebhookPolicy, WebhookTarget, post_ciphertext

LOOPBACK = WebhookPolicy(
    connect_timeout=2, read_timeout=2, allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)
)
SECRET = webhooks.new_secret()
EXTRA = {"x-reporting-report": "r1", "x-reporting-kind": "report", "x-reporting-part": "0"}


class Server:
    """A threaded HTTP server on 127.0.0.1 that answers `status` and records every request."""

    def __init__(self, status: int, headers: dict[str, str], tls: ssl.SSLContext | None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers.items()), body))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(status: int = 200, headers: dict[str, str] | None = None, tls=None) -> Server:
        servers.append(Server(status, headers or {}, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record connection attempts instead of making them."""
    attempts: list[tuple[str, int]] = []

    def fake(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        attempts.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "create_connection", fake)
    return attempts


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, *answers: str) -> list[str]:
    """Make `name` resolve to successive answers (the last repeats); other names really resolve."""
    real, asked = socket.getaddrinfo, []

    def lookup(host: str, port: int, *args: object, **kwargs: object) -> list:
        if host != name:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[min(len(asked), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return asked


def post(url: str, body: bytes | Path = b"age-ciphertext", policy: WebhookPolicy = LOOPBACK,
         **kwargs: object) -> Outcome:  # fmt: skip
    return post_ciphertext(WebhookTarget(url, SECRET), "msg_1", body, EXTRA, policy, **kwargs)


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_delivery_is_signed_and_exact(serve, tmp_path: Path, as_path: bool) -> None:
    server = serve(200)
    body = bytes(range(256)) * 1000
    source = tmp_path / "blob.age"
    source.write_bytes(body)
    outcome = post(f"http://127.0.0.1:{server.port}/hook?t=1", source if as_path else body)
    assert outcome == Outcome(True, False, "")
    [(path, headers, received)] = server.requests
    assert path == "/hook?t=1" and received == body
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["content-type"] == "application/octet-stream"
    assert headers["user-agent"] == "reporting-worker"
    assert headers["content-length"] == str(len(body))
    assert {k: headers[k] for k in EXTRA} == EXTRA
    webhooks.verify(SECRET, headers["webhook-id"], headers["webhook-timestamp"],
                    headers["webhook-signature"], received, now=time.time())  # fmt: skip


def test_timestamp_comes_from_now(serve) -> None:
    server = serve(204)
    assert post(f"http://127.0.0.1:{server.port}/", now=lambda: 1700000000.7).delivered
    assert server.requests[0][1]["webhook-timestamp"] == "1700000000"


@pytest.mark.parametrize(
    ("status", "delivered", "retryable"),
    [(201, True, False), (409, True, False), (500, False, True), (503, False, True),
     (429, False, True), (400, False, False), (404, False, False), (413, False, False)],
)  # fmt: skip
def test_status_outcomes(serve, status: int, delivered: bool, retryable: bool) -> None:
    server = serve(status)
    outcome = post(f"http://127.0.0.1:{server.port}/x?token=hidden")
    assert (outcome.delivered, outcome.retryable) == (delivered, retryable)
    assert outcome.error == ("" if delivered else f"HTTP {status}")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_refused_and_not_followed(serve, status: int) -> None:
    elsewhere = serve(200)
    server = serve(status, {"Location": f"http://127.0.0.1:{elsewhere.port}/steal"})
    outcome = post(f"http://127.0.0.1:{server.port}/")
    assert outcome == Outcome(False, False, f"redirect refused (HTTP {status})")
    assert len(server.requests) == 1 and elsewhere.requests == []


@pytest.mark.slow
def test_a_large_answer_is_read_only_so_far(monkeypatch: pytest.MonkeyPatch, serve) -> None:
    server = serve(200)
    monkeypatch.setattr(webhook, "RESPONSE_LIMIT", 1)
    assert post(f"http://127.0.0.1:{server.port}/").delivered


@pytest.mark.slow
def test_a_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts in the kernel, never answers
        policy = WebhookPolicy(1, 0.5, LOOPBACK.allowed_networks)
        started = time.monotonic()
        outcome = post(f"http://127.0.0.1:{listener.getsockname()[1]}/", policy=policy)
        assert outcome == Outcome(False, True, "timeout")
        assert time.monotonic() - started < 0.5 + 1.5


def test_a_closed_port_is_refused_and_retryable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert post(f"http://127.0.0.1:{port}/") == Outcome(False, True, "connection refused")


def test_loopback_needs_the_policy(serve) -> None:
    server = serve(200)
    for host in ("127.0.0.1", "2130706433", "0x7f.1"):  # spellings resolve first
        outcome = post(f"http://{host}:{server.port}/", policy=WebhookPolicy())
        refused = "address 127.0.0.1 is private (not in REPORTING_WEBHOOK_ALLOWED_NETWORKS)"
        assert outcome == Outcome(False, False, refused), host
    assert server.requests == []


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "[::1]", "[fe80::1]", "0.0.0.0",
     "0.1.2.3", "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "[::ffff:127.0.0.1]",
     "[::ffff:10.0.0.1]", "[2002:7f00:1::]", "[64:ff9b::a00:1]", "[fc00::1]", "[::]"],
)  # fmt: skip
@pytest.mark.parametrize("policy", [WebhookPolicy(), LOOPBACK], ids=["default", "loopback-ok"])
def test_private_addresses_are_refused_unconnected(no_connect, host: str, policy) -> None:
    outcome = post(f"http://{host}:8080/hook", policy=policy)
    assert (outcome.delivered, outcome.retryable) == (False, False)
    assert outcome.error.startswith("address ") and " is private (" in outcome.error
    assert no_connect == []


def test_metadata_address_is_refused_even_when_allowed(no_connect) -> None:
    policy = WebhookPolicy(allowed_networks=(ipaddress.ip_network("169.254.0.0/16"),))
    error = post("http://169.254.169.254/latest", policy=policy).error
    assert error == "address 169.254.169.254 is private (cloud metadata)"
    assert no_connect == []


def test_a_name_resolving_privately_is_refused(monkeypatch, no_connect) -> None:
    fake_dns(monkeypatch, "ngo.example", "10.1.2.3")
    assert post("https://ngo.example/hook").error == (
        "address 10.1.2.3 is private (not in REPORTING_WEBHOOK_ALLOWED_NETWORKS)"
    )
    assert no_connect == []


def test_dns_rebinding_connects_to_the_checked_address(monkeypatch, no_connect) -> None:
    asked = fake_dns(monkeypatch, "ngo.example", "93.184.216.34", "127.0.0.1")
    outcome = post("http://ngo.example:8080/hook")
    assert outcome == Outcome(False, True, "connection refused")
    assert asked == ["ngo.example"] and no_connect == [("93.184.216.34", 8080)]


@pytest.mark.parametrize(
    ("url", "error"),
    [("ftp://ngo.example/x", "scheme refused"), ("file:///etc/passwd", "scheme refused"),
     ("http://user:pass@ngo.example/", "credentials in URL refused"),
     ("http://@ngo.example/", "credentials in URL refused"), ("http:///x", "invalid URL"),
     ("http://ngo.example:99999/", "invalid URL"), (f"http://{'a' * 64}.example/", "invalid URL"),
     ("http://ngo.example/a b", "invalid URL")],
)  # fmt: skip
def test_bad_urls_are_refused(no_connect, url: str, error: str) -> None:
    assert post(url) == Outcome(False, False, error)
    assert no_connect == []


@pytest.mark.parametrize(
    "extra",
    [{"x-reporting-kind": "a\r\nInjected: 1"}, {"x-reporting-kind": "a\nb"},
     {"x-bad\r\nname": "1"}, {"Host": "evil.example"}, {"webhook-signature": "v1,forged"}],
)  # fmt: skip
def test_bad_headers_are_refused(serve, extra: dict[str, str]) -> None:
    server = serve(200)
    target = WebhookTarget(f"http://127.0.0.1:{server.port}/", SECRET)
    outcome = post_ciphertext(target, "msg_1", b"x", extra, LOOPBACK)
    assert outcome == Outcome(False, False, "invalid header")
    assert server.requests == []


def test_a_bad_secret_is_refused(serve) -> None:
    server = serve(200)
    target = WebhookTarget(f"http://127.0.0.1:{server.port}/", "whsec_short")
    assert post_ciphertext(target, "m", b"x", {}, LOOPBACK).error == "invalid webhook secret"


def test_logs_leave_out_path_and_query(serve, caplog: pytest.LogCaptureFixture) -> None:
    server = serve(500)
    with caplog.at_level(logging.DEBUG, logger="worker.channels.webhook"):
        post(f"http://127.0.0.1:{server.port}/path-secret?token=query-secret")
    assert "HTTP 500" in caplog.text and "secret" not in caplog.text


def tls_server_context(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for `name`, and a server context that presents it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_a_self_signed_server_is_a_tls_error(serve, tmp_path: Path, monkeypatch) -> None:
    context, _ = tls_server_context(tmp_path, "ngo.example")
    server = serve(200, tls=context)
    fake_dns(monkeypatch, "ngo.example", "127.0.0.1")
    outcome = post(f"https://ngo.example:{server.port}/")
    assert outcome == Outcome(False, False, "TLS error (certificate)")
    assert server.requests == []


@pytest.mark.parametrize(("name", "delivered"), [("ngo.example", True), ("other.example", False)])
def test_tls_verifies_the_original_name(serve, tmp_path, monkeypatch, name, delivered) -> None:
    """Connecting to the checked address still verifies the certificate for the URL's name."""
    context, cert_file = tls_server_context(tmp_path, name)
    server = serve(200, tls=context)
    fake_dns(monkeypatch, "ngo.example", "127.0.0.1")
    trusting = ssl.create_default_context(cafile=str(cert_file))
    monkeypatch.setattr(ssl, "create_default_context", lambda: trusting)
    outcome = post(f"https://ngo.example:{server.port}/hook")
    assert outcome.delivered is delivered and len(server.requests) == int(delivered)
    if delivered:
        assert server.requests[0][1]["Host"] == f"ngo.example:{server.port}"

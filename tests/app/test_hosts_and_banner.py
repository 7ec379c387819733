"""The service names no software in its responses, and where the deployment names its host
names (REPORTING_ALLOWED_HOSTS) a request for any other gets a 400."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from reporting import create_app
from reporting.infra.config import ALLOWED_HOSTS_VAR, load_allowed_hosts
from reporting.web.serve import QuietRequestHandler

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


@contextmanager
def dev_server(app: Flask) -> Iterator[int]:
    """The development server of `make run`, with its own request handler, on a free port."""
    server = make_server("127.0.0.1", 0, app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.slow
def test_the_development_server_sends_no_server_banner(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": tmp_path / "instance"})
    with (
        dev_server(app) as port,
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response,
    ):
        assert response.status == 200
        assert response.headers.get("Server") is None
        banner = str(response.headers)
    assert "Werkzeug" not in banner and "Python" not in banner


def hosts_app(tmp_path: Path, hosts: tuple[str, ...]) -> Flask:
    return create_app(
        {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "ALLOWED_HOSTS": hosts}
    )


@pytest.mark.parametrize("host", [ONION, "127.0.0.1", "127.0.0.1:8000"])
def test_the_configured_host_names_are_answered(tmp_path: Path, host: str) -> None:
    client = hosts_app(tmp_path, (ONION, "127.0.0.1")).test_client()
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("POST", "/report"), ("GET", "/api/v1/organisation")]
)
@pytest.mark.parametrize("host", ["evil.example", f"{ONION}.evil.example", "localhost"])
def test_any_other_host_name_gets_a_400(tmp_path: Path, method: str, path: str, host: str) -> None:
    client = hosts_app(tmp_path, (ONION, "127.0.0.1")).test_client()
    response = client.open(path, method=method, headers={"Host": host})
    assert response.status_code == 400
    assert "does not answer to that host name" in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Onion-Location" not in response.headers


def test_without_the_setting_any_host_is_answered(tmp_path: Path) -> None:
    client = hosts_app(tmp_path, ()).test_client()
    assert client.get("/", headers={"Host": "anything.example"}).status_code == 200


def test_the_setting_is_read_and_checked() -> None:
    assert load_allowed_hosts({ALLOWED_HOSTS_VAR: f" {ONION.upper()}, 127.0.0.1 ,,"}) == (
        ONION,
        "127.0.0.1",
    )
    assert load_allowed_hosts({}) == ()
    for wrong in (f"http://{ONION}", "127.0.0.1:8000"):
        with pytest.raises(RuntimeError, match=ALLOWED_HOSTS_VAR):
            load_allowed_hosts({ALLOWED_HOSTS_VAR: wrong})


def test_a_request_the_development_server_cannot_read_gets_our_page(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": tmp_path / "instance"})
    with dev_server(app) as port, socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        too_long = b"X-Filler: " + b"x" * 70_000  # over the standard library's line limit
        sock.sendall(b"GET /report?canary-4b2f HTTP/1.1\r\n" + too_long + b"\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.decode("utf-8").partition("\r\n\r\n")
    assert head.split(" ", 2)[1].startswith("4"), head
    assert "Server:" not in head
    assert "This request could not be read, so nothing was stored." in body
    assert "canary-4b2f" not in answer.decode("utf-8")

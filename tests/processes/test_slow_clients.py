"""Slow clients cannot take the portal down (issue 11 §2), under gunicorn with the shipped
config: hundreds of connections trickling a byte every two seconds, in the request head or
in a POST body, hold no thread; honest reporters still get pages and send reports; the
trickling connections are closed. Real sockets against a real gunicorn; no timing asserts
beyond generous timeouts."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting import create_app
from reporting.infra import migrate
from tests.support.portal import add_caseworker, file_part, multipart, report_fields
from tests.support.processes import ROOT, Process, Processes, clean_environ, free_port
from tests.support.tools import require_module

CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
SLOW_CONNECTIONS = 200
PATIENCE = 60.0  # seconds: generous, only so that a broken server fails instead of hanging


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Process, int]]:
    """gunicorn with deploy/gunicorn.conf.py on a SQLite instance with one organisation."""
    require_module("gunicorn")
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": instance})
    migrate.upgrade(app.config["SETTINGS"].database_url)
    add_caseworker(app)
    port = free_port()
    processes = Processes(tmp_path / "logs")
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "-b", f"127.0.0.1:{port}",
        "--workers", "1", "reporting:create_app()",
    ]  # fmt: skip
    process = processes.start(
        "gunicorn", command, clean_environ(REPORTING_INSTANCE_PATH=str(instance))
    )
    try:
        process.wait_for_port(port)
        yield process, port
    finally:
        processes.stop_all()
        print(processes.tails())


class Trickle:
    """Connections that each send one byte every two seconds until the server closes them."""

    def __init__(self, port: int, opening: bytes, count: int = SLOW_CONNECTIONS) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(opening)
            sock.setblocking(False)
        self.closed: set[int] = set()
        self.replies: dict[int, bytes] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for index, sock in enumerate(self.sockets):
                if index not in self.closed:
                    self._poke(index, sock)
            self._stop.wait(2)

    def _poke(self, index: int, sock: socket.socket) -> None:
        try:
            reply = sock.recv(4096)
        except BlockingIOError:
            reply = None
        except OSError:
            reply = b""
        if reply:
            self.replies[index] = self.replies.get(index, b"") + reply
            return
        if reply == b"":
            self.closed.add(index)
            return
        try:
            sock.send(b"x")
        except OSError:
            self.closed.add(index)

    def wait_all_closed(self) -> None:
        deadline = time.monotonic() + PATIENCE
        while len(self.closed) < len(self.sockets) and time.monotonic() < deadline:
            time.sleep(0.5)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def journey(port: int) -> str:
    """An honest reporter: the start page, the form, a report with a file; the codename."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base}/healthz", timeout=PATIENCE) as response:
        assert response.status == 200
    with opener.open(f"{base}/", timeout=PATIENCE) as response:
        assert response.status == 200
    with opener.open(f"{base}/report", timeout=PATIENCE) as response:
        form = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token, "no CSRF token"
    body, content_type = multipart(
        {
            "csrf_token": token.group(1),
            **report_fields(),
            "attachments": file_part(b"p" * 200_000, "photo.jpg", "image/jpeg"),
        }
    )
    request = urllib.request.Request(
        f"{base}/report", data=body, headers={"Content-Type": content_type}, method="POST"
    )
    with opener.open(request, timeout=PATIENCE) as response:
        page = response.read().decode()
        assert response.status == 200
    codename = re.search(r'id="codename"[^>]*>\s*([^<]+?)\s*<', page)
    assert codename, "no codename on the page"
    return codename.group(1)


SLOW_HEAD = b"GET /report HTTP/1.1\r\nHost: x\r\n"
SLOW_BODY = (
    b"POST /report HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b"Content-Length: 100000\r\n\r\n--b\r\n"
)


@pytest.mark.parametrize("opening", [SLOW_HEAD, SLOW_BODY], ids=["in-the-head", "in-the-body"])
def test_honest_reporters_are_served_while_slow_clients_trickle(
    server: tuple[Process, int], opening: bytes
) -> None:
    process, port = server
    trickle = Trickle(port, opening)
    try:
        time.sleep(3)  # every slow connection is open and has trickled
        assert len(trickle.closed) < SLOW_CONNECTIONS  # still open while reporters come
        codenames = [journey(port) for _ in range(3)]
        assert len(set(codenames)) == 3
        trickle.wait_all_closed()
        assert len(trickle.closed) == SLOW_CONNECTIONS, "slow connections were left open"
    finally:
        trickle.stop()
    told = [reply for reply in trickle.replies.values() if b" 408 " in reply.split(b"\r\n")[0]]
    assert len(told) == SLOW_CONNECTIONS
    assert process.running()


def test_body_that_slows_down_after_its_start_gets_a_readable_408(
    server: tuple[Process, int],
) -> None:
    _, port = server
    head = (
        b"POST /report HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 5000000\r\n\r\n--b\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head + b"x" * 100_000)  # a fast start, past what the main loop waits for
    sock.settimeout(2)
    reply = b""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            try:
                sock.send(b"x")  # then one byte every two seconds
            except OSError:
                break
            continue
        except OSError:
            break
        if not chunk:
            break
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert b"arrived too slowly" in reply
    assert b"Nothing was stored" in reply

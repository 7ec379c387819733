"""Under gunicorn with deploy/gunicorn.conf.py: no access log, no client address, no banner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.processes import free_port, get_when_up
from tests.support.tools import require_module

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def test_gunicorn_writes_no_access_log_and_no_client_address(tmp_path: Path) -> None:
    require_module("gunicorn")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")},
        "REPORTING_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "-b", f"127.0.0.1:{port}",
        "--workers", "1", "reporting:create_app()",
    ]  # fmt: skip
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as server:
        try:
            get_when_up(f"http://127.0.0.1:{port}/healthz", server)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/report",
                headers={"User-Agent": "UA-canary-5c2e", "X-Forwarded-For": "198.51.100.9"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                assert response.headers.get("Server") is None  # no banner at all
            time.sleep(0.5)
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=20)

    assert "Booting worker" in output  # the error log was captured
    for leaked in ("GET /", "/report", "UA-canary-5c2e", "198.51.100.9", '" 200 '):
        assert leaked not in output


def test_a_request_gunicorn_cannot_read_gets_our_page(tmp_path: Path) -> None:
    """A broken request line never reaches the app: gunicorn answers it, with our page (in
    every language, saying nothing was stored) instead of its own, which quotes the request."""
    require_module("gunicorn")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")},
        "REPORTING_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "-b", f"127.0.0.1:{port}",
        "--workers", "1", "reporting:create_app()",
    ]  # fmt: skip
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as server:
        try:
            get_when_up(f"http://127.0.0.1:{port}/healthz", server)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"GET /report?canary-7d1e HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        finally:
            server.terminate()
            server.wait(timeout=20)

    head, _, body = answer.decode("utf-8").partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400 ")
    assert "Content-Security-Policy: default-src 'none'" in head
    assert "This request could not be read, so nothing was stored." in body
    assert "没有保存任何内容" in body and "沒有儲存任何內容" in body  # in Chinese as well
    assert "canary-7d1e" not in answer.decode("utf-8")

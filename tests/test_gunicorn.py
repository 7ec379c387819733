"""Under gunicorn with deploy/gunicorn.conf.py: no access log, no client address, no banner."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_health import _free_port, _get_when_up

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def test_gunicorn_writes_no_access_log_and_no_client_address(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    port = _free_port()
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
            _get_when_up(f"http://127.0.0.1:{port}/healthz", server)
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

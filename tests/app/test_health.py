"""The health check answers, the secret key persists privately, and no access log is written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from reporting import create_app
from reporting.infra.config import CODENAME_SALT_FILE, SECRET_KEY_FILE, SECRET_KEY_VAR
from tests.support.processes import free_port, get_when_up


def test_healthz_returns_ok_json(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}


def test_secret_key_is_generated_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_VAR, raising=False)
    instance = tmp_path / "instance"

    first = create_app({"INSTANCE_PATH": instance})
    key_file = instance / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == key_file.read_text().strip()

    salt_file = instance / CODENAME_SALT_FILE
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(salt_file.read_text().strip())) == 32

    second = create_app({"INSTANCE_PATH": instance})
    assert second.secret_key == first.secret_key
    assert second.config["SETTINGS"].codename_salt == first.config["SETTINGS"].codename_salt
    names = sorted(p.name for p in instance.iterdir())
    assert names == ["blobs", CODENAME_SALT_FILE, SECRET_KEY_FILE]


def test_secret_key_from_environment_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_VAR, "operator-supplied")
    app = create_app({"INSTANCE_PATH": tmp_path / "instance"})
    assert app.secret_key == "operator-supplied"
    assert not (tmp_path / "instance" / SECRET_KEY_FILE).exists()


def test_instance_folder_defaults_to_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPORTING_INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app()
    assert app.instance_path == str(tmp_path / "instance")
    assert app.debug is False


@pytest.mark.slow
def test_dev_server_writes_no_access_log(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "REPORTING_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "reporting"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as server:
        try:
            body = get_when_up(f"http://127.0.0.1:{port}/healthz", server)
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=10)

    assert b'"status"' in body
    assert f"127.0.0.1:{port}" in output  # the start-up banner was captured
    assert "127.0.0.1 -" not in output
    assert "GET /healthz" not in output

"""The NGO's reference receiver: signatures checked, each delivery stored exactly once."""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from crypto import webhooks
from receiver.app import make_app
from receiver.cli import main
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_700_000_000
BODY = b"age-encryption.org/v1\n-> X25519 canary-ciphertext-7f3a\n"


def signed(
    message_id: str,
    body: bytes = BODY,
    *,
    secret: str = SECRET,
    at: int = NOW,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers, plus any extra ones."""
    return {**webhooks.headers(secret, message_id, at, body), **(extra or {})}


def client_for(store: Path, **options: object) -> Client:
    return Client(make_app(store, SECRET, clock=lambda: NOW, **options))  # type: ignore[arg-type]


def stored(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir())


def test_spec_example_signature() -> None:
    body = b'{"test": 2432232314}'
    signature = webhooks.sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_valid_delivery_is_stored_once_with_metadata(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    extra = {
        "x-reporting-report": "r_1",
        "x-reporting-message": "m_2",
        "x-reporting-kind": "attachment",
        "x-reporting-part": "3",
        "x-reporting-organisation": "ngo-a",
    }
    response = client.post("/", data=BODY, headers=signed("msg_1", extra=extra))
    assert (response.status_code, response.text) == (200, "stored")
    assert stored(tmp_path) == ["msg_1.age", "msg_1.json"]
    assert (tmp_path / "msg_1.age").read_bytes() == BODY
    metadata = json.loads((tmp_path / "msg_1.json").read_text())
    assert metadata == {"webhook-id": "msg_1", "timestamp": NOW, **extra}
    assert stat.S_IMODE((tmp_path / "msg_1.age").stat().st_mode) == 0o600

    again = client.post("/", data=BODY, headers=signed("msg_1"))
    assert (again.status_code, again.text) == (409, "already received")
    assert stored(tmp_path) == ["msg_1.age", "msg_1.json"]
    assert json.loads((tmp_path / "msg_1.json").read_text()) == metadata


def test_replay_with_different_body_is_409_and_warns_without_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(tmp_path)
    assert client.post("/", data=BODY, headers=signed("msg_1")).status_code == 200
    other = b"other-ciphertext-91bd"
    with caplog.at_level(logging.INFO, logger="receiver"):
        response = client.post("/", data=other, headers=signed("msg_1", other))
    assert response.status_code == 409
    assert (tmp_path / "msg_1.age").read_bytes() == BODY
    assert any(r.levelno == logging.WARNING and "msg_1" in r.getMessage() for r in caplog.records)
    assert "91bd" not in caplog.text and "canary" not in caplog.text


def test_concurrent_duplicates_store_one(tmp_path: Path) -> None:
    app = make_app(tmp_path, SECRET, clock=lambda: NOW)
    barrier, statuses = threading.Barrier(20), []

    def post() -> None:
        barrier.wait()
        statuses.append(Client(app).post("/", data=BODY, headers=signed("msg_race")).status_code)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 19
    assert stored(tmp_path) == ["msg_race.age", "msg_race.json"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({**signed("msg_1"), "webhook-signature": "v1,AAAA"}, 401),
        ({**signed("msg_1"), "webhook-signature": ""}, 401),
        ({k: v for k, v in signed("msg_1").items() if k != "webhook-signature"}, 401),
        ({k: v for k, v in signed("msg_1").items() if k != "webhook-timestamp"}, 400),
        ({k: v for k, v in signed("msg_1").items() if k != "webhook-id"}, 400),
        ({}, 400),
        (signed("msg_1", secret=webhooks.new_secret()), 401),
        (signed("msg_1", BODY + b"x"), 401),
        (signed("msg_1", at=NOW - 360), 400),
        (signed("msg_1", at=NOW + 360), 400),
        ({**signed("msg_1"), "webhook-timestamp": "soon"}, 400),
        ({**signed("msg_1"), "webhook-id": "msg_2"}, 401),
    ],
    ids=[
        "bad-sig",
        "empty-sig",
        "no-sig",
        "no-ts",
        "no-id",
        "none",
        "wrong-secret",
        "other-body",
        "stale",
        "future",
        "ts-not-int",
        "id-swapped",
    ],
)
def test_bad_deliveries_store_nothing(tmp_path: Path, headers: dict[str, str], status: int) -> None:
    response = client_for(tmp_path).post("/", data=BODY, headers=headers)
    assert response.status_code == status
    assert stored(tmp_path) == []


def test_signature_list_with_one_valid_entry(tmp_path: Path) -> None:
    headers = signed("msg_1")
    headers["webhook-signature"] = f"v1,AAAA v2,xyz {headers['webhook-signature']} v1,!!"
    assert client_for(tmp_path).post("/", data=BODY, headers=headers).status_code == 200


@pytest.mark.parametrize("bad_id", ["../x", "a/b", ".hidden", "..", "a" * 129, "é", "a b"])
def test_bad_ids_refused(tmp_path: Path, bad_id: str) -> None:
    headers = signed("msg_1")
    headers["webhook-id"] = bad_id
    assert client_for(tmp_path).post("/", data=BODY, headers=headers).status_code == 400
    assert stored(tmp_path) == []


def test_body_over_limit_is_413(tmp_path: Path) -> None:
    client = client_for(tmp_path, max_body_bytes=len(BODY) - 1)
    assert client.post("/", data=BODY, headers=signed("msg_1")).status_code == 413
    assert stored(tmp_path) == []


def test_other_paths_and_methods(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    assert client.get("/").status_code == 405
    assert client.post("/x", data=BODY, headers=signed("msg_1")).status_code == 404
    assert stored(tmp_path) == []


def test_fail_injection_answers_500_before_storing(tmp_path: Path) -> None:
    client = client_for(tmp_path, fail_rate=1.0, rng=random.Random(1))
    assert client.post("/", data=BODY, headers=signed("msg_1")).status_code == 500
    assert stored(tmp_path) == []
    half = client_for(tmp_path, fail_rate=0.5, rng=random.Random(7))
    codes = [half.post("/", data=BODY, headers=signed(f"m{i}")).status_code for i in range(40)]
    assert 5 < codes.count(500) < 35 and codes.count(200) == 40 - codes.count(500)


def test_hang_injection_sleeps_before_storing(tmp_path: Path) -> None:
    seen: list[tuple[float, list[str]]] = []
    client = client_for(
        tmp_path,
        hang_rate=1.0,
        hang_seconds=30.0,
        rng=random.Random(1),
        sleep=lambda s: seen.append((s, stored(tmp_path))),
    )
    assert client.post("/", data=BODY, headers=signed("msg_1")).status_code == 200
    assert seen == [(30.0, [])]
    assert stored(tmp_path) == ["msg_1.age", "msg_1.json"]


def test_cli_refuses_a_readable_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o644)
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "s"), "--secret-file", str(secret_file)]
    )
    assert result.exit_code != 0
    assert "chmod 600" in result.output
    assert not (tmp_path / "s").exists()


def test_cli_new_secret_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    result = CliRunner().invoke(main, ["--new-secret", str(path)])
    assert result.exit_code == 0, result.output
    secret = path.read_text().strip()
    assert secret.startswith("whsec_") and secret in result.output
    assert len(webhooks.decode_secret(secret)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = CliRunner().invoke(main, ["--new-secret", str(path)])
    assert again.exit_code != 0 and "already exists" in again.output
    assert path.read_text().strip() == secret


@pytest.mark.slow
def test_cli_serves_without_access_log(tmp_path: Path) -> None:
    secret_file, store, port = tmp_path / "secret", tmp_path / "store", free_port()
    assert CliRunner().invoke(main, ["--new-secret", str(secret_file)]).exit_code == 0
    secret = secret_file.read_text().strip()
    command = [
        sys.executable,
        "-m",
        "receiver",
        "--store",
        str(store),
        "--secret-file",
        str(secret_file),
        "--port",
        str(port),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as server:
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = webhooks.headers(secret, "msg_live", int(time.time()), BODY)
            connection.request("POST", "/", body=BODY, headers=headers)
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"stored")
            assert response.getheader("Server") == "receiver"
            connection.close()
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=20)
    assert (store / "msg_live.age").read_bytes() == BODY
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert str(store.resolve()) in output and "msg_live: 200 stored" in output
    for leaked in ("canary", "age-encryption", "POST /", "HTTP/1.1", "127.0.0.1 -", '" 200 '):
        assert leaked not in output

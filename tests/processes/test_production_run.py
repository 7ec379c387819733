"""A production-like run, all on loopback: gunicorn with deploy/gunicorn.conf.py, PostgreSQL,
Redis with deploy/redis/'s configuration (ACL user and password, no persistence), and the
Celery worker and beat started as their systemd units start them. One report goes through
the portal and reaches the NGO's webhook; `flask doctor` finds nothing unsafe; everything
stops cleanly."""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

import crypto
from reporting import create_app
from reporting.infra import db
from reporting.models import Delivery, DeliveryState, Report
from tests.support.delivery_fixtures import RunningReceiver, add_webhook, running_receiver
from tests.support.deploy import DEPLOY, env_example, exec_start
from tests.support.portal import (
    NARRATIVE,
    Caseworker,
    add_caseworker,
    file_part,
    multipart,
    report_fields,
)
from tests.support.processes import Process, Processes, clean_environ, free_port
from tests.support.tools import require_tool

# A well-formed v3 address (version byte 3); nothing listens on it, the app only names it.
ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
EVIDENCE = b"photo of the summons " * 5000  # ~100 KB: over Werkzeug's in-memory limit
FAST_DELIVERY = {
    "REPORTING_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "REPORTING_DELIVERY_BACKOFF_SECONDS": "0.5",
    "REPORTING_DELIVERY_CONNECT_TIMEOUT": "2",
    "REPORTING_DELIVERY_READ_TIMEOUT": "5",
    "REPORTING_SWEEP_INTERVAL_SECONDS": "2",
}


def with_umask(command: list[str]) -> list[str]:
    """Run as the units do (UMask=0077), so what the service creates is private."""
    return ["sh", "-c", 'umask 077 && exec "$@"', "sh", *command]


def start_redis(processes: Processes, tmp_path: Path, password: str) -> int:
    """redis-server with deploy/redis/reporting.conf and users.acl (its password filled in);
    only the port, the folder and the ACL file's path differ from production."""
    acl = tmp_path / "users.acl"
    text = (DEPLOY / "redis" / "users.acl").read_text(encoding="utf-8")
    acl.write_text(text.replace("CHANGE-ME", password), encoding="utf-8")
    folder = tmp_path / "redis"
    folder.mkdir()
    port = free_port()
    binary = require_tool("redis-server")
    command = [
        binary, str(DEPLOY / "redis" / "reporting.conf"), "--port", str(port),
        "--dir", str(folder), "--aclfile", str(acl), "--daemonize", "no", "--logfile", "",
    ]  # fmt: skip
    processes.start("redis", command, clean_environ()).wait_for_port(port)
    return port


def service_env(instance: Path, postgres_url: str, redis_url: str) -> dict[str, str]:
    """deploy/env.example's settings with this machine's values in place of its placeholders."""
    active, _ = env_example()
    settings = {
        **active,
        "REPORTING_INSTANCE_PATH": str(instance),
        "REPORTING_DATABASE_URL": postgres_url,
        "REPORTING_REDIS_URL": redis_url,
        "REPORTING_ONION_ADDRESS": ONION,
        # Tor would forward with the onion's name; the test reaches the ports as 127.0.0.1.
        "REPORTING_ALLOWED_HOSTS": f"{ONION},127.0.0.1",
        **FAST_DELIVERY,
    }
    return clean_environ(**settings)


def start_services(
    processes: Processes, env: dict[str, str], instance: Path
) -> tuple[int, int, list[Process]]:
    """The three units' commands; gunicorn gets free ports instead of 8000 and 8001."""
    reporter_port, caseworker_port = free_port(), free_port()
    web = exec_start("reporting-web.service")
    web[1:1] = ["-b", f"127.0.0.1:{reporter_port}", "-b", f"127.0.0.1:{caseworker_port}"]
    started = []
    for name, command in (
        ("web", web),
        ("worker", exec_start("reporting-worker.service")),
        ("beat", exec_start("reporting-beat.service")),
    ):
        started.append(processes.start(name, with_umask(command), env, cwd=instance))
    started[0].wait_for_port(reporter_port, timeout=60)
    started[0].wait_for_port(caseworker_port, timeout=60)
    return reporter_port, caseworker_port, started


def submit_over_http(port: int) -> str:
    """GET the form for its CSRF token (in the session cookie), POST a report with a file;
    return the page that shows the codename."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/report", timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form
    )
    assert token, "no CSRF token on /report"
    fields = report_fields(attachments=[file_part(EVIDENCE, "summons.jpg", "image/jpeg")])
    body, content_type = multipart({"csrf_token": token.group(1), **fields})
    request = urllib.request.Request(
        f"{base}/report", data=body, headers={"Content-Type": content_type}, method="POST"
    )
    with opener.open(request, timeout=60) as response:
        assert response.status == 200
        return response.read().decode()


def status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_deliveries(app: Flask, timeout: float = 60) -> list[Delivery]:
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context(), db.database().transaction() as session:
            rows = list(session.scalars(select(Delivery)))
        if rows and all(row.state == DeliveryState.DELIVERED for row in rows):
            return rows
        assert time.monotonic() < deadline, [(r.state, r.last_error) for r in rows]
        time.sleep(0.2)


def check_delivered(
    app: Flask, receiver: RunningReceiver, caseworker: Caseworker, rows: list[Delivery]
) -> None:
    """The NGO holds the stored ciphertext of each delivery, and its key reads the report."""
    stored = receiver.stored()
    assert set(stored) == {row.idempotency_id for row in rows}
    blobs = app.extensions["blobs"]
    plaintexts = []
    for row in rows:
        assert stored[row.idempotency_id] == blobs.path(row.blob_id).read_bytes()
        plaintexts.append(crypto.decrypt(stored[row.idempotency_id], [caseworker.identity]))
    documents = [json.loads(p) for p in plaintexts if p.startswith(b'{"')]
    assert [d["narrative"] for d in documents] == [NARRATIVE]
    assert any(p.startswith(EVIDENCE) for p in plaintexts)  # the file (padded after its size)


def check_redis_is_locked(port: int, password: str) -> None:
    """No login without the password; the service's user cannot reconfigure Redis."""
    with (
        redis.Redis(port=port, socket_timeout=5) as anonymous,
        pytest.raises(redis.AuthenticationError),
    ):
        anonymous.ping()
    with redis.Redis(port=port, username="reporting", password=password) as service:
        assert service.ping()
        with pytest.raises(redis.exceptions.NoPermissionError):
            service.config_get("dir")


def run_doctor(env: dict[str, str], instance: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flask", "--app", "reporting", "doctor"]
    command += ["--gunicorn-config", str(DEPLOY / "gunicorn.conf.py")]
    return subprocess.run(
        command, cwd=instance, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_report_goes_from_the_portal_to_the_ngo(
    tmp_path: Path, postgres_url: str, processes: Processes
) -> None:
    instance = tmp_path / "instance"
    (instance / "blobs").mkdir(mode=0o700, parents=True)
    instance.chmod(0o700)
    password = secrets.token_hex(32)
    redis_port = start_redis(processes, tmp_path, password)
    redis_url = f"redis://reporting:{password}@127.0.0.1:{redis_port}/0"
    check_redis_is_locked(redis_port, password)

    # The operator's side, in this process: an organisation, its caseworker's key, a webhook.
    app = create_app(
        {"INSTANCE_PATH": instance, "DATABASE_URL": postgres_url, "REDIS_URL": redis_url}
    )
    caseworker = add_caseworker(app)
    env = service_env(instance, postgres_url, redis_url)
    with running_receiver(tmp_path / "received") as receiver:
        add_webhook(app, caseworker.organisation_name, receiver)
        reporter_port, caseworker_port, services = start_services(processes, env, instance)

        page = submit_over_http(reporter_port)
        assert 'id="codename"' in page
        with app.app_context(), db.database().transaction() as session:
            assert len(session.scalars(select(Report)).all()) == 1
        rows = wait_for_deliveries(app)
        assert len(rows) == 2  # the document and the file
        check_delivered(app, receiver, caseworker, rows)

        # The caseworker side exists only on the caseworker onion's address.
        assert status(reporter_port, "/casework/login") == 404
        assert status(reporter_port, "/api/v1/me") == 404
        assert status(caseworker_port, "/api/v1/me") == 401  # there, it asks for a token
        assert status(caseworker_port, "/casework/login") == 200
        assert status(caseworker_port, "/report") == 200

        doctor = run_doctor(env, instance)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "UNSAFE" not in doctor.stdout

        for service in reversed(services):
            service.stop(timeout=30)
            assert service.popen.returncode == 0, service.output()[-3000:]
            assert "Traceback" not in service.output()

    web_log = services[0].output()
    assert "Booting worker" in web_log
    assert "Control socket" not in web_log
    for leaked in ("/report", "POST", '" 200 ', NARRATIVE[:30]):
        assert leaked not in web_log
    processes.started[0].stop()  # Redis: with no persistence, it leaves no file behind
    assert list((tmp_path / "redis").iterdir()) == []

"""Delivery with real processes: Redis, PostgreSQL, a Celery worker and beat, an NGO receiver.

The receiver fails and hangs at random, a worker is killed mid-delivery, Redis is down
while reports arrive: every report must still reach the NGO, and reach it exactly once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import crypto
from reporting import create_app
from reporting.infra import db
from reporting.infra.queue import EXTENSION as PRODUCER_EXTENSION
from reporting.infra.queue import send_deliveries
from reporting.intake.submissions import store_report
from reporting.models import Delivery, DeliveryState
from reporting.organisations.recipients import find_organisation, recipients_of
from tests.support.delivery_fixtures import RunningReceiver, add_webhook
from tests.support.portal import NARRATIVE, Caseworker, add_caseworker, submit_report
from tests.support.processes import ROOT, Process, Processes, RedisServer, clean_environ, free_port
from tests.support.tools import require_tool

REPORTS = 500
LOG_LINE = re.compile(r"delivery (\S+): (\d{3}) ")
WORKER_SETTINGS = {
    "REPORTING_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "REPORTING_DELIVERY_READ_TIMEOUT": "1",
    "REPORTING_DELIVERY_CONNECT_TIMEOUT": "1",
    "REPORTING_DELIVERY_BACKOFF_SECONDS": "0.2",
    "REPORTING_DELIVERY_BACKOFF_MAX_SECONDS": "2",
    "REPORTING_SWEEP_INTERVAL_SECONDS": "1",
    "REPORTING_DELIVERY_LEASE_SECONDS": "4",
    "REPORTING_DELIVERY_REQUEUE_SECONDS": "3",
    "REPORTING_DELIVERY_MAX_ATTEMPTS": "40",
}
UNFINISHED = (DeliveryState.PENDING, DeliveryState.FAILED)


@pytest.fixture
def redis_binary() -> str:
    return require_tool("redis-server")


@pytest.fixture
def redis(redis_binary: str, tmp_path: Path, processes: Processes) -> RedisServer:
    server = RedisServer(redis_binary, free_port(), tmp_path / "redis", processes)
    server.start()
    return server


@pytest.fixture
def make_app(tmp_path: Path, postgres_url: str) -> Iterator[Callable[[str], Flask]]:
    """The web app, in this process, on the instance folder the worker processes share."""
    apps: list[Flask] = []

    def make(redis_url: str) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": tmp_path / "instance",
                "DATABASE_URL": postgres_url,
                "REDIS_URL": redis_url,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        producer = app.extensions.get(PRODUCER_EXTENSION)
        if producer is not None:
            producer.close()  # its pooled broker connections


def worker_env(app: Flask) -> dict[str, str]:
    settings = app.config["SETTINGS"]
    return clean_environ(
        REPORTING_INSTANCE_PATH=str(settings.instance_path),
        REPORTING_DATABASE_URL=settings.database_url,
        REPORTING_REDIS_URL=settings.redis_url,
        **WORKER_SETTINGS,
    )


def start_worker(processes: Processes, app: Flask) -> Process:
    return processes.python(
        "worker",
        [
            "-m", "celery", "-A", "worker", "worker", "--pool", "threads", "--concurrency", "8",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
        worker_env(app),
    )  # fmt: skip


def start_beat(processes: Processes, app: Flask, tmp_path: Path) -> Process:
    schedule = str(tmp_path / "beat-schedule")
    return processes.python(
        "beat",
        ["-m", "celery", "-A", "worker", "beat", "--loglevel", "WARNING", "--schedule", schedule],
        worker_env(app),
    )


def start_receiver(
    processes: Processes, tmp_path: Path, *faults: str
) -> tuple[RunningReceiver, Process]:
    """`python -m receiver` with a secret made by its own --new-secret."""
    secret_file = tmp_path / "receiver-secret"
    subprocess.run(
        [sys.executable, "-m", "receiver", "--new-secret", str(secret_file)],
        cwd=ROOT,
        env=clean_environ(),
        check=True,
        capture_output=True,
    )
    port, store = free_port(), tmp_path / "received"
    process = processes.python(
        "receiver",
        [
            "-m", "receiver", "--store", str(store), "--secret-file", str(secret_file),
            "--port", str(port), *faults,
        ],
        clean_environ(),
    )  # fmt: skip
    process.wait_for_port(port)
    secret = secret_file.read_text(encoding="ascii").strip()
    return RunningReceiver(f"http://127.0.0.1:{port}/", secret, store), process


def stop_worker_and_beat(processes: Processes) -> None:
    """Stop them (warm shutdown), and check that neither logged an error on the way."""
    background = [p for p in processes.started if p.name in ("worker", "beat")]
    for process in background:
        process.stop()
    for process in background:
        assert "Traceback" not in process.output(), process.output()[-3000:]


def deliveries(app: Flask) -> list[Delivery]:
    with app.app_context(), db.database().transaction() as session:
        return list(session.scalars(select(Delivery)))


def state_counts(app: Flask) -> Counter[str]:
    with app.app_context(), db.database().transaction() as session:
        rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter({str(state): count for state, count in rows})


def wait_until_finished(
    app: Flask,
    expected: int,
    timeout: float,
    on_poll: Callable[[Counter[str]], None] = lambda _: None,
) -> Counter[str]:
    """Poll until `expected` deliveries exist and none is pending or failed."""
    start = time.monotonic()
    last_print = 0.0
    while True:
        counts = state_counts(app)
        on_poll(counts)
        elapsed = time.monotonic() - start
        unfinished = sum(counts[str(s)] for s in UNFINISHED)
        if elapsed - last_print >= 2:
            print(f"{elapsed:5.1f}s {dict(counts)}", flush=True)
            last_print = elapsed
        if sum(counts.values()) >= expected and unfinished == 0:
            return counts
        assert elapsed < timeout, f"deliveries unfinished after {timeout} s: {dict(counts)}"
        time.sleep(0.2)


def assert_stored_once(app: Flask, receiver: RunningReceiver, rows: list[Delivery]) -> None:
    """The receiver holds each delivery's id once, with exactly the stored ciphertext."""
    stored = receiver.stored()
    assert len(stored) == len(rows)
    assert set(stored) == {row.idempotency_id for row in rows}
    blobs = app.extensions["blobs"]
    for row in rows:
        assert stored[row.idempotency_id] == blobs.path(row.blob_id).read_bytes()


def read_report(body: bytes, caseworker: Caseworker) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(crypto.decrypt(body, [caseworker.identity]))
    assert (document["schema"], document["kind"]) == ("reporting/v2", "report")
    return document


def test_500_reports_delivered_exactly_once_through_failures_and_a_killed_worker(
    redis: RedisServer,
    tmp_path: Path,
    processes: Processes,
    make_app: Callable[[str], Flask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(redis.url)
    caseworker = add_caseworker(app)
    receiver, receiver_process = start_receiver(
        processes, tmp_path, "--fail-rate", "0.3", "--hang-rate", "0.05", "--hang-seconds", "3"
    )
    add_webhook(app, caseworker.organisation_name, receiver)

    # Only to make the test fast: the codename's Argon2id takes ~0.25 s per report, and what
    # is under test here is delivery, not codenames. Each report still gets its own lookup id.
    reporter = crypto.generate_identity()
    monkeypatch.setattr(
        "reporting.intake.submissions.derive_keys",
        lambda *_args, **_kwargs: crypto.CodenameKeys(
            lookup_id=secrets.token_hex(32), identity=reporter
        ),
    )

    numbers: dict[str, int] = {}  # report id → its number, written into its narrative
    workers: list[Process] = []
    killed: dict[str, int] = {}

    timeouts_seen: set[tuple[str, int]] = set()

    def watch(counts: Counter[str]) -> None:
        """Kill the worker once, when a third is delivered; note the timeouts on the way."""
        with app.app_context(), db.database().transaction() as session:
            # A hang outlasts the worker's read timeout; the failed row says "timeout" until
            # its next attempt is recorded, so polling sees most of them.
            rows = session.execute(
                select(Delivery.id, Delivery.attempts).where(Delivery.last_error == "timeout")
            )
            timeouts_seen.update((delivery_id, attempts) for delivery_id, attempts in rows)
            leased = session.scalar(select(func.count()).where(Delivery.lease_until.is_not(None)))
        if killed or counts[DeliveryState.DELIVERED] < REPORTS // 3:
            return
        workers[-1].kill()  # SIGKILL: no warm shutdown, no acks, leases left behind
        killed.update(delivered=counts[DeliveryState.DELIVERED], leased=leased or 0)
        print(f"killed the worker: {killed}", flush=True)
        workers.append(start_worker(processes, app))

    def submit(first: int, count: int) -> None:
        store = app.extensions["blobs"]
        salt = app.config["SETTINGS"].codename_salt
        with app.test_request_context():
            organisation = find_organisation(db.session(), caseworker.organisation_name)
            assert organisation is not None
            recipients = recipients_of(organisation)
            for number in range(first, first + count):
                fields = {
                    "narrative": f"{NARRATIVE} (report {number})",
                    "consent": "none",
                    "reply_language": "en",
                }
                receipt = store_report(
                    db.database(), store, organisation, recipients, fields, [], salt, "en"
                )
                numbers[receipt.report_id] = number
                send_deliveries(receipt.delivery_ids)  # as the view does, after the commit
                if workers and number % 10 == 0:
                    watch(state_counts(app))

    started = time.monotonic()
    # Some reports wait in Redis before any worker runs; the rest arrive while it works.
    submit(0, REPORTS // 5)
    workers.append(start_worker(processes, app))
    start_beat(processes, app, tmp_path)
    submit(REPORTS // 5, REPORTS - REPORTS // 5)
    print(f"submitted {REPORTS} reports in {time.monotonic() - started:.1f} s", flush=True)

    counts = wait_until_finished(app, REPORTS, timeout=150, on_poll=watch)
    print(f"all finished after {time.monotonic() - started:.1f} s: {dict(counts)}", flush=True)
    assert workers[-1].running()
    stop_worker_and_beat(processes)
    receiver_process.stop()

    rows = deliveries(app)
    assert killed, "the worker was never killed"
    assert len(rows) == REPORTS
    assert Counter(row.state for row in rows) == {DeliveryState.DELIVERED: REPORTS}
    assert_stored_once(app, receiver, rows)
    stored = receiver.stored()
    for row in rows[:: REPORTS // 20]:
        document = read_report(stored[row.idempotency_id], caseworker)
        assert document["narrative"].endswith(f"(report {numbers[row.report_id]})")

    answers = Counter(status for _id, status in LOG_LINE.findall(receiver_process.output()))
    ids_stored = [i for i, status in LOG_LINE.findall(receiver_process.output()) if status == "200"]
    attempts = sum(row.attempts for row in rows)
    print(
        f"attempts recorded {attempts}; receiver answers {dict(answers)}; "
        f"timeouts seen {len(timeouts_seen)}; kill {killed}",
        flush=True,
    )
    # The receiver said "stored" once per delivery, never twice for one id.
    assert sorted(ids_stored) == sorted(row.idempotency_id for row in rows)
    assert answers["500"] > 0  # injected failures were retried
    assert timeouts_seen  # hangs outlasted the read timeout and were retried
    # A hang that ends in storing makes the retry a duplicate (or the retry stored first and
    # the hung copy is the duplicate); either way the receiver refuses it: 409, counted done.
    assert answers["409"] > 0
    assert set(answers) <= {"200", "409", "500"}


def test_reports_sent_while_redis_is_down_are_delivered_once_it_is_back(
    redis: RedisServer,
    tmp_path: Path,
    processes: Processes,
    make_app: Callable[[str], Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis.shutdown()
    caplog.set_level(logging.DEBUG, logger="reporting.infra.queue")
    app = make_app(redis.url)
    caseworker = add_caseworker(app)
    receiver, _ = start_receiver(processes, tmp_path)
    add_webhook(app, caseworker.organisation_name, receiver)

    for number in range(5):
        started = time.monotonic()
        response = submit_report(app.test_client(), narrative=f"{NARRATIVE} (report {number})")
        print(f"report {number}: {response.status_code} in {time.monotonic() - started:.2f} s")
        assert response.status_code == 200
    # Each report's message was refused by the broker, and each report was stored anyway.
    refused = [r.getMessage() for r in caplog.records if r.name == "reporting.infra.queue"]
    assert len(refused) == 5 and all(m.startswith("could not queue 1 deliveries") for m in refused)
    rows = deliveries(app)
    assert [(row.state, row.attempts) for row in rows] == [(DeliveryState.PENDING, 0)] * 5

    redis.start()  # the same port, empty: every queued message was lost with the outage
    start_worker(processes, app)
    start_beat(processes, app, tmp_path)
    counts = wait_until_finished(app, 5, timeout=60)
    stop_worker_and_beat(processes)

    assert counts == {DeliveryState.DELIVERED: 5}
    rows = deliveries(app)
    assert_stored_once(app, receiver, rows)
    narratives = sorted(
        read_report(body, caseworker)["narrative"] for body in receiver.stored().values()
    )
    assert narratives == [f"{NARRATIVE} (report {number})" for number in range(5)]

"""The outbox: deliveries written with the report, attempted, retried, given up, retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import crypto
from reporting import create_app
from reporting.delivery.outbox import retry_dead
from reporting.infra import db
from reporting.models import Delivery, DeliveryState, Message, MessageKind, Report
from tests.support import databases
from tests.support.casework import store_client_reply
from tests.support.delivery_fixtures import (
    TEST_DELIVERY,
    RunningReceiver,
    add_webhook,
    running_receiver,
)
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    csrf_token,
    file_part,
    post_form,
    submit_report,
)
from worker import delivery


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "DELIVERY": TEST_DELIVERY,
            # No broker: queueing fails fast and the sweep is what sends (as when Redis is down).
            "REDIS_URL": "redis://127.0.0.1:9/0",
        }
    )
    databases.migrate_fresh(database_url)
    return app


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[RunningReceiver]:
    with running_receiver(tmp_path / "received") as running:
        yield running


@pytest.fixture
def webhook_caseworker(app: Flask, receiver: RunningReceiver) -> Caseworker:
    caseworker = add_caseworker(app)
    add_webhook(app, caseworker.organisation_name, receiver)
    return caseworker


def _deliveries(app: Flask) -> list[Delivery]:
    with app.app_context():
        return list(db.session().scalars(select(Delivery).order_by(Delivery.part)))


def _attempt_all(app: Flask) -> list[DeliveryState | None]:
    with app.app_context():
        settings = app.config["SETTINGS"].delivery
        return [
            delivery.attempt(db.database(), app.extensions["blobs"], settings, d.id)
            for d in _deliveries(app)
        ]


@pytest.mark.slow
def test_a_report_is_delivered_once_per_blob_and_decrypts(
    app: Flask, webhook_caseworker: Caseworker, receiver: RunningReceiver
) -> None:
    response = submit_report(app.test_client(), attachments=[file_part(b"photo bytes")])
    assert response.status_code == 200  # stored even though no broker answered
    rows = _deliveries(app)
    assert [(d.part, d.state) for d in rows] == [(0, "pending"), (1, "pending")]

    assert _attempt_all(app) == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
    stored = receiver.stored()
    assert set(stored) == {d.idempotency_id for d in rows}
    document = json.loads(
        crypto.decrypt(stored[rows[0].idempotency_id], [webhook_caseworker.identity])
    )
    assert document["kind"] == "report"
    metadata = json.loads((receiver.store / f"{rows[1].idempotency_id}.json").read_text())
    assert metadata["x-reporting-part"] == "1" and metadata["x-reporting-kind"] == "report"

    # Done is done: a second attempt (a duplicate task) does nothing.
    assert _attempt_all(app) == [None, None]
    after = _deliveries(app)
    assert all(d.state == "delivered" and d.attempts == 1 for d in after)
    assert all(d.due_at is None and d.lease_until is None for d in after)


@pytest.mark.slow
def test_followups_are_delivered_and_replies_are_not(
    app: Flask, webhook_caseworker: Caseworker
) -> None:
    client = app.test_client()
    submit_report(client)
    data = {"csrf_token": csrf_token(client, "/case"), "message": "More news."}
    assert post_form(client, "/case/followup", data).status_code == 302
    with app.app_context():
        report_id = db.session().scalars(select(Report.id)).one()
    reply_id = store_client_reply(app, report_id, "a reply")  # as the API stores replies
    with app.app_context():
        kinds = {
            (message.kind, delivery.part)
            for delivery in db.session().scalars(select(Delivery))
            for message in [db.session().get_one(Message, delivery.message_id)]
        }
        assert db.session().get_one(Message, reply_id).kind == MessageKind.REPLY
    # The report's document and the follow-up's; nothing for the reply.
    assert kinds == {(MessageKind.REPORT, 0), (MessageKind.FOLLOWUP, 0)}
    assert reply_id not in {d.message_id for d in _deliveries(app)}


@pytest.mark.slow
def test_no_channel_no_deliveries(app: Flask) -> None:
    add_caseworker(app)
    submit_report(app.test_client())
    assert _deliveries(app) == []


@pytest.mark.slow
def test_failures_back_off_then_die_and_an_operator_can_retry(app: Flask, tmp_path: Path) -> None:
    caseworker = add_caseworker(app)
    with running_receiver(tmp_path / "failing", fail_rate=1.0) as failing:
        add_webhook(app, caseworker.organisation_name, failing)
        submit_report(app.test_client())
        [row] = _deliveries(app)
        assert _attempt_all(app) == [DeliveryState.FAILED]
        [row] = _deliveries(app)
        assert row.attempts == 1 and row.last_error == "HTTP 500" and row.due_at is not None
        with app.app_context():
            # Not due yet: the sweep leaves it alone during its backoff.
            assert delivery.due_for_queueing(db.database(), TEST_DELIVERY) == []
        for _ in range(2):
            _make_due(app)
            _attempt_all(app)
        [row] = _deliveries(app)
        assert row.state == "dead" and row.attempts == 3 and row.due_at is None
        assert failing.stored() == {}

    with running_receiver(tmp_path / "fixed") as fixed, app.app_context():
        with db.database().transaction() as session:
            session.get_one(Delivery, row.id).channel.target = fixed.url
            session.get_one(Delivery, row.id).channel.secret = fixed.secret
        assert retry_dead(db.database()) == [row.id]
        assert _attempt_all(app) == [DeliveryState.DELIVERED]
        assert len(fixed.stored()) == 1


def _make_due(app: Flask) -> None:
    with app.app_context(), db.database().transaction() as session:
        for row in session.scalars(select(Delivery)):
            if row.due_at is not None:
                row.due_at = row.due_at - timedelta(hours=1)


@pytest.mark.slow
def test_a_refused_address_is_dead_at_once(app: Flask, tmp_path: Path) -> None:
    caseworker = add_caseworker(app)
    with running_receiver(tmp_path / "r") as running:
        running.url = running.url.replace("127.0.0.1", "10.255.255.1")
        add_webhook(app, caseworker.organisation_name, running)
        submit_report(app.test_client())
        assert _attempt_all(app) == [DeliveryState.DEAD]
        assert "private" in _deliveries(app)[0].last_error


@pytest.mark.slow
def test_a_receiver_that_already_has_it_counts_as_delivered(
    app: Flask, webhook_caseworker: Caseworker, receiver: RunningReceiver
) -> None:
    submit_report(app.test_client())
    [row] = _deliveries(app)
    assert _attempt_all(app) == [DeliveryState.DELIVERED]
    # As if the worker died after sending but before recording: the retry gets a 409.
    with app.app_context(), db.database().transaction() as session:
        again = session.get_one(Delivery, row.id)
        again.state = DeliveryState.PENDING
    assert _attempt_all(app) == [DeliveryState.DELIVERED]
    assert len(receiver.stored()) == 1


@pytest.mark.slow
def test_claims_are_exclusive_and_leases_expire(app: Flask, webhook_caseworker: Caseworker) -> None:
    submit_report(app.test_client())
    [row] = _deliveries(app)
    with app.app_context():
        first = delivery.claim(db.database(), row.id, lease_seconds=60)
        assert first is not None and first.idempotency_id == row.idempotency_id
        assert delivery.claim(db.database(), row.id, lease_seconds=60) is None
        # Held deliveries are not swept either.
        assert delivery.due_for_queueing(db.database(), TEST_DELIVERY) == []
        with db.database().transaction() as session:
            held = session.get_one(Delivery, row.id)
            held.lease_until = held.lease_until - timedelta(minutes=5)
        # First seen by this sweep (its own task may still be queued); the next one queues it.
        assert delivery.due_for_queueing(db.database(), TEST_DELIVERY) == []
        assert delivery.due_for_queueing(db.database(), TEST_DELIVERY) == [row.id]
        # Queued now, so the next sweep leaves it alone for `requeue_seconds`.
        assert delivery.due_for_queueing(db.database(), TEST_DELIVERY) == []
        assert delivery.claim(db.database(), row.id, lease_seconds=60) is not None


def test_the_backoff_grows_with_jitter_and_a_ceiling() -> None:
    import random

    rng = random.Random(7)
    waits = [delivery.backoff_seconds(n, TEST_DELIVERY, rng) for n in range(1, 9)]
    assert 0.025 <= waits[0] <= 0.05
    assert all(w <= TEST_DELIVERY.backoff_max_seconds for w in waits)
    assert waits[-1] >= TEST_DELIVERY.backoff_max_seconds / 2


@pytest.mark.slow
def test_an_attempt_whose_lease_was_taken_over_records_nothing(
    app: Flask, webhook_caseworker: Caseworker
) -> None:
    import random

    submit_report(app.test_client())
    [row] = _deliveries(app)
    rng = random.Random(1)
    with app.app_context():
        database = db.database()
        slow = delivery.claim(database, row.id, lease_seconds=60)
        assert slow is not None
        with database.transaction() as session:  # the slow attempt's lease runs out
            held = session.get_one(Delivery, row.id)
            held.lease_until = held.lease_until - timedelta(minutes=5)
        fast = delivery.claim(database, row.id, lease_seconds=60)
        assert fast is not None
        delivered = delivery.Outcome(True, False, "")
        assert delivery.record_attempt(database, fast, delivered, TEST_DELIVERY, rng) == "delivered"
        # The slow attempt finally fails: too late, and it cannot undo the delivery.
        failed = delivery.Outcome(False, True, "timeout")
        assert delivery.record_attempt(database, slow, failed, TEST_DELIVERY, rng) is None
    [after] = _deliveries(app)
    assert after.state == "delivered" and after.attempts == 1 and after.last_error == ""


@pytest.mark.slow
def test_relaxed_durability_stays_inside_the_workers_own_transactions(
    app: Flask, webhook_caseworker: Caseworker
) -> None:
    """Claims and delivered marks may skip the WAL flush (a lost one only means a resend);
    nothing else may: the setting must not leak into the pooled connection."""
    submit_report(app.test_client())
    [row] = _deliveries(app)
    with app.app_context():
        engine = db.database().engine
        engine.dispose()  # one pooled connection, reused below
        claimed = delivery.claim(db.database(), row.id, lease_seconds=60)
        assert claimed is not None
        if engine.dialect.name != "postgresql":
            pytest.skip("synchronous_commit is PostgreSQL's")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"

"""One delivery attempt, as plain functions: claim, send, record the attempt.

A delivery is claimed with a lease (an atomic update), so two workers never send
it at once; a worker killed mid-send loses its lease when it expires and the
sweep queues the delivery again. Resending is safe: the receiver stores each
`webhook-id` once and answers 409 to a repeat, which counts as delivered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from protocol.dates import today
from reporting.infra.blobs import BlobStore
from reporting.infra.config import DeliverySettings
from reporting.infra.db import Database
from reporting.models import (
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    Organisation,
)
from reporting.models.common import new_id
from worker import channels
from worker.channels import Outcome

RETRYABLE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)
# Jitter spreads retries out; it needs no cryptographic randomness.
_JITTER = random.Random()  # noqa: S311
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Claimed:
    """What the sender needs, read while the lease is taken; ids and settings, no content."""

    delivery_id: str
    lease_token: str
    idempotency_id: str
    kind: ChannelKind
    target: str
    secret: str
    blob_id: str
    report_id: str
    message_id: str
    message_kind: str
    part: int
    organisation: str


def now() -> datetime:
    """Naive UTC, as stored (SQLite keeps no time zones)."""
    return datetime.now(UTC).replace(tzinfo=None)


def backoff_seconds(attempts: int, settings: DeliverySettings, rng: random.Random) -> float:
    """Exponential backoff with full jitter: spreads retries after an outage at the receiver."""
    ceiling = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** (attempts - 1))
    return rng.uniform(ceiling / 2, ceiling)


def _relax_durability(connection: Connection) -> None:
    """On PostgreSQL, do not wait for this transaction's WAL flush.

    Safe here and only here: a claim or a delivered mark lost in a crash just means
    the delivery is sent again, and the receiver answers 409 for what it already has.
    The report itself, and everything the web app writes, stays fully durable.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def claim(database: Database, delivery_id: str, lease_seconds: int) -> Claimed | None:
    """Take the delivery for this worker, or None if it is done or another worker has it.

    `due_at` is the sweep's business (when to queue again), not a bar to a queued task.
    """
    moment = now()
    token = new_id()
    with database.engine.begin() as db:
        _relax_durability(db)
        taken = db.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .where(Delivery.state.in_(RETRYABLE_STATES))
            .where(or_(Delivery.lease_until.is_(None), Delivery.lease_until < moment))
            .values(lease_until=moment + timedelta(seconds=lease_seconds), lease_token=token)
        )
        if taken.rowcount != 1:
            return None
        # One query for everything the sender needs: this runs for every delivery.
        row = db.execute(
            select(
                Delivery.idempotency_id,
                Delivery.blob_id,
                Delivery.report_id,
                Delivery.message_id,
                Delivery.part,
                DeliveryChannel.kind,
                DeliveryChannel.target,
                DeliveryChannel.secret,
                Message.kind.label("message_kind"),
                Organisation.name,
            )
            .join(DeliveryChannel, Delivery.channel_id == DeliveryChannel.id)
            .join(Message, Delivery.message_id == Message.id)
            .join(Organisation, DeliveryChannel.organisation_id == Organisation.id)
            .where(Delivery.id == delivery_id)
        ).one()
        return Claimed(
            delivery_id=delivery_id,
            lease_token=token,
            idempotency_id=row.idempotency_id,
            kind=row.kind,
            target=row.target,
            secret=row.secret,
            blob_id=row.blob_id,
            report_id=row.report_id,
            message_id=row.message_id,
            message_kind=str(row.message_kind),
            part=row.part,
            organisation=row.name,
        )


def send(claimed: Claimed, settings: DeliverySettings, store: BlobStore) -> Outcome:
    """Hand the ciphertext to its channel (worker/channels/); any unexpected error is a
    retryable failure."""
    try:
        return channels.deliver(claimed, settings, store.read(claimed.blob_id))
    except OSError as error:
        return Outcome(False, True, f"{type(error).__name__}"[:MAX_ERROR_CHARS])
    except ValueError as error:  # a channel refusing its configuration: an operator must act
        return Outcome(False, False, f"refused: {error}"[:MAX_ERROR_CHARS])


def record_attempt(
    database: Database,
    claimed: Claimed,
    outcome: Outcome,
    settings: DeliverySettings,
    rng: random.Random,
) -> DeliveryState | None:
    """Count the attempt and move the delivery on: delivered, to be retried, or dead.

    Only while this attempt still holds its lease: if the lease ran out and another
    worker took the delivery over, that worker's outcome is the one that counts (and
    a delivered row is never moved back). Returns None when nothing was recorded.
    """
    if outcome.delivered:
        return _record_delivered(database, claimed)
    with database.transaction() as db:
        delivery = db.scalar(
            select(Delivery)
            .where(Delivery.id == claimed.delivery_id)
            .where(Delivery.lease_token == claimed.lease_token)
            .where(Delivery.state.in_(RETRYABLE_STATES))
            .with_for_update()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.lease_token = None
        if not outcome.retryable or delivery.attempts >= settings.max_attempts:
            delivery.state = DeliveryState.DEAD
            delivery.last_error = outcome.error[:MAX_ERROR_CHARS]
            delivery.due_at = None
        else:
            delivery.state = DeliveryState.FAILED
            delivery.last_error = outcome.error[:MAX_ERROR_CHARS]
            wait = backoff_seconds(delivery.attempts, settings, rng)
            delivery.due_at = now() + timedelta(seconds=wait)
            delivery.swept = True  # the first sweep after its backoff queues it
        return delivery.state


def _record_delivered(database: Database, claimed: Claimed) -> DeliveryState | None:
    """The common case in one statement (this runs for every delivery)."""
    with database.engine.begin() as connection:
        _relax_durability(connection)
        done = connection.execute(
            update(Delivery)
            .where(Delivery.id == claimed.delivery_id)
            .where(Delivery.lease_token == claimed.lease_token)
            .where(Delivery.state.in_(RETRYABLE_STATES))
            .values(
                state=DeliveryState.DELIVERED,
                attempts=Delivery.attempts + 1,
                delivered_on=today(),
                last_error="",
                due_at=None,
                lease_until=None,
                lease_token=None,
            )
        )
    return DeliveryState.DELIVERED if done.rowcount == 1 else None


def attempt(
    database: Database, store: BlobStore, settings: DeliverySettings, delivery_id: str
) -> DeliveryState | None:
    """One attempt at one delivery; None when there was nothing to do."""
    claimed = claim(database, delivery_id, settings.lease_seconds)
    if claimed is None:
        return None
    outcome = send(claimed, settings, store)
    return record_attempt(database, claimed, outcome, settings, _JITTER)


def due_for_queueing(
    database: Database, settings: DeliverySettings, limit: int = 1000
) -> list[str]:
    """Deliveries the sweep should queue: not done, not held, not waiting out a backoff,
    and already seen by an earlier sweep (a new row's own task may still be on its way).

    Rows seen for the first time are only marked. Queued rows are left alone for
    `requeue_seconds`; if their task is lost (a broker outage, a killed worker), a
    later sweep queues them again.
    """
    moment = now()
    with database.transaction() as db:
        due = db.execute(
            select(Delivery.id, Delivery.swept)
            .where(Delivery.state.in_(RETRYABLE_STATES))
            .where(or_(Delivery.lease_until.is_(None), Delivery.lease_until < moment))
            .where(or_(Delivery.due_at.is_(None), Delivery.due_at <= moment))
            .limit(limit)
        ).all()
        ids = [row.id for row in due if row.swept]
        first_seen = [row.id for row in due if not row.swept]
        if ids:
            db.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(due_at=moment + timedelta(seconds=settings.requeue_seconds))
            )
        if first_seen:
            db.execute(update(Delivery).where(Delivery.id.in_(first_seen)).values(swept=True))
    return ids

"""The Celery tasks: thin, ids in, a plain function does the work (worker/delivery.py).

Every task is idempotent and safe to run twice, because messages can be
delivered twice (late acks, sweeps, a worker killed mid-task).
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from reporting.infra import db
from reporting.infra.blobs import BlobStore
from reporting.infra.config import Settings
from reporting.infra.queue import (
    DELIVER_TASK,
    NOTIFY_TASK,
    NOTIFY_URGENT_TASK,
    PURGE_TASK,
    SWEEP_TASK,
    SWEEP_UPLOADS_TASK,
    send_deliveries,
)
from reporting.intake import kept_files
from reporting.web import ratelimit
from worker import delivery, notify, retention


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@shared_task(name=DELIVER_TASK, acks_late=True, ignore_result=True)
def deliver(delivery_id: str) -> str:
    """Attempt one delivery; retries are scheduled in the database and queued by the sweep."""
    state = delivery.attempt(
        db.database(), current_app.extensions["blobs"], _settings().delivery, delivery_id
    )
    # Not logged: a log line's time would say when a report arrived (invariant 4). The
    # outcome is in the delivery's row, for `flask deliveries list`.
    return "skipped" if state is None else str(state)


@shared_task(name=SWEEP_TASK, acks_late=True, ignore_result=True)
def sweep() -> int:
    """Queue every delivery that is due: new ones whose message was lost, and retries."""
    ids = delivery.due_for_queueing(db.database(), _settings().delivery)
    if ids:
        send_deliveries(ids)
    return len(ids)


@shared_task(name=SWEEP_UPLOADS_TASK, acks_late=True, ignore_result=True)
def sweep_uploads() -> int:
    """Delete the partial ciphertext that killed uploads left in the blob store, and the files
    kept for a form that was never sent (reporting/intake/kept_files.py)."""
    store: BlobStore = current_app.extensions["blobs"]
    return store.sweep_partial_files() + kept_files.sweep_expired(db.database(), store)


@shared_task(name=PURGE_TASK, acks_late=True, ignore_result=True)
def purge() -> int:
    """Delete closed reports past their organisation's retention period."""
    return retention.purge_expired(db.database(), current_app.extensions["blobs"])


@shared_task(name=NOTIFY_TASK, acks_late=True, ignore_result=True)
def notify_caseworkers() -> int:
    """Send the content-free "new reports" notices that are due."""
    return notify.send_due_notices(db.database(), _settings().delivery)


@shared_task(name=NOTIFY_URGENT_TASK, acks_late=True, ignore_result=True)
def notify_urgent() -> int:
    """Send the content-free "urgent report" notices that are due and not rate-limited."""
    return notify.send_urgent_notices(db.database(), _settings().delivery, ratelimit.limiter())

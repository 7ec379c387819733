"""The task queue, as the web app sees it: Celery's configuration, and sending by name.

All Celery configuration lives here, so the web app (which only sends tasks)
and the worker (which runs them) agree on it. The web app never imports the
worker: it sends tasks by name, and their messages carry delivery ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import Celery
from flask import Flask, current_app

from reporting.infra import fsbroker
from reporting.infra.blobs import PARTIAL_SWEEP_SECONDS
from reporting.infra.config import Settings
from reporting.infra.instance_files import private_folder

logger = logging.getLogger(__name__)

DELIVER_TASK = "worker.deliver"
SWEEP_TASK = "worker.sweep"
PURGE_TASK = "worker.purge"
NOTIFY_TASK = "worker.notify"
NOTIFY_URGENT_TASK = "worker.notify_urgent"
SWEEP_UPLOADS_TASK = "worker.sweep_uploads"
EXTENSION = "celery_producer"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for both sides: JSON only, late acks, no result backend."""
    delivery = settings.delivery
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        # A task is acknowledged only once done, and a worker that dies mid-task gives it back.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # The worker and the beat wait out a broker outage of any length (Celery's default
        # gives up after 100 tries, about 50 minutes, and the worker exits).
        "broker_connection_max_retries": None,
        # Sending must not hang a reporter's request when the broker is down: fail fast,
        # the outbox row is already committed and the sweep will send it later.
        "broker_connection_timeout": 0.5,
        "task_publish_retry": False,
        "broker_transport_options": {
            # Longer than the longest task (a delivery's read timeout, with room to spare).
            "visibility_timeout": max(3600, int(delivery.read_timeout * 10)),
        },
        "task_default_queue": "reporting",
        "beat_schedule_filename": str(settings.instance_path / "beat-schedule"),
        "beat_schedule": {
            "sweep": {"task": SWEEP_TASK, "schedule": delivery.sweep_interval_seconds},
            "purge": {"task": PURGE_TASK, "schedule": delivery.purge_interval_seconds},
            "notify": {"task": NOTIFY_TASK, "schedule": delivery.notify_interval_seconds},
            # Urgent notices held back by their rate limit, or not queued while the broker
            # was down, go out with the next of these.
            "notify-urgent": {
                "task": NOTIFY_URGENT_TASK,
                "schedule": delivery.urgent_notice_seconds,
            },
            # Partial ciphertext of killed uploads (also swept whenever an app starts).
            "sweep-uploads": {"task": SWEEP_UPLOADS_TASK, "schedule": PARTIAL_SWEEP_SECONDS},
        },
    }
    if settings.broker_url.startswith(fsbroker.SCHEME + "://"):
        fsbroker.register()
        folder = settings.broker_folder
        for sub in ("queue", "control", "processed"):
            private_folder(folder / sub)
        config["broker_transport_options"] = {
            **config["broker_transport_options"],
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    return config


def make_celery(settings: Settings, name: str = "reporting") -> Celery:
    """A Celery app configured for this instance (the worker adds its tasks to its own)."""
    celery = Celery(name)
    celery.config_from_object(celery_config(settings))
    return celery


def init_app(app: Flask) -> None:
    """Make the producer lazily: many requests never send a task."""
    app.extensions[EXTENSION] = None


def _producer() -> Celery:
    producer: Celery | None = current_app.extensions.get(EXTENSION)
    if producer is None:
        producer = make_celery(current_app.config["SETTINGS"], "reporting-producer")
        # One connection attempt, no waiting between retries: a reporter's request must not
        # hang on a broker outage (kombu would otherwise sleep 2 s before giving up).
        producer.conf.broker_transport_options = {
            **producer.conf.broker_transport_options,
            "max_retries": 0,
            "interval_start": 0,
        }
        current_app.extensions[EXTENSION] = producer
    return producer


def _send(name: str, calls: list[list[str]], what: str) -> bool:
    """Send task `name` once per argument list (`what` they are, for the log); False if the
    broker is unreachable."""
    if not calls:
        return True
    try:
        producer = _producer()
        with producer.connection_for_write() as connection:
            for args in calls:
                producer.send_task(name, args=args, connection=connection, retry=False)
    except Exception as error:  # any broker failure; the row in the database is what counts
        # Debug only: at the default levels, a line logged while a report is being filed
        # would date it (invariant 4). The worker logs the broker outage on its own.
        logger.debug(
            "could not queue %d %s (%s); a periodic task will catch up",
            len(calls),
            what,
            type(error).__name__,
        )
        return False
    return True


def send_deliveries(delivery_ids: Iterable[str]) -> bool:
    """Queue deliveries after their rows committed; False if the broker is unreachable,
    which is fine: the periodic sweep queues whatever is still pending."""
    return _send(DELIVER_TASK, [[delivery_id] for delivery_id in delivery_ids], "deliveries")


def send_urgent_notice() -> bool:
    """Ask the worker for the immediate notice of an urgent report, after its row committed.

    The task carries nothing, not even the organisation: the worker sends whatever urgent
    notices are due (Organisation.urgent_notice_due). False if the broker is unreachable:
    the periodic "notify-urgent" task sends it then.
    """
    return _send(NOTIFY_URGENT_TASK, [[]], "urgent notices")

"""A real receiver on loopback, and an app whose deliveries may go there."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from crypto.webhooks import new_secret
from receiver.app import make_app
from reporting import create_app
from reporting.infra import db
from reporting.infra.config import DeliverySettings
from reporting.models import ChannelKind, DeliveryChannel
from reporting.organisations.recipients import find_organisation
from tests.support import databases

TEST_DELIVERY = DeliverySettings(
    max_attempts=3,
    backoff_base_seconds=0.05,
    backoff_max_seconds=0.2,
    connect_timeout=2.0,
    read_timeout=2.0,
    allowed_networks=("127.0.0.0/8",),
    lease_seconds=5,
    requeue_seconds=1,
)


def mail_app(tmp_path: Path, database_url: str, smtp_url: str, **config: Any) -> Flask:
    """The app as production builds it, e-mailing to the test SMTP server at `smtp_url` and
    filing reports with add_caseworker's organisation, with its state in tmp_path."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "DELIVERY": dataclasses.replace(TEST_DELIVERY, smtp_url=smtp_url),
            "ORGANISATION": "Test organisation",
            **config,
        }
    )
    databases.migrate_fresh(database_url)
    return app


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningReceiver:
    url: str
    secret: str
    store: Path

    def stored(self) -> dict[str, bytes]:
        """webhook-id → body of everything the receiver stored."""
        return {p.stem: p.read_bytes() for p in self.store.glob("*.age")}


@contextmanager
def running_receiver(store: Path, **faults: Any) -> Iterator[RunningReceiver]:
    secret = new_secret()
    app = make_app(store, secret, **faults)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningReceiver(f"http://127.0.0.1:{server.port}/", secret, store)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def add_webhook(app: Flask, organisation_name: str, receiver: RunningReceiver) -> None:
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, organisation_name)
        session.add(
            DeliveryChannel(
                organisation=organisation,
                kind=ChannelKind.WEBHOOK,
                target=receiver.url,
                secret=receiver.secret,
            )
        )

"""A real receiver on loopback, and an app whose deliveries may go there."""

from __future__ import annotations

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
from reporting.infra import db
from reporting.infra.config import DeliverySettings
from reporting.models import ChannelKind, DeliveryChannel
from reporting.organisations.recipients import find_organisation

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

"""The pinned-keys world: the real server on loopback with a partner, and a caseworker's home
signed in to it (tests/app/test_key_pins.py, test_desk_keys.py, tests/browser/test_desk_pages.py).

The attacker changes the server's database as someone who holds the server would, through
`Desk.swap_partner_key` and `Desk.add_organisation_key`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

import crypto
from caseworker_client.cli import main
from caseworker_client.config import Home, Session, write_private
from caseworker_client.context import Context
from protocol import decode
from reporting.infra import db
from reporting.models import (
    ChannelKind,
    Message,
    MessageKind,
    OrganisationRecipient,
    Partner,
)
from reporting.web.serve import QuietRequestHandler
from tests.support.api import add_partner, file_report
from tests.support.casework import Account, api_app, api_token, make_account
from tests.support.delivery_fixtures import TEST_DELIVERY
from tests.support.processes import free_port

PARTNER = "Legal aid"
# A delivery channel, so the client's "no delivery channel" check lets the escalation go on.
WEBHOOK = ((ChannelKind.WEBHOOK, "https://legal-aid.example/hook", True),)


@dataclass
class Desk:
    """The caseworker's machine, the server it talks to, and the server's database."""

    app: Flask
    home: Path
    alice: Account
    report_id: str
    partner_id: int
    partner_key: Any

    def cw(self, *args: str, ok: bool = True, input: str | None = None) -> Result:
        result = CliRunner().invoke(
            main, list(args), input=input, env={"REPORTING_CASEWORKER_HOME": str(self.home)}
        )
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1, result.output
            assert isinstance(result.exception, SystemExit), "a traceback, not a clear error"
        return result

    def context(self) -> Context:
        """The client's plain functions, as the desk calls them."""
        return Context(Home(self.home), lambda: "")

    def messages(self, kind: MessageKind) -> list[str]:
        """The stored document blobs of the report's messages of one kind."""
        with self.app.app_context():
            rows = db.session().scalars(
                select(Message.document_blob_id).where(
                    Message.report_id == self.report_id, Message.kind == kind
                )
            )
            return list(rows)

    def opens(self, blob_id: str, key: Any) -> dict[str, Any] | None:
        ciphertext = self.app.extensions["blobs"].path(blob_id).read_bytes()
        try:
            return dict(decode(crypto.decrypt(ciphertext, [key])))
        except crypto.NoIdentityMatchError:
            return None

    def swap_partner_key(self, key: Any) -> None:
        """What someone holding the server does: the partner's key becomes theirs."""
        with self.app.app_context(), db.database().transaction() as session:
            partner = session.get_one(Partner, self.partner_id)
            partner.recipients = f"{key.recipient}\n" if key else ""

    def add_organisation_key(self, key: Any) -> None:
        with self.app.app_context(), db.database().transaction() as session:
            session.add(
                OrganisationRecipient(
                    organisation_id=self.alice.organisation_id,
                    recipient=str(key.recipient),
                    label="escrow",
                )
            )


@contextmanager
def pinned_keys_desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """The server on loopback (stopped after), with a partner, and the client's home."""
    app = api_app(tmp_path, database_url, DELIVERY=TEST_DELIVERY)
    alice = make_account(app, "alice")
    report = file_report(app, alice.organisation_name, "full")
    partner_key = crypto.generate_identity()
    partner_id = add_partner(app, alice.organisation_id, PARTNER, partner_key, WEBHOOK)
    server = make_server(
        "127.0.0.1", free_port(), app, threaded=True, request_handler=QuietRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    home = Home(tmp_path / "client home")
    home.ensure()
    write_private(home.identity, crypto.identity_file_text(alice.identity).encode())
    url = f"http://127.0.0.1:{server.server_port}"
    home.save_session(Session(url, alice.username, api_token(app, alice)))
    try:
        yield Desk(app, home.root, alice, report.report_id, partner_id, partner_key)
    finally:
        server.shutdown()
        thread.join()


def fingerprint(key: Any) -> str:
    return crypto.recipient_fingerprint(str(key.recipient))

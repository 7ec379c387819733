"""Helpers for the caseworker side: enrolled accounts, web sign-in, API tokens."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import crypto
from crypto import passwords, totp
from protocol import encode, reply_document
from protocol.padding import pad
from reporting import create_app
from reporting.accounts import caseworkers, signin
from reporting.casework.messages import store_client_message
from reporting.infra import db
from reporting.models import (
    Caseworker,
    MessageKind,
    Organisation,
    OrganisationRecipient,
    Report,
    Role,
)
from reporting.organisations.recipients import create_organisation, find_organisation, recipients_of
from tests.support import databases
from tests.support.portal import csrf_token

PASSWORD = "a long enough passphrase"


@functools.cache
def shared_password_hash() -> str:
    return passwords.hash_password(PASSWORD)


@dataclass
class Account:
    """An enrolled caseworker as a test sees them: what they know and what they hold."""

    id: str
    username: str
    password: str
    totp_secret: bytes
    identity: Any  # their age identity (the private key stays on "their machine")
    organisation_id: str
    organisation_name: str

    def code(self, at: float | None = None) -> str:
        """A TOTP code for now (or `at`)."""
        return totp.code_at(self.totp_secret, time.time() if at is None else at)


def make_account(
    app: Flask,
    username: str = "alice",
    organisation_name: str = "Test organisation",
    role: Role = Role.CASEWORKER,
    password: str = PASSWORD,
    with_key: bool = True,
) -> Account:
    """A fully enrolled account (password, confirmed TOTP, a registered key) in an
    organisation made on first use."""
    identity = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, organisation_name) or create_organisation(
            session, organisation_name
        )
        caseworker = caseworkers.create_caseworker(session, organisation, username, role)
        if password == PASSWORD:
            # One real Argon2id hash of the shared test password, made once: each hash costs
            # 64 MiB and a few hundred ms, and most tests only need an enrolled account.
            caseworkers.check_password_strength(password, username)
            caseworker.password_hash = shared_password_hash()
        else:
            caseworkers.set_password(session, caseworker, password)
        secret = caseworkers.start_totp_enrolment(caseworker)
        caseworker.totp_confirmed = True
        if with_key:
            session.add(
                OrganisationRecipient(
                    organisation=organisation,
                    recipient=str(identity.recipient),
                    label=username,
                    caseworker_id=caseworker.id,
                )
            )
        session.flush()
        return Account(
            caseworker.id,
            caseworker.username,
            password,
            secret,
            identity,
            organisation.id,
            organisation.name,
        )


def sign_in(client: FlaskClient, account: Account) -> None:
    """Put a signed-in session in the client's cookie, as a real login would."""
    app: Flask = client.application
    with app.app_context():
        caseworker = db.session().get_one(Caseworker, account.id)
        epoch = caseworker.auth_epoch
    with client.session_transaction() as session:
        session[signin.CASEWORKER_ID] = account.id
        session[signin.AUTH_EPOCH] = epoch
        session[signin.SIGNED_IN_AT] = int(time.time())


def api_token(app: Flask, account: Account) -> str:
    """A live API token for the account."""
    with app.app_context(), db.database().transaction() as session:
        return signin.issue_token(session, session.get_one(Caseworker, account.id), "test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def organisation_id(app: Flask, name: str) -> str:
    with app.app_context():
        found = find_organisation(db.session(), name)
        assert isinstance(found, Organisation)
        return found.id


def api_app(tmp_path: Path, database_url: str, **config: Any) -> Flask:
    """An app whose portal files reports with the test organisation (a second one exists)."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "ORGANISATION": "Test organisation",
            "REDIS_URL": "redis://127.0.0.1:9/0",  # no broker: queueing fails fast
            **config,
        }
    )
    databases.migrate_fresh(database_url)
    return app


def store_client_reply(
    app: Flask, report_id: str, text: str, recipients: list[Any] | None = None
) -> str:
    """A caseworker's reply, stored the way production stores every reply: padded and
    encrypted as the caseworker client does (to the reporter's key and the organisation's
    keys, unless `recipients` says otherwise) and handed to
    `caseworker_messages.store_client_message` by a caseworker of the organisation (one
    without a key is made if needed). Returns the message's id."""
    with app.app_context():
        report = db.session().get_one(Report, report_id)
        organisation = report.organisation
        actor_id = db.session().scalar(
            select(Caseworker.id).where(
                Caseworker.organisation_id == organisation.id, Caseworker.username == "replier"
            )
        )
        organisation_name = organisation.name
    if actor_id is None:
        actor_id = make_account(app, "replier", organisation_name, with_key=False).id
    with app.app_context():
        session = db.session()
        report = session.get_one(Report, report_id)
        if recipients is None:
            recipients = crypto.reply_recipients(
                crypto.parse_recipient(report.reporter_recipient),
                recipients_of(report.organisation),
            )
        plaintext = pad(encode(reply_document(text)), b" ")
        message = store_client_message(
            db.database(),
            app.extensions["blobs"],
            session.get_one(Caseworker, actor_id),
            report,
            MessageKind.REPLY,
            crypto.encrypt(plaintext, recipients),
        )
        return message.id


LOGIN = "/casework/login"


ACCOUNT = "/casework/account"


def login(
    client: FlaskClient,
    username: str,
    password: str,
    code: str,
    query: str = "",
) -> TestResponse:
    token = csrf_token(client, LOGIN)
    return client.post(
        LOGIN + query,
        data={"csrf_token": token, "username": username, "password": password, "code": code},
    )


def is_signed_in(client: FlaskClient) -> bool:
    response = client.get(ACCOUNT)
    assert response.status_code in (200, 302)
    return response.status_code == 200

"""Helpers for the caseworker side: enrolled accounts, web sign-in, API tokens."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

import crypto
from crypto import passwords, totp
from reporting import create_app
from reporting.accounts import caseworkers, signin
from reporting.infra import db, migrate
from reporting.models import Caseworker, Organisation, OrganisationRecipient, Role
from reporting.organisations.recipients import create_organisation, find_organisation

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
    migrate.upgrade(database_url)
    return app

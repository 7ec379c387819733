"""Checking a login: the organisation it names, the throttle, the password and a code.

Every attempt is counted before the password is checked (reporting/accounts/login_throttle.py),
per organisation and name; a TOTP or recovery code is spent by one conditional UPDATE
(reporting/accounts/caseworkers.py), so it opens one session however many logins race with it.
Refusals are `AccountError`s with the messages of reporting/accounts/caseworkers.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from crypto import passwords
from crypto.primitives import hmac_sha256
from reporting.accounts import login_throttle
from reporting.accounts.audit import Action, record
from reporting.accounts.caseworkers import (
    LOCKED,
    LOGIN_REFUSED,
    ORGANISATION_NEEDED,
    AccountError,
    accept_totp,
    find_account,
    keys,
    normalise_username,
    use_recovery_code,
)
from reporting.infra.db import database
from reporting.models import Caseworker, Organisation
from reporting.organisations import recipients


@dataclass(frozen=True)
class Credentials:
    """What a login form or the client's login sends."""

    organisation: str  # the organisation's name, or "" when the service hosts only one
    username: str
    password: str
    code: str  # a TOTP code or a recovery code


def _throttle_key(organisation_key: str, username: str) -> str:
    """An opaque key per (organisation, name), so the throttle table lists neither."""
    name = f"{organisation_key}\x00{normalise_username(username)}"
    return hmac_sha256(keys().throttle_key, name.encode()).hex()


def _own_throttle_key(caseworker: Caseworker) -> str:
    return _throttle_key(caseworker.organisation_id, caseworker.username)


def _login_throttle_key(organisation_id: str | None, credentials: Credentials) -> str:
    """The throttle key of what was typed: a name in an organisation that does not exist
    gets a key of its own, and is refused like an unknown name."""
    where = organisation_id or "?" + credentials.organisation.strip().lower()
    return _throttle_key(where, credentials.username)


def _admit(key: str, now: datetime) -> None:
    """Count an attempt on this name before any password is checked; refuse a locked name."""
    if not login_throttle.admit(key, now, current_app.config["SETTINGS"].limits):
        raise AccountError(LOCKED)


def login_organisation(db: Session, credentials: Credentials) -> Organisation | None:
    """The organisation a login names; AccountError when it names none and the service
    hosts several (that says nothing about any account)."""
    organisation = recipients.login_organisation(db, credentials.organisation)
    if organisation is None and not credentials.organisation.strip():
        raise AccountError(ORGANISATION_NEEDED)
    return organisation


def _admit_login(credentials: Credentials, now: datetime) -> tuple[str, str | None]:
    """The attempt's throttle key and organisation id, the attempt counted. Both run in short
    transactions of their own before the caller's session touches the database, so a login
    never holds a pooled connection while it waits for another (a burst would exhaust the
    pool)."""
    with database().sessions() as own:
        organisation = login_organisation(own, credentials)
        organisation_id = organisation.id if organisation else None
    key = _login_throttle_key(organisation_id, credentials)
    _admit(key, now)
    return key, organisation_id


def check_login(db: Session, credentials: Credentials, now: datetime) -> Caseworker:
    """Password and a TOTP (or recovery) code; the account, or AccountError(LOGIN_REFUSED).

    The attempt is counted (and committed) before the password is checked, so a burst
    of guesses gets no more checks than the throttle allows. A locked name is refused
    without checking anything, with its own message (the lock is per name, so it says
    nothing about whether the account exists). The caller commits even on refusal, so
    the refusal is audited.
    """
    key, organisation_id = _admit_login(credentials, now)
    caseworker = find_account(db, organisation_id, credentials.username)
    password = credentials.password
    if caseworker is None:
        passwords.burn_verification(password)
        raise AccountError(LOGIN_REFUSED)
    ok = passwords.verify_password(caseworker.password_hash, password)
    ok = ok and caseworker.active and caseworker.totp_confirmed
    ok = ok and (
        accept_totp(db, caseworker, credentials.code)
        or use_recovery_code(db, caseworker, credentials.code)
    )
    if not ok:
        raise AccountError(LOGIN_REFUSED)
    if passwords.needs_rehash(caseworker.password_hash):
        caseworker.password_hash = passwords.hash_password(password)
    login_throttle.forget(db, key)
    db.flush()
    return caseworker


def attempt_login(
    db: Session, credentials: Credentials, now: datetime, via: str = "web"
) -> Caseworker:
    """`check_login`, with the attempt in the audit log either way. A refusal names the
    account when one matches and nothing otherwise: a mistyped name (often someone's
    password) is never recorded."""
    try:
        caseworker = check_login(db, credentials, now)
    except AccountError as error:
        organisation = recipients.login_organisation(db, credentials.organisation)
        found = find_account(db, organisation.id if organisation else None, credentials.username)
        detail = f"{via}, locked" if str(error) == LOCKED else via
        record(
            db, Action.LOGIN_FAILED, actor=found, target=found.id if found else "", detail=detail
        )
        raise
    record(db, Action.LOGIN, actor=caseworker, target=caseworker.id, detail=via)
    return caseworker


def reauthenticate(db: Session, caseworker: Caseworker, password: str, now: datetime) -> None:
    """Ask for the password again before a sensitive change; failures count towards the lock,
    so a borrowed session cannot guess its way in."""
    _admit(_own_throttle_key(caseworker), now)
    if not passwords.verify_password(caseworker.password_hash, password):
        raise AccountError("That is not your current password.")
    login_throttle.forget(db, _own_throttle_key(caseworker))

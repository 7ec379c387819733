"""Caseworker accounts: passwords, the TOTP second factor, recovery codes, throttling.

Plain functions on a database session, so views, the API and the `flask`
commands share them. Every refusal is an `AccountError` whose message can be
shown as it is; a failed login says the same whether or not the account exists.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import SecretBox, passwords, totp
from crypto.chain import Chain
from crypto.primitives import hmac_sha256
from crypto.tokens import new_secret_hex, token_digest
from reporting.models import Caseworker, LoginThrottle, Organisation, RecoveryCode, Role

RECOVERY_CODES = 8
LOGIN_REFUSED = "That username, password or code is not right, or the account is locked."
LOCKED = "Too many failed attempts: this account is locked for a while. Try again later."


class AccountError(Exception):
    """A refused account action, with a message meant for the person at the keyboard."""


@dataclass(frozen=True)
class AccountKeys:
    """Keys derived from the instance secret for account data."""

    totp_box: SecretBox
    throttle_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> AccountKeys:
        raw = secret.encode("utf-8")
        return cls(
            SecretBox(raw, "caseworker-totp"),
            bytes.fromhex(Chain(raw).link("throttle", ["key"])),
        )


def keys() -> AccountKeys:
    """The current app's account keys (made once per app)."""
    found = current_app.extensions.get("account_keys")
    if found is None:
        found = AccountKeys.from_secret(current_app.config["SECRET_KEY"])
        current_app.extensions["account_keys"] = found
    assert isinstance(found, AccountKeys)
    return found


def _limits() -> Any:
    return current_app.config["SETTINGS"].limits


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password_strength(password: str, username: str = "") -> None:
    """Length, and not one of the obvious choices; no complexity rules."""
    minimum = _limits().min_password_chars
    if len(password) < minimum:
        raise AccountError(f"Choose a password of at least {minimum} characters.")
    if len(password) > 1024:
        raise AccountError("That password is too long (1,024 characters at most).")
    lowered = password.lower()
    if username and normalise_username(username) in lowered:
        raise AccountError("The password must not contain the username.")
    if len(set(lowered)) < 4:
        raise AccountError("That password repeats too few characters; choose another.")


def create_caseworker(
    db: Session,
    organisation: Organisation,
    username: str,
    role: Role = Role.CASEWORKER,
    display_name: str = "",
) -> Caseworker:
    """A new account with no password yet (set by `set_password` or an invitation)."""
    name = normalise_username(username)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError("A username is 1 to 64 letters, digits, dots, dashes or underscores.")
    if db.scalar(select(Caseworker).where(Caseworker.username == name)) is not None:
        raise AccountError(f"The username {name!r} is taken.")
    caseworker = Caseworker(
        organisation_id=organisation.id, username=name, role=role, display_name=display_name
    )
    db.add(caseworker)
    db.flush()
    return caseworker


def set_password(db: Session, caseworker: Caseworker, password: str) -> None:
    """Set a new password; every session and token of the account ends."""
    from reporting.signin import revoke_tokens

    check_password_strength(password, caseworker.username)
    caseworker.password_hash = passwords.hash_password(password)
    caseworker.auth_epoch += 1
    revoke_tokens(db, caseworker.id)
    db.flush()


def start_totp_enrolment(caseworker: Caseworker) -> bytes:
    """A fresh secret, stored sealed and unconfirmed until a code proves the app has it."""
    secret = totp.new_secret()
    caseworker.totp_secret_sealed = base64.b64encode(keys().totp_box.seal(secret)).decode()
    caseworker.totp_confirmed = False
    caseworker.totp_last_step = 0
    return secret


def totp_secret(caseworker: Caseworker) -> bytes | None:
    """The account's TOTP secret, unsealed, or None when none is set."""
    if not caseworker.totp_secret_sealed:
        return None
    return keys().totp_box.open(base64.b64decode(caseworker.totp_secret_sealed))


def accept_totp(caseworker: Caseworker, code: str, now: float | None = None) -> bool:
    """Whether the code is good now and newer than the last one accepted (no replay)."""
    secret = totp_secret(caseworker)
    if secret is None:
        return False
    step = totp.matching_step(secret, code, now)
    if step is None or step <= caseworker.totp_last_step:
        return False
    caseworker.totp_last_step = step
    return True


def confirm_totp(caseworker: Caseworker, code: str, now: float | None = None) -> bool:
    """Finish enrolment with a first code from the app."""
    if not accept_totp(caseworker, code, now):
        return False
    caseworker.totp_confirmed = True
    return True


def _recovery_digest(code: str) -> str:
    return token_digest("".join(code.lower().split()).replace("-", ""))


def new_recovery_codes(db: Session, caseworker: Caseworker) -> list[str]:
    """Replace the account's recovery codes; shown once, stored hashed (80 random bits each)."""
    for old in list(caseworker.recovery_codes):
        db.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = new_secret_hex(16)[:20]
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
    caseworker.recovery_codes.extend(RecoveryCode(code_hash=_recovery_digest(c)) for c in codes)
    db.flush()
    return codes


def use_recovery_code(db: Session, caseworker: Caseworker, code: str) -> bool:
    """Accept an unused recovery code once."""
    digest = _recovery_digest(code)
    row = db.scalar(
        select(RecoveryCode).where(
            RecoveryCode.caseworker_id == caseworker.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used.is_(False),
        )
    )
    if row is None:
        return False
    row.used = True
    return True


def _throttle_key(username: str) -> str:
    return hmac_sha256(keys().throttle_key, normalise_username(username).encode()).hex()


def is_locked(db: Session, username: str, now: datetime) -> bool:
    row = db.get(LoginThrottle, _throttle_key(username))
    return row is not None and row.locked_until is not None and row.locked_until > now


def note_failure(db: Session, username: str, now: datetime) -> None:
    """Count a failure for this name (whether or not the account exists); lock on too many."""
    limits = _limits()
    key = _throttle_key(username)
    row = db.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_started_at=now)
        db.add(row)
    if now - row.window_started_at > timedelta(seconds=limits.login_window_seconds):
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    if row.failures >= limits.login_failures:
        row.locked_until = now + timedelta(seconds=limits.login_lock_seconds)
        row.failures = 0
        row.window_started_at = now
    db.flush()


def clear_failures(db: Session, username: str) -> None:
    row = db.get(LoginThrottle, _throttle_key(username))
    if row is not None:
        db.delete(row)


def find_by_username(db: Session, username: str) -> Caseworker | None:
    return db.scalar(select(Caseworker).where(Caseworker.username == normalise_username(username)))


def check_login(
    db: Session, username: str, password: str, second_factor: str, now: datetime
) -> Caseworker:
    """Password and a TOTP (or recovery) code; the account, or AccountError(LOGIN_REFUSED).

    The caller commits even on refusal, so failures are counted. A locked name is
    refused without checking anything, with its own message (the lock is per name,
    so it says nothing about whether the account exists).
    """
    if is_locked(db, username, now):
        raise AccountError(LOCKED)
    caseworker = find_by_username(db, username)
    if caseworker is None:
        passwords.burn_verification(password)
        note_failure(db, username, now)
        raise AccountError(LOGIN_REFUSED)
    ok = passwords.verify_password(caseworker.password_hash, password)
    ok = ok and caseworker.active and caseworker.totp_confirmed
    ok = ok and (
        accept_totp(caseworker, second_factor) or use_recovery_code(db, caseworker, second_factor)
    )
    if not ok:
        note_failure(db, username, now)
        raise AccountError(LOGIN_REFUSED)
    if passwords.needs_rehash(caseworker.password_hash):
        caseworker.password_hash = passwords.hash_password(password)
    clear_failures(db, username)
    db.flush()
    return caseworker

"""Caseworker accounts: passwords, the TOTP second factor, recovery codes, invitations.

Checking a login (organisation, throttle, password, code) is in reporting/accounts/logins.py.

Plain functions on a database session, so views, the API and the `flask`
commands share them. Every refusal is an `AccountError` whose message can be
shown as it is; a failed login says the same whether or not the account exists.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crypto import SecretBox, passwords, totp
from crypto.instance_keys import LOGIN_THROTTLE, TOTP_SECRETS, derive_instance_key
from crypto.tokens import new_secret_hex, token_digest
from reporting.accounts import signin
from reporting.accounts.audit import Action, record
from reporting.infra.exceptions import Refused
from reporting.models import (
    ApiToken,
    Caseworker,
    Organisation,
    OrganisationRecipient,
    RecoveryCode,
    Role,
)

RECOVERY_CODES = 8
INVITE_TOKEN_BYTES = 32
# What authenticator apps show next to the code: neutral on purpose, because a phone searched
# at a border should not name the NGO its owner works for.
TOTP_ISSUER = "Casework"
LOGIN_REFUSED = "That username, password or code is not right, or the account is locked."
LOCKED = "Too many failed attempts: this account is locked for a while. Try again later."
ORGANISATION_NEEDED = (
    "This service hosts several organisations: give the name of yours as well as your username."
)


class AccountError(Refused):
    """A refused account action, with a message meant for the person at the keyboard."""


@dataclass(frozen=True)
class AccountKeys:
    """Keys derived from the instance secret for account data."""

    totp_box: SecretBox
    throttle_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> AccountKeys:
        return cls(
            SecretBox(derive_instance_key(secret, TOTP_SECRETS), "caseworker-totp"),
            derive_instance_key(secret, LOGIN_THROTTLE),
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


def check_username(username: str) -> str:
    """The normalised username, or AccountError when it is not one we accept."""
    name = normalise_username(username)
    # ASCII only: look-alike letters of other scripts would let one name pass for another.
    allowed = all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    if not name or len(name) > 64 or not allowed:
        raise AccountError(
            "A username is 1 to 64 characters: letters a to z, digits, dots, dashes or underscores."
        )
    return name


def create_caseworker(
    db: Session,
    organisation: Organisation,
    username: str,
    role: Role = Role.CASEWORKER,
    display_name: str = "",
) -> Caseworker:
    """A new account with no password yet (set by `set_password` or an invitation)."""
    name = check_username(username)
    if find_account(db, organisation.id, name) is not None:
        raise AccountError(f"The username {name!r} is taken.")
    caseworker = Caseworker(
        organisation_id=organisation.id, username=name, role=role, display_name=display_name
    )
    db.add(caseworker)
    db.flush()
    return caseworker


def set_password(db: Session, caseworker: Caseworker, password: str) -> None:
    """Set a new password; every session and token of the account ends."""
    check_password_strength(password, caseworker.username)
    caseworker.password_hash = passwords.hash_password(password)
    caseworker.auth_epoch += 1
    signin.revoke_tokens(db, caseworker.id)
    db.flush()


def start_totp_enrolment(caseworker: Caseworker, secret: bytes | None = None) -> bytes:
    """A fresh secret (or one the caller made and showed already), stored sealed and
    unconfirmed until a code proves the app has it."""
    secret = totp.new_secret() if secret is None else secret
    caseworker.totp_secret_sealed = base64.b64encode(keys().totp_box.seal(secret)).decode()
    caseworker.totp_confirmed = False
    caseworker.totp_last_step = 0
    return secret


def totp_uri(caseworker: Caseworker) -> str:
    """The otpauth:// URI of the account's secret, for a QR code during enrolment."""
    secret = totp_secret(caseworker)
    if secret is None:
        raise AccountError("This account has no authenticator secret yet.")
    return totp.provisioning_uri(secret, caseworker.username, TOTP_ISSUER)


def totp_secret(caseworker: Caseworker) -> bytes | None:
    """The account's TOTP secret, unsealed, or None when none is set."""
    if not caseworker.totp_secret_sealed:
        return None
    return keys().totp_box.open(base64.b64decode(caseworker.totp_secret_sealed))


def accept_totp(db: Session, caseworker: Caseworker, code: str, now: float | None = None) -> bool:
    """Whether the code is good now and newer than the last one accepted (no replay).

    The step is taken with one conditional UPDATE, so of logins racing with the same
    code exactly one sees its row change: a code works once under any concurrency."""
    secret = totp_secret(caseworker)
    if secret is None:
        return False
    step = totp.matching_step(secret, code, now)
    if step is None:
        return False
    taken = db.execute(
        update(Caseworker)
        .where(Caseworker.id == caseworker.id, Caseworker.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(caseworker, "totp_last_step", step)
    return True


def confirm_totp(db: Session, caseworker: Caseworker, code: str, now: float | None = None) -> bool:
    """Finish enrolment with a first code from the app."""
    if not accept_totp(db, caseworker, code, now):
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
    """Accept an unused recovery code once: spent by one conditional UPDATE, so of logins
    racing with the same code exactly one gets it."""
    spent = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.caseworker_id == caseworker.id,
            RecoveryCode.code_hash == _recovery_digest(code),
            RecoveryCode.used.is_(False),
        )
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def find_account(db: Session, organisation_id: str | None, username: str) -> Caseworker | None:
    """The account of this name in this organisation (names are unique per organisation)."""
    if organisation_id is None:
        return None
    return db.scalar(
        select(Caseworker).where(
            Caseworker.organisation_id == organisation_id,
            Caseworker.username == normalise_username(username),
        )
    )


# Invitations and enrolment.


def invite(
    db: Session,
    organisation: Organisation,
    username: str,
    role: Role = Role.CASEWORKER,
    display_name: str = "",
) -> tuple[Caseworker, str]:
    """A new account and the one-time token of its invitation link (only its digest is kept)."""
    caseworker = create_caseworker(db, organisation, username, role, display_name)
    return caseworker, renew_invite(db, caseworker)


def renew_invite(db: Session, caseworker: Caseworker) -> str:
    """A fresh invitation for an existing account (an expired link, a lost phone): its
    password, second factor, sessions and tokens end, and enrolment starts over."""
    token = new_secret_hex(INVITE_TOKEN_BYTES)
    caseworker.invite_token_hash = token_digest(token)
    caseworker.invite_expires_at = signin.utcnow() + timedelta(seconds=_limits().invite_seconds)
    caseworker.password_hash = ""
    caseworker.totp_secret_sealed = ""
    caseworker.totp_confirmed = False
    caseworker.auth_epoch += 1
    signin.revoke_tokens(db, caseworker.id)
    for old in list(caseworker.recovery_codes):
        db.delete(old)
    db.flush()
    return token


def find_invited(db: Session, token: str) -> Caseworker | None:
    """The account a live invitation token opens, or None (unknown, spent or expired)."""
    if not token or len(token) > 200:
        return None
    caseworker = db.scalar(
        select(Caseworker).where(Caseworker.invite_token_hash == token_digest(token))
    )
    if caseworker is None or not caseworker.active or caseworker.invite_expires_at is None:
        return None
    return caseworker if caseworker.invite_expires_at > signin.utcnow() else None


def accept_invite(db: Session, caseworker: Caseworker, password: str) -> None:
    """Set the invited person's password, spend the invitation, and start TOTP enrolment."""
    set_password(db, caseworker, password)
    caseworker.invite_token_hash = None
    caseworker.invite_expires_at = None
    start_totp_enrolment(caseworker)
    record(db, Action.PASSWORD_CHANGE, actor=caseworker, target=caseworker.id, detail="invitation")


def enrolling(db: Session, caseworker_id: object, epoch: object) -> Caseworker | None:
    """The account half-way through enrolment in this session: password set, TOTP not yet."""
    if not isinstance(caseworker_id, str):
        return None
    caseworker = db.get(Caseworker, caseworker_id)
    if (
        caseworker is None
        or not caseworker.active
        or caseworker.auth_epoch != epoch
        or not caseworker.password_hash
        or caseworker.totp_confirmed
        or not caseworker.totp_secret_sealed
    ):
        return None
    return caseworker


def finish_enrolment(
    db: Session,
    caseworker: Caseworker,
    code: str,
    detail: str = "invitation accepted",
    now: float | None = None,
) -> list[str]:
    """Confirm the authenticator with a first code; the recovery codes, to show once."""
    if not confirm_totp(db, caseworker, code, now):
        raise AccountError(
            "That code is not right. Type the 6 digits your authenticator app shows now "
            "(check that the phone's clock is set automatically)."
        )
    codes = new_recovery_codes(db, caseworker)
    record(db, Action.TOTP_CHANGE, actor=caseworker, target=caseworker.id, detail="enrolled")
    record(db, Action.ACCOUNT_CHANGE, actor=caseworker, target=caseworker.id, detail=detail)
    return codes


# The caseworker's own account page.


def change_password(db: Session, caseworker: Caseworker, new: str) -> None:
    """The caseworker's new password (after `reauthenticate`): every session and token of
    the account ends, and the caller signs this one in again."""
    set_password(db, caseworker, new)
    record(db, Action.PASSWORD_CHANGE, actor=caseworker, target=caseworker.id)


def own_key(db: Session, caseworker: Caseworker) -> OrganisationRecipient | None:
    """The caseworker's registered public key, if any."""
    return db.scalar(
        select(OrganisationRecipient).where(OrganisationRecipient.caseworker_id == caseworker.id)
    )


def renew_recovery_codes(db: Session, caseworker: Caseworker) -> list[str]:
    """New recovery codes (the old ones stop working), to show once."""
    codes = new_recovery_codes(db, caseworker)
    record(db, Action.TOTP_CHANGE, actor=caseworker, target=caseworker.id, detail="recovery")
    return codes


def live_tokens(db: Session, caseworker: Caseworker) -> list[ApiToken]:
    """The caseworker's API tokens that still open the API, oldest first."""
    return list(
        db.scalars(
            select(ApiToken)
            .where(
                ApiToken.caseworker_id == caseworker.id,
                ApiToken.revoked.is_(False),
                ApiToken.auth_epoch == caseworker.auth_epoch,
                ApiToken.expires_at > signin.utcnow(),
            )
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )


def revoke_own_token(db: Session, caseworker: Caseworker, token_id: int) -> bool:
    """Revoke one of the caseworker's own tokens; False when they hold no such token."""
    token = db.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.caseworker_id == caseworker.id)
    )
    if token is None or token.revoked:
        return False
    token.revoked = True
    record(db, Action.TOKEN_REVOKED, actor=caseworker, target=str(token.id))
    return True

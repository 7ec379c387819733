"""An admin's changes to the organisation's caseworker accounts: invite, disable,
re-enable, change role.

Disabling ends the account's sessions and tokens at once (a raised `auth_epoch`,
revoked tokens) and drops its key from new reports (`recipients_of` skips inactive
caseworkers); re-enabling brings the key back. The organisation always keeps one
admin who can sign in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reporting.accounts import audit, caseworkers
from reporting.accounts.audit import Action
from reporting.accounts.caseworkers import AccountError
from reporting.accounts.signin import revoke_tokens
from reporting.models import Caseworker, OrganisationRecipient, Role
from reporting.organisations.administration import AdminError
from reporting.organisations.recipients import recipients_of


@dataclass(frozen=True)
class StaffRow:
    """What the caseworkers page shows of one account."""

    caseworker: Caseworker
    has_key: bool
    enrolled: bool


def roster(db: Session, organisation_id: str) -> list[StaffRow]:
    """The organisation's accounts, by username, with whether each holds a key and TOTP."""
    with_key = set(
        db.scalars(
            select(OrganisationRecipient.caseworker_id).where(
                OrganisationRecipient.organisation_id == organisation_id,
                OrganisationRecipient.caseworker_id.is_not(None),
            )
        )
    )
    people = db.scalars(
        select(Caseworker)
        .where(Caseworker.organisation_id == organisation_id)
        .order_by(Caseworker.username)
    )
    return [StaffRow(c, c.id in with_key, c.totp_confirmed) for c in people]


def invite(
    db: Session, actor: Caseworker, username: str, role: Role, display_name: str
) -> tuple[Caseworker, str]:
    """A new account in the admin's organisation and its one-time invitation token."""
    display_name = " ".join(display_name.split())
    if len(display_name) > 200:
        raise AdminError("A display name is at most 200 characters.", "display_name")
    try:
        caseworker, token = caseworkers.invite(db, actor.organisation, username, role, display_name)
    except AccountError as error:
        raise AdminError(str(error)) from None
    audit.record(
        db, Action.ACCOUNT_CHANGE, actor=actor, target=caseworker.id, detail=f"invited role={role}"
    )
    return caseworker, token


def _other_admins(db: Session, caseworker: Caseworker) -> int:
    """Admins of the organisation besides `caseworker` who are active and can sign in."""
    count = db.scalar(
        select(func.count())
        .select_from(Caseworker)
        .where(
            Caseworker.organisation_id == caseworker.organisation_id,
            Caseworker.id != caseworker.id,
            Caseworker.role == Role.ADMIN,
            Caseworker.active.is_(True),
            Caseworker.totp_confirmed.is_(True),
            Caseworker.password_hash != "",
        )
    )
    return int(count or 0)


def _keep_an_admin(db: Session, caseworker: Caseworker, doing: str) -> None:
    if caseworker.is_admin and caseworker.active and _other_admins(db, caseworker) == 0:
        raise AdminError(
            f"{caseworker.username} is the organisation's last active admin and cannot be "
            f"{doing}: make another caseworker an admin first."
        )


def disable(db: Session, actor: Caseworker, caseworker: Caseworker) -> bool:
    """Disable an account; True when no key is then left for new reports (a warning: a
    compromised account must be disabled even so)."""
    if not caseworker.active:
        raise AdminError(f"{caseworker.username} is already disabled.")
    _keep_an_admin(db, caseworker, "disabled")
    caseworker.active = False
    caseworker.auth_epoch += 1
    revoke_tokens(db, caseworker.id)
    audit.record(db, Action.ACCOUNT_CHANGE, actor=actor, target=caseworker.id, detail="disabled")
    db.flush()
    return not recipients_of(caseworker.organisation)


def enable(db: Session, actor: Caseworker, caseworker: Caseworker) -> None:
    """Re-enable an account: it may sign in again and its key is used for new reports."""
    if caseworker.active:
        raise AdminError(f"{caseworker.username} is already active.")
    caseworker.active = True
    audit.record(db, Action.ACCOUNT_CHANGE, actor=actor, target=caseworker.id, detail="enabled")
    db.flush()


def set_role(db: Session, actor: Caseworker, caseworker: Caseworker, role: Role) -> None:
    """Make an account an admin or a caseworker (admin pages check the role on every request)."""
    if caseworker.role is role:
        raise AdminError(f"{caseworker.username} is already {role_name(role)}.")
    if role is not Role.ADMIN:
        _keep_an_admin(db, caseworker, "demoted")
    caseworker.role = role
    audit.record(
        db, Action.ACCOUNT_CHANGE, actor=actor, target=caseworker.id, detail=f"role={role}"
    )
    db.flush()


def role_name(role: Role) -> str:
    return "an admin" if role is Role.ADMIN else "a caseworker"

"""An admin's changes to their organisation: its keys, retention and notices, and dead
deliveries to retry.

Plain functions on a session, called by the admin pages (and usable from tests or
commands). Each change is audited in the caller's transaction with a content-free
detail; each refusal is an `AdminError` whose message can be shown as it is. Caseworker
accounts are in `reporting.accounts.staff`, tags in `reporting.casework.tags`, partners and delivery
channels in `reporting.organisations.partners`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting.accounts import audit
from reporting.accounts.audit import Action
from reporting.delivery.addresses import check_email_address
from reporting.delivery.outbox import reset_dead
from reporting.infra.exceptions import Refused
from reporting.models import (
    Caseworker,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Organisation,
    OrganisationRecipient,
)
from reporting.organisations.recipients import OrganisationError, add_recipient, recipients_of

T = TypeVar("T")

MAX_RETENTION_DAYS = 3650
MAX_DELETION_DELAY_DAYS = 90


class AdminError(Refused):
    """A refused admin change, with a message meant for the admin at the keyboard and,
    when one input is at fault, that input's name."""


def same_name(rows: Iterable[T], name: str, keep: T | None = None) -> T | None:
    """The row (other than `keep`) whose `name` matches, whatever the case.

    Compared here, not with SQL lower(): SQLite (and PostgreSQL under the C locale) folds
    only ASCII, so "È" and "è" would both pass the check and the second insert would hit
    the unique index (a 500). An organisation has few tags or partners to compare.
    """
    folded = name.casefold()
    for row in rows:
        if row is not keep and getattr(row, "name", "").casefold() == folded:
            return row
    return None


def sentence(error: Exception) -> str:
    """A checker's lower-case reason as a sentence for the page."""
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def owned(db: Session, model: type[T], row_id: Any, organisation_id: str) -> T | None:
    """A row of `model` by id, but only if it belongs to the organisation: another
    organisation's row is as absent as one that does not exist."""
    row = db.get(model, row_id)
    if row is None or getattr(row, "organisation_id", None) != organisation_id:
        return None
    return row


# The organisation's keys.


def in_use(row: OrganisationRecipient) -> bool:
    """Whether new reports are encrypted to this key (a disabled caseworker's is left out)."""
    return row.caseworker is None or row.caseworker.active


def add_organisation_key(
    db: Session, actor: Caseworker, text: str, label: str
) -> OrganisationRecipient:
    """Add a key of the organisation itself (an escrow key kept offline, say)."""
    try:
        row = add_recipient(db, actor.organisation, text, label.strip())
    except OrganisationError as error:
        raise AdminError(str(error)) from None
    audit.record(db, Action.KEY_CHANGE, actor=actor, target=str(row.id), detail="org key added")
    return row


def remove_organisation_key(db: Session, actor: Caseworker, row: OrganisationRecipient) -> None:
    """Remove an organisation key, unless new reports would then have no recipient at all."""
    if row.caseworker_id is not None:
        raise AdminError(
            "This is a caseworker's key: it leaves new reports when their account is disabled."
        )
    organisation = actor.organisation
    if in_use(row) and len(recipients_of(organisation)) <= 1:
        raise AdminError(
            "This is the last key new reports could be encrypted to: removing it would leave "
            "the portal unable to accept reports. Add another key first."
        )
    audit.record(db, Action.KEY_CHANGE, actor=actor, target=str(row.id), detail="org key removed")
    organisation.recipients.remove(row)
    db.delete(row)
    db.flush()


# Retention and notices.


def update_settings(
    db: Session,
    organisation: Organisation,
    actor: Caseworker | None,
    retention_days: int,
    notify_email: str,
    *,
    deletion_delay_days: int | None = None,
    max_report_age_days: int | None = None,
) -> list[str]:
    """Set how long closed reports are kept, how long a report its reporter asked to delete
    waits for the purge, the maximum age of any report (None leaves these two as they are),
    and where "new reports" notices go.

    The admin page and `flask org retention` / `flask org notify` both call this, so both
    check the same limits and leave the same audit entry (without an actor, it was an
    operator at the command line).
    """
    notify_email = notify_email.strip()
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise AdminError(f"Keep closed reports for 1 to {MAX_RETENTION_DAYS} days.")
    if deletion_delay_days is not None and not 0 <= deletion_delay_days <= MAX_DELETION_DELAY_DAYS:
        raise AdminError(
            f"Wait 0 to {MAX_DELETION_DELAY_DAYS} days before deleting a report on request."
        )
    if max_report_age_days is not None and not 1 <= max_report_age_days <= MAX_RETENTION_DAYS:
        raise AdminError(f"Keep any report for 1 to {MAX_RETENTION_DAYS} days at most.")
    if notify_email:
        try:
            check_email_address(notify_email)
        except ValueError as error:
            raise AdminError(sentence(error)) from None
    changed = []
    if organisation.retention_days != retention_days:
        organisation.retention_days = retention_days
        changed.append(f"retention_days={retention_days}")
    for name, value in (
        ("deletion_delay_days", deletion_delay_days),
        ("max_report_age_days", max_report_age_days),
    ):
        if value is not None and getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(f"{name}={value}")
    if organisation.notify_email != notify_email:
        organisation.notify_email = notify_email
        changed.append("notify=" + ("on" if notify_email else "off"))
    if changed:
        record_organisation_change(db, actor, organisation.id, " ".join(changed))
    db.flush()
    return changed


def record_organisation_change(
    db: Session, actor: Caseworker | None, organisation_id: str, detail: str, target: str = ""
) -> None:
    """Audit a change to the organisation's set-up, made on the admin pages or (without an
    actor) by an operator at the command line, which the entry says."""
    audit.record(
        db,
        Action.ORGANISATION_CHANGE,
        actor=actor,
        organisation_id=organisation_id,
        target=target,
        detail=detail + ("" if actor else " by operator"),
    )


# Dead deliveries.


def dead_deliveries(db: Session, organisation: Organisation) -> list[Delivery]:
    """The organisation's deliveries that gave up: reports and escalations to partners."""
    return list(
        db.scalars(
            select(Delivery)
            .join(DeliveryChannel, Delivery.channel_id == DeliveryChannel.id)
            .where(DeliveryChannel.organisation_id == organisation.id)
            .where(Delivery.state == DeliveryState.DEAD)
            .order_by(Delivery.created_on, Delivery.report_id, Delivery.part, Delivery.id)
        )
    )


def retry_dead_deliveries(
    db: Session, actor: Caseworker, delivery_ids: Sequence[str] | None = None
) -> list[str]:
    """Start the organisation's dead deliveries (all, or the given ones) over.

    Returns the ids to queue after the commit; others' deliveries are never touched.
    """
    own = [d.id for d in dead_deliveries(db, actor.organisation)]
    wanted = own if delivery_ids is None else [i for i in own if i in set(delivery_ids)]
    ids = reset_dead(db, wanted) if wanted else []
    if ids:
        target = ids[0] if delivery_ids is not None and len(ids) == 1 else "all"
        audit.record(
            db, Action.DELIVERY_RETRY, actor=actor, target=target, detail=f"retried={len(ids)}"
        )
    return ids

"""Organisations and their caseworkers' public keys: who a new report is encrypted to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import KeyFormatError, Recipient, parse_recipient
from reporting.infra.exceptions import Refused
from reporting.models import Organisation, OrganisationRecipient


class OrganisationError(Refused):
    """A refused change to organisations, with a message meant for the operator."""


def create_organisation(db: Session, name: str) -> Organisation:
    """Add an organisation; names are unique so commands can refer to them."""
    name = name.strip()
    if not name:
        raise OrganisationError("an organisation needs a name")
    if find_organisation(db, name) is not None or _named(db, name):
        raise OrganisationError(f"an organisation named {name!r} already exists")
    organisation = Organisation(name=name)
    db.add(organisation)
    db.flush()
    return organisation


def find_organisation(db: Session, name: str) -> Organisation | None:
    """The organisation with this name, if any."""
    return db.scalar(select(Organisation).where(Organisation.name == name.strip()))


def _named(db: Session, name: str) -> list[Organisation]:
    """The organisations of this name, ignoring case (as a login types it)."""
    wanted = name.strip().lower()
    return list(db.scalars(select(Organisation).where(func.lower(Organisation.name) == wanted)))


def login_organisation(db: Session, name: str) -> Organisation | None:
    """The organisation a login names, ignoring case; when it names none, the service's only
    organisation (None when there are several, or none of that name)."""
    if name.strip():
        found = _named(db, name)
        return found[0] if len(found) == 1 else None
    return _only_organisation(db)


def _only_organisation(db: Session) -> Organisation | None:
    if db.scalar(select(func.count()).select_from(Organisation)) != 1:
        return None
    return db.scalar(select(Organisation))


class KeyRefused(OrganisationError):
    """A refused public key, with a sentence to show as it is. `conflict` when the key itself
    is fine but clashes with the organisation's other keys."""

    def __init__(self, message: str, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict


def parse_public_key(text: str) -> Recipient:
    """An age public key, never a secret one: a pasted secret key is refused without being
    repeated, so it reaches no page, log or audit entry."""
    if "SECRET-KEY" in text.upper():
        raise KeyRefused(
            "That is a private key (an age secret key): keep it on its owner's machine and "
            "give its public key (age1pq1… or age1…) instead. Nothing was stored."
        )
    try:
        return parse_recipient(text.strip())
    except KeyFormatError as error:
        raise KeyRefused(
            f"This is not an age public key ({error}); it should start with age1pq1 or age1."
        ) from None


def check_recipient(text: str, others: Iterable[str]) -> Recipient:
    """A key new reports may be encrypted to beside the organisation's `others`: the one
    check for the operator's command, the admin page and a caseworker's own key.

    A key already there is refused (each caseworker makes their own), and so is a key of
    the other kind, since a report is only as strong as the weaker of its keys.
    """
    recipient = parse_public_key(text)
    existing = [parse_recipient(other) for other in others]
    if any(str(r) == str(recipient) for r in existing):
        raise KeyRefused(
            "This key is already one of the organisation's keys: each caseworker makes a key "
            "of their own (reporting-caseworker keygen).",
            conflict=True,
        )
    if existing and existing[0].post_quantum != recipient.post_quantum:
        kinds = "post-quantum (age1pq1…)" if existing[0].post_quantum else "classic (age1…)"
        raise KeyRefused(
            f"The organisation's keys are {kinds}; mixing kinds would leave every report only "
            "as strong as the weaker key. Give a key of the same kind (age-keygen -pq makes "
            "post-quantum keys).",
            conflict=True,
        )
    return recipient


def add_recipient(
    db: Session, organisation: Organisation, text: str, label: str = ""
) -> OrganisationRecipient:
    """Add a public key of the organisation (an operator's or an admin's change)."""
    recipient = check_recipient(text, [r.recipient for r in organisation.recipients])
    row = OrganisationRecipient(organisation=organisation, recipient=str(recipient), label=label)
    db.add(row)
    db.flush()
    return row


def recipients_of(organisation: Organisation) -> list[Recipient]:
    """The parsed public keys that new reports are encrypted to: the organisation's own
    keys (an escrow key, say) and those of its caseworkers who are not disabled."""
    return [
        parse_recipient(row.recipient)
        for row in organisation.recipients
        if row.caseworker is None or row.caseworker.active
    ]


def receiving_organisation(db: Session, configured_name: str | None) -> Organisation | None:
    """The organisation this portal files reports with: the configured one, or the only one."""
    if configured_name:
        return find_organisation(db, configured_name)
    return _only_organisation(db)

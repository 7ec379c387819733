"""Organisations and their caseworkers' public keys: who a new report is encrypted to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import KeyFormatError, Recipient, parse_recipient
from reporting.models import Organisation, OrganisationRecipient


class OrganisationError(Exception):
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


def add_recipient(
    db: Session, organisation: Organisation, text: str, label: str = ""
) -> OrganisationRecipient:
    """Add a caseworker's public key, refusing anything that would weaken every report."""
    if "SECRET-KEY" in text.upper():
        raise OrganisationError("that is a private key: give the public key (age1…) instead")
    try:
        recipient = parse_recipient(text)
    except KeyFormatError as error:
        raise OrganisationError(
            f"not an age public key ({error}); it should start with age1pq1 or age1"
        ) from None
    canonical = str(recipient)
    existing = [parse_recipient(r.recipient) for r in organisation.recipients]
    if any(str(r) == canonical for r in existing):
        raise OrganisationError("this key is already one of the organisation's recipients")
    if existing and existing[0].post_quantum != recipient.post_quantum:
        kinds = "post-quantum (age1pq1…)" if existing[0].post_quantum else "classic (age1…)"
        raise OrganisationError(
            f"this organisation's keys are {kinds}; mixing kinds would leave every report only "
            "as strong as the weaker key. Add a key of the same kind (age-keygen -pq makes "
            "post-quantum keys)."
        )
    row = OrganisationRecipient(organisation=organisation, recipient=canonical, label=label)
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

"""A caseworker's own public key: registered from their machine, never a secret key.

New reports of the organisation are encrypted to it (organisations.recipients_of)
while the caseworker is active. Registering a new key replaces the old one for
new reports; what was encrypted to the old key still needs the old secret key.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto import KeyFormatError, parse_recipient
from reporting.accounts.audit import Action, record
from reporting.models import Caseworker, OrganisationRecipient


class KeyRefused(Exception):
    """A refused key, with a sentence for the caseworker. `conflict` when the key itself is
    fine but clashes with the organisation's other keys."""

    def __init__(self, message: str, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def _parse(text: str) -> str:
    if "SECRET-KEY" in text.upper():
        raise KeyRefused(
            "That is a secret key: keep it on your own machine and send its public key "
            "(age1pq1… or age1…) instead. Nothing was stored."
        )
    try:
        return str(parse_recipient(text.strip()))
    except KeyFormatError as error:
        raise KeyRefused(
            f"Not an age public key ({error}); it should start with age1pq1 or age1."
        ) from None


def register_recipient(db: Session, caseworker: Caseworker, text: str) -> OrganisationRecipient:
    """Register (or replace) the caseworker's public key, audited in the caller's transaction."""
    canonical = _parse(text)
    others = list(
        db.scalars(
            select(OrganisationRecipient.recipient).where(
                OrganisationRecipient.organisation_id == caseworker.organisation_id,
                (OrganisationRecipient.caseworker_id != caseworker.id)
                | OrganisationRecipient.caseworker_id.is_(None),
            )
        )
    )
    if canonical in others:
        raise KeyRefused(
            "This key is already registered in your organisation: make a key of your own "
            "(reporting-caseworker keygen).",
            conflict=True,
        )
    post_quantum = parse_recipient(canonical).post_quantum
    if others and parse_recipient(others[0]).post_quantum != post_quantum:
        kinds = "classic (age1…)" if post_quantum else "post-quantum (age1pq1…)"
        raise KeyRefused(
            f"Your organisation's keys are {kinds}; mixing kinds would leave every report only "
            "as strong as the weaker key. Register a key of the same kind.",
            conflict=True,
        )
    db.execute(
        delete(OrganisationRecipient).where(OrganisationRecipient.caseworker_id == caseworker.id)
    )
    row = OrganisationRecipient(
        organisation_id=caseworker.organisation_id,
        recipient=canonical,
        label=caseworker.username,
        caseworker_id=caseworker.id,
    )
    db.add(row)
    db.flush()
    record(db, Action.KEY_CHANGE, actor=caseworker, target=caseworker.id, detail="recipient=set")
    return row

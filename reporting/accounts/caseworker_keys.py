"""A caseworker's own public key: registered from their machine, never a secret key.

New reports of the organisation are encrypted to it (organisations.recipients_of)
while the caseworker is active. Registering a new key replaces the old one for
new reports; what was encrypted to the old key still needs the old secret key.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reporting.accounts.audit import Action, record
from reporting.models import Caseworker, OrganisationRecipient
from reporting.organisations.recipients import check_recipient


def register_recipient(db: Session, caseworker: Caseworker, text: str) -> OrganisationRecipient:
    """Register (or replace) the caseworker's public key, audited in the caller's transaction;
    refused as `organisations.KeyRefused` by the same check as the organisation's keys."""
    others = db.scalars(
        select(OrganisationRecipient.recipient).where(
            OrganisationRecipient.organisation_id == caseworker.organisation_id,
            (OrganisationRecipient.caseworker_id != caseworker.id)
            | OrganisationRecipient.caseworker_id.is_(None),
        )
    )
    canonical = str(check_recipient(text, others))
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

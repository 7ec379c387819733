"""Storing what the caseworker client encrypted: replies, notes, status notes, escalations.

The client encrypts on the caseworker's machine; the server checks that what it
gets is an age file (crypto/inspect.py), stores it byte for byte and never sees
the plaintext. Like a submission, each is stored whole or not at all: the blobs
are committed under their final names, then the rows and the audit entry go in
one transaction, and if anything fails every blob written is deleted again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import AgeError
from crypto.inspect import binary_age_file
from reporting.accounts.audit import Action, record
from reporting.casework.triage.apply import replace_status_note
from reporting.delivery.outbox import partner_channels, plan_escalation
from reporting.infra.blobs import (
    BlobStore,
    BlobWriter,
    CiphertextWriter,
    NotPadded,
    discarded_on_failure,
)
from reporting.infra.db import Database
from reporting.infra.exceptions import Refused
from reporting.intake.submissions import commit_all, next_seq
from reporting.models import (
    Attachment,
    Blob,
    Caseworker,
    Consent,
    Message,
    MessageKind,
    Partner,
    Report,
    ReportStatus,
)
from reporting.web.inputs import int_id

CLIENT_KINDS = (MessageKind.REPLY, MessageKind.NOTE)
SHAREABLE = (Consent.ANONYMISED, Consent.FULL)


class MessageRefused(Refused):
    """A refused message, with a sentence for the caseworker; nothing was stored."""


class BadCiphertext(MessageRefused):
    """What was sent is not a whole age file."""


class ConsentRefused(MessageRefused):
    """The reporter did not allow their report to be shared."""


class PartnerNotFound(MessageRefused):
    """No such partner in the caseworker's organisation."""


class NotDeliverable(MessageRefused):
    """The partner has no enabled delivery channel, so an escalation could not reach them."""


def ciphertext_blob(store: BlobStore, data: bytes | str) -> CiphertextWriter:
    """A committed-to-be blob holding the age file in `data` (binary or armored), checked;
    BadCiphertext if it is not one."""
    try:
        raw = binary_age_file(data)
    except AgeError as error:
        raise BadCiphertext(f"Not a whole age file: {error}.") from None
    writer = store.ciphertext_writer()
    with discarded_on_failure([writer]):
        writer.write(raw)
    return writer


def store_client_message(
    database: Database,
    store: BlobStore,
    actor: Caseworker,
    report: Report,
    kind: MessageKind,
    ciphertext: bytes | str,
) -> Message:
    """Store a reply (to the reporter and the organisation) or an internal note.

    Neither is delivered anywhere: the reporter reads replies when they come back, and
    the organisation's caseworkers read both through the API.
    """
    if kind not in CLIENT_KINDS:
        raise ValueError(f"a caseworker does not write {kind} messages")
    writer = ciphertext_blob(store, ciphertext)
    with discarded_on_failure([writer]):
        [blob] = _commit_checked([writer])
        with database.transaction() as db:
            db.add(blob)
            db.flush()
            message = Message(
                report_id=report.id,
                seq=next_seq(db, report.id),
                kind=kind,
                document_blob_id=blob.id,
                author_id=actor.id,
            )
            db.add(message)
            db.flush()
            action = Action.REPLY if kind is MessageKind.REPLY else Action.NOTE
            record(db, action, actor=actor, target=report.id, detail=f"message={message.id}")
    return message


def set_client_status_note(
    database: Database,
    store: BlobStore,
    actor: Caseworker,
    report: Report,
    ciphertext: bytes | str | None,
) -> str | None:
    """Set (or, with None, remove) the note the reporter sees beside the status.

    Returns the new note's blob id. The previous note's file is deleted once the
    change has committed.
    """
    writer = None if ciphertext is None else ciphertext_blob(store, ciphertext)
    with discarded_on_failure([writer] if writer else []):
        blobs = _commit_checked([writer] if writer else [])
        with database.transaction() as db:
            db.add_all(blobs)
            db.flush()
            old = replace_status_note(
                db, actor, db.get_one(Report, report.id), writer.id if writer else None
            )
    if old is not None:
        store.remove(old)
    return writer.id if writer else None


def _commit_checked(writers: Sequence[BlobWriter]) -> list[Blob]:
    """Commit blobs whose last check (a payload cut short, say) happens at commit."""
    try:
        return commit_all(writers)
    except NotPadded as error:
        raise BadCiphertext(f"Not padded: {error}.") from None
    except AgeError as error:
        raise BadCiphertext(f"Not a whole age file: {error}.") from None


def find_partner(db: Session, actor: Caseworker, partner_id: object) -> Partner | None:
    """A partner of the caseworker's organisation; None for any other id."""
    number = int_id(partner_id)
    if number is None:
        return None
    return db.scalar(
        select(Partner).where(
            Partner.id == number, Partner.organisation_id == actor.organisation_id
        )
    )


def check_consent(report: Report) -> None:
    """Refuse when the reporter does not allow sharing now (or said nothing we kept), or
    asked for the report to be deleted."""
    if report.deletion_requested_on is not None:
        raise ConsentRefused(
            "The reporter asked for this report to be deleted: it cannot be shared."
        )
    if report.consent not in SHAREABLE:
        raise ConsentRefused(
            "The reporter did not allow this report to be shared outside the organisation."
        )


def store_escalation(
    database: Database,
    store: BlobStore,
    actor: Caseworker,
    report: Report,
    partner_id: object,
    document: bytes | str | CiphertextWriter,
    attachments: Sequence[bytes | str | CiphertextWriter] = (),
) -> tuple[Message, list[str]]:
    """Store an escalation to a partner (encrypted by the client to the partner's keys),
    its deliveries to the partner's channels and the report's new status, in one
    transaction; the caller queues the deliveries once it committed.

    Refused unless the reporter allowed sharing, and the partner is one of the
    organisation's own with an enabled channel.
    """
    parts = (document, *attachments)
    with discarded_on_failure(p for p in parts if isinstance(p, BlobWriter)) as written:
        writers: list[BlobWriter] = []
        for part in parts:
            if isinstance(part, BlobWriter):
                writers.append(part)
            else:
                writers.append(ciphertext_blob(store, part))
                written.append(writers[-1])
        with database.transaction() as db:
            row = db.get_one(Report, report.id)
            check_consent(row)
            partner = find_partner(db, actor, partner_id)
            if partner is None or row.organisation_id != partner.organisation_id:
                raise PartnerNotFound("No such partner in your organisation.")
            if not partner_channels(db, partner):
                raise NotDeliverable(
                    f"The partner {partner.name!r} has no delivery channel: ask an admin to "
                    "add one before escalating to them."
                )
            db.add_all(_commit_checked(writers))
            db.flush()
            message = Message(
                report_id=row.id,
                seq=next_seq(db, row.id),
                kind=MessageKind.ESCALATION,
                document_blob_id=writers[0].id,
                author_id=actor.id,
                partner_id=partner.id,
                attachments=[
                    Attachment(position=i, blob_id=w.id) for i, w in enumerate(writers[1:])
                ],
            )
            db.add(message)
            db.flush()
            deliveries = plan_escalation(db, partner, message, [w.id for w in writers])
            record(
                db,
                Action.ESCALATION,
                actor=actor,
                target=row.id,
                detail=f"partner={partner.id} message={message.id}",
            )
            if row.status is not ReportStatus.ESCALATED:
                row.status = ReportStatus.ESCALATED
                row.closed_on = None
                record(
                    db, Action.STATUS_CHANGE, actor=actor, target=row.id, detail="status=escalated"
                )
            db.flush()
    return message, [d.id for d in deliveries]

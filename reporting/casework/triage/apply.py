"""The status note: a message to the reporter shown beside the status.

Typed into the web form, it is encrypted on arrival (like a reporter's submission) to
the reporter's key and the organisation's keys; the server keeps only the ciphertext.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import object_session

from crypto import EncryptionError, parse_recipient, reply_recipients
from protocol import encode, status_note_document
from reporting.accounts.audit import Action, record
from reporting.casework.triage.changes import update_triage
from reporting.casework.triage.common import UNSET, TriageError
from reporting.infra.blobs import BlobStore, BlobWriter
from reporting.infra.db import Database
from reporting.models import Blob, Caseworker, Report
from reporting.organisations.recipients import recipients_of

MAX_NOTE_CHARS = 5000


def _note_writer(store: BlobStore, report: Report, text: str) -> BlobWriter:
    """Encrypt the note on arrival to the reporter's key and the organisation's keys."""
    recipients = reply_recipients(
        parse_recipient(report.reporter_recipient), recipients_of(report.organisation)
    )
    try:
        writer = store.writer(recipients, pad_byte=b" ")  # aborts itself if this fails
    except EncryptionError as error:
        raise TriageError(f"The note could not be encrypted: {error}", "note") from None
    try:
        writer.write(encode(status_note_document(text)))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return writer


def apply_triage(
    database: Database,
    store: BlobStore,
    actor: Caseworker,
    report: Report,
    *,
    note: Any = UNSET,
    **fields: Any,
) -> list[str]:
    """The triage form: fields and status note in one transaction, whole or nothing.

    `note` None or blank removes the status note; UNSET leaves it. The old note's blob is
    deleted once the change has committed.
    """
    text = None if note is UNSET or note is None else note.strip()
    if text is not None and len(text) > MAX_NOTE_CHARS:
        raise TriageError(f"The note is longer than {MAX_NOTE_CHARS} characters.", "note")
    writer: BlobWriter | None = None
    old_blob = None
    try:
        with database.transaction() as db:
            mine = db.get_one(Report, report.id)
            me = db.get_one(Caseworker, actor.id)
            changed = update_triage(db, me, mine, **fields)
            if note is not UNSET and (text or mine.status_note_blob_id):
                if text:
                    writer = _note_writer(store, mine, text)
                    db.add(Blob(id=writer.id, size=writer.stored_size))
                old_blob = mine.status_note_blob_id
                mine.status_note_blob_id = writer.id if writer else None
                db.flush()
                if old_blob:
                    db.execute(delete(Blob).where(Blob.id == old_blob))
                detail = "status_note=set" if writer else "status_note=removed"
                record(db, Action.REPLY, actor=me, target=mine.id, detail=detail)
                changed.append("status_note")
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if old_blob:
        store.remove(old_blob)
    session = object_session(report)
    if session is not None:
        session.expire(report)  # the caller's copy predates this transaction
    return changed


def set_status_note(
    database: Database, store: BlobStore, actor: Caseworker, report: Report, text: str | None
) -> None:
    """Replace (or, with None or blank text, remove) the note the reporter sees."""
    apply_triage(database, store, actor, report, note=text)

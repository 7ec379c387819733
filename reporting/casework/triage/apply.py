"""The status note: a message to the reporter shown beside the status.

Typed into the web form, it is encrypted on arrival (like a reporter's submission) to
the reporter's key and the organisation's keys; the server keeps only the ciphertext.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, object_session

from crypto import EncryptionError, parse_recipient, reply_recipients
from protocol import encode, status_note_document
from reporting.accounts.audit import Action, record
from reporting.casework.triage.changes import update_triage
from reporting.casework.triage.common import UNSET, TriageError
from reporting.infra.blobs import BlobStore, BlobWriter, discarded_on_failure
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
    with discarded_on_failure([writer]):
        writer.write(encode(status_note_document(text)))
        writer.commit()
    return writer


def replace_status_note(
    db: Session, actor: Caseworker, report: Report, blob_id: str | None
) -> str | None:
    """Show the reporter the note in blob `blob_id` (None: no note), audited, in the caller's
    transaction: the one way a status note changes, whether the server encrypted it (the web
    form) or the caseworker client did (the API).

    Returns the old note's blob id, whose file the caller deletes once the change committed.
    """
    old = report.status_note_blob_id
    report.status_note_blob_id = blob_id
    db.flush()
    if old is not None:
        db.execute(delete(Blob).where(Blob.id == old))
    detail = "status_note=set" if blob_id else "status_note=removed"
    record(db, Action.REPLY, actor=actor, target=report.id, detail=detail)
    return old


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
    old_blob = None
    with discarded_on_failure() as written, database.transaction() as db:
        mine = db.get_one(Report, report.id)
        me = db.get_one(Caseworker, actor.id)
        changed = update_triage(db, me, mine, **fields)
        if note is not UNSET and (text or mine.status_note_blob_id):
            new_blob = None
            if text:
                writer = _note_writer(store, mine, text)
                written.append(writer)
                db.add(Blob(id=writer.id, size=writer.stored_size))
                new_blob = writer.id
            old_blob = replace_status_note(db, me, mine, new_blob)
            changed.append("status_note")
    if old_blob:
        store.remove(old_blob)
    session = object_session(report)
    if session is not None:
        session.expire(report)  # the caller's copy predates this transaction
    return changed

"""Storing what reporters send: whole or not at all.

Every blob of a submission is first committed under its final name, then the
rows are inserted in one transaction. If anything fails, every blob written for
the submission is deleted again, so no row points at a missing file and no file
outlives a refused submission. (A crash between the two steps can leave
ciphertext without a row; `flask blobs sweep` removes such orphans.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Conflict

from crypto import (
    CodenameKeys,
    Recipient,
    derive_keys,
    generate_codename,
)
from protocol import (
    AttachmentInfo,
    encode,
    followup_document,
    report_document,
)
from reporting.delivery.outbox import plan_deliveries
from reporting.infra.blobs import BlobStore, BlobWriter, discarded_on_failure
from reporting.infra.db import CommitUncertain, Database
from reporting.models import (
    Attachment,
    Blob,
    Consent,
    KeptUpload,
    Message,
    MessageKind,
    Organisation,
    Report,
)

MAX_FILENAME_CHARS = 255


@dataclass
class Upload:
    """A file that arrived encrypted, with what the browser said about it."""

    sink: BlobWriter
    filename: str
    content_type: str
    description: str = ""  # the reporter's one line about it


@dataclass(frozen=True)
class KeptFile:
    """A file received with an earlier try of the form, kept for the reporter's session
    (kept_files.py): already a committed blob, claimed by the report that is stored."""

    blob_id: str
    stored_size: int
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str


def described(upload: Upload, stored_size: int = 0) -> KeptFile:
    """What the form said of an upload (`stored_size` once its blob is committed)."""
    return KeptFile(
        upload.sink.id,
        stored_size,
        upload.filename[:MAX_FILENAME_CHARS],
        upload.content_type[:MAX_FILENAME_CHARS],
        upload.sink.size,
        upload.sink.sha256,
        upload.description,
    )


class KeptFileGone(Conflict):
    """A kept file was swept between reading the form and storing it: nothing is stored."""


@dataclass(frozen=True)
class Receipt:
    """What the reporter takes away. The codename is shown once and never stored."""

    report_id: str
    codename: str
    reply_identity: str
    delivery_ids: list[str]
    urgent: bool = False  # the organisation's immediate notice is due once it committed


@dataclass(frozen=True)
class Stored:
    """A stored message, and the deliveries to queue once its transaction committed."""

    message_id: str
    delivery_ids: list[str]


def _delivery_order(writers: Sequence[BlobWriter], kept: Sequence[KeptFile]) -> list[str]:
    """The document (written last) first, then the attachments in order (kept ones first)."""
    return [writers[-1].id, *(f.blob_id for f in kept), *(w.id for w in writers[:-1])]


def _attachment_infos(kept: Sequence[KeptFile], uploads: Sequence[Upload]) -> list[AttachmentInfo]:
    """What the document says of each file: those kept from an earlier try first."""
    arrived = [described(u) for u in uploads]
    return [
        AttachmentInfo(
            blob=f.blob_id,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            description=f.description,
        )
        for f in [*kept, *arrived]
    ]


def _write_document(
    store: BlobStore, recipients: Sequence[Recipient], document: Mapping[str, Any]
) -> BlobWriter:
    writer = store.writer(recipients, pad_byte=b" ")
    with discarded_on_failure([writer]):
        writer.write(encode(document))
    return writer


def commit_all(writers: Sequence[BlobWriter]) -> list[Blob]:
    """Commit each blob under its final name; the rows to insert for them."""
    return [Blob(id=w.id, size=w.commit()) for w in writers]


def _attachments(kept: Sequence[KeptFile], uploads: Sequence[Upload]) -> list[Attachment]:
    ids = [*(f.blob_id for f in kept), *(u.sink.id for u in uploads)]
    return [Attachment(position=i, blob_id=blob_id) for i, blob_id in enumerate(ids)]


def claim_kept(db: Session, kept: Sequence[KeptFile]) -> list[Blob]:
    """Inside the storing transaction: the kept files become this message's (their rows go),
    or nothing is stored if the sweep took one meanwhile. The blob rows to insert."""
    if not kept:
        return []
    ids = [f.blob_id for f in kept]
    taken = db.scalars(delete(KeptUpload).where(KeptUpload.id.in_(ids)).returning(KeptUpload.id))
    if len(list(taken)) != len(ids):
        raise KeptFileGone(
            _(
                "A file you sent earlier was deleted, because the form was left for more "
                "than an hour. Nothing was stored. Please go back and choose it again."
            )
        )
    return [Blob(id=f.blob_id, size=f.stored_size) for f in kept]


def _consent(fields: Mapping[str, Any]) -> Consent | None:
    """What the reporter allowed, kept in clear so the server itself can refuse an escalation
    they did not allow; None (escalation refused) for anything but the form's three values."""
    try:
        return Consent(str(fields.get("consent")))
    except ValueError:
        return None


def store_report(
    database: Database,
    store: BlobStore,
    organisation: Organisation,
    recipients: Sequence[Recipient],
    fields: Mapping[str, Any],
    uploads: Sequence[Upload],
    codename_salt: bytes,
    interface_language: str,
    *,
    derive: Callable[[str, bytes], CodenameKeys] | None = None,
    kept: Sequence[KeptFile] = (),
) -> Receipt:
    """Encrypt and store a new report; returns the codename to show the reporter.

    `derive` lets the web app run the Argon2id in its bounded pool
    (reporting/intake/derivations.py); if it refuses, the uploads already received are
    discarded and nothing is stored. `kept` are files received with an earlier try of the
    form (kept_files.py): they come first, and stay kept if this fails.
    """
    try:
        with discarded_on_failure(u.sink for u in uploads) as writers:
            codename = generate_codename()
            keys = (derive or derive_keys)(codename, codename_salt)
            infos = _attachment_infos(kept, uploads)
            document = report_document(fields, infos, interface_language)
            urgent = document.get("urgent") is True  # the same answer in clear as in the document
            writers.append(_write_document(store, recipients, document))
            blobs = commit_all(writers)
            with database.transaction() as db:
                db.add_all([*blobs, *claim_kept(db, kept)])
                db.flush()
                report = Report(
                    organisation_id=organisation.id,
                    lookup_id=keys.lookup_id,
                    reporter_recipient=str(keys.identity.recipient),
                    consent=_consent(fields),
                    urgent=urgent,
                )
                message = Message(
                    seq=0,
                    kind=MessageKind.REPORT,
                    document_blob_id=writers[-1].id,
                    attachments=_attachments(kept, uploads),
                )
                report.messages.append(message)
                db.add(report)
                db.flush()
                report_id = report.id
                owner = db.get_one(Organisation, organisation.id)
                deliveries = plan_deliveries(db, owner, message, _delivery_order(writers, kept))
                owner.urgent_notice_due = owner.urgent_notice_due or urgent
                db.flush()
                delivery_ids = [d.id for d in deliveries]
    except CommitUncertain as uncertain:
        # Its rows may be stored: the blobs stay, and the reporter is shown the codename to
        # try later.
        uncertain.codename = codename
        raise
    return Receipt(report_id, codename, str(keys.identity), delivery_ids, urgent)


def next_seq(db: Any, report_id: str) -> int:
    """The next message's place in the report's conversation."""
    last = db.scalar(select(func.max(Message.seq)).where(Message.report_id == report_id))
    return 0 if last is None else last + 1


def store_followup(
    database: Database,
    store: BlobStore,
    report_id: str,
    recipients: Sequence[Recipient],
    text: str,
    uploads: Sequence[Upload],
    kept: Sequence[KeptFile] = (),
) -> Stored:
    """Encrypt and store a reporter's follow-up to the organisation's keys, with its
    deliveries to the organisation's channels."""
    with discarded_on_failure(u.sink for u in uploads) as writers:
        document = followup_document(text, _attachment_infos(kept, uploads))
        writers.append(_write_document(store, recipients, document))
        blobs = commit_all(writers)
        with database.transaction() as db:
            db.add_all([*blobs, *claim_kept(db, kept)])
            db.flush()
            message = Message(
                report_id=report_id,
                seq=next_seq(db, report_id),
                kind=MessageKind.FOLLOWUP,
                document_blob_id=writers[-1].id,
                attachments=_attachments(kept, uploads),
            )
            db.add(message)
            db.flush()
            owner = db.get_one(Report, report_id).organisation
            deliveries = plan_deliveries(db, owner, message, _delivery_order(writers, kept))
            db.flush()
            return Stored(message.id, [d.id for d in deliveries])

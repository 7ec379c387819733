"""What a reporter sees on coming back: their report's status and the replies to them.

Replies are encrypted to the reporter's key. They are decrypted here, in
memory, for one page view, and never stored decrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import (
    CodenameKeys,
    DecryptionError,
    Decryptor,
    Identity,
    derive_keys,
    is_valid_codename,
)
from protocol import DocumentError, read
from reporting.infra.blobs import BlobStore
from reporting.intake.reporter_controls import open_to_reporter
from reporting.models import REPORTER_VISIBLE, Message, MessageKind, Report

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class MessageView:
    """One entry of the conversation; only replies have text the reporter can read."""

    kind: str
    created_on: date
    text: str | None
    attachments: int


@dataclass(frozen=True)
class CaseView:
    status: str
    status_note: str | None
    messages: list[MessageView]


def find_report(
    db: Session,
    codename: str,
    codename_salt: bytes,
    *,
    derive: Callable[[str, bytes], CodenameKeys] | None = None,
) -> tuple[Report, str] | None:
    """The report a codename opens and the reply identity it derives, or None.

    A malformed codename is refused before the (deliberately slow) derivation; `derive`
    lets the web app run it in its bounded pool (reporting/intake/derivations.py).
    """
    if not is_valid_codename(codename):
        return None
    keys = (derive or derive_keys)(codename, codename_salt)
    report = db.scalar(select(Report).where(Report.lookup_id == keys.lookup_id))
    if report is None or not open_to_reporter(report):  # deletion asked for: closed at once
        return None
    return report, str(keys.identity)


def read_document(store: BlobStore, blob_id: str, identity: Identity, kind: str) -> str | None:
    """Decrypt one small document to its text; None if it is not readable with this key."""
    try:
        with store.open(blob_id) as handle:
            plaintext = _read_bounded(Decryptor(handle, [identity]), MAX_DOCUMENT_BYTES)
    except (DecryptionError, OSError):
        return None
    if plaintext is None:
        return None
    try:
        text: str = read(plaintext, kind)["text"]
        return text
    except DocumentError:
        return None


def _read_bounded(decryptor: Decryptor, limit: int) -> bytes | None:
    """Read a whole document, or None if it is larger than any document we write."""
    parts = []
    total = 0
    for chunk in decryptor.iter_chunks():
        total += len(chunk)
        if total > limit:
            return None
        parts.append(bytes(chunk))
    return b"".join(parts)


def case_view(store: BlobStore, report: Report, identity: Identity) -> CaseView:
    """The status and the conversation, with replies decrypted for this page only.

    Only what the reporter and the organisation said to each other: internal notes and
    escalations to partners are not shown, nor counted.
    """
    note = None
    if report.status_note_blob_id:
        note = read_document(store, report.status_note_blob_id, identity, "status_note")
    return CaseView(
        status=str(report.status),
        status_note=note,
        messages=[
            _message_view(store, m, identity) for m in report.messages if m.kind in REPORTER_VISIBLE
        ],
    )


def _message_view(store: BlobStore, message: Message, identity: Identity) -> MessageView:
    text = None
    if message.kind == MessageKind.REPLY:
        text = read_document(store, message.document_blob_id, identity, "reply")
    return MessageView(str(message.kind), message.created_on, text, len(message.attachments))

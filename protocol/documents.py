"""Building the JSON documents that are encrypted: what a reporter or caseworker wrote.

One builder per kind, so the server and the caseworker client write the same
shapes; protocol/readers.py checks them on the way back. Documents are padded
with trailing spaces (JSON ignores them) by whoever encrypts them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from protocol import catalogue
from protocol.catalogue import Field, Kind
from protocol.dates import today
from protocol.schema import (
    ESCALATION,
    FOLLOWUP,
    NOTE,
    REPLY,
    REPORT,
    SCHEMA,
    STATUS_NOTE,
)


@dataclass(frozen=True)
class AttachmentInfo:
    """What the reporter's browser said about a file, kept only inside the ciphertext.

    The blob is padded with zero bytes after `size` bytes: trim to `size`
    (`head -c SIZE`) after decrypting it with the stock `age` command.
    """

    blob: str
    filename: str
    content_type: str
    size: int
    # The SHA-256 (hex) of the original bytes, computed by the server as they streamed in,
    # so the caseworker's client can tell the file it decrypted is the one that was sent.
    sha256: str = ""
    description: str = ""  # the reporter's one line about it (free text, identifying)


def encode(document: Mapping[str, Any]) -> bytes:
    """Serialise a document compactly; padding is added by whoever encrypts it."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _head(kind: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": kind, "written_on": today().isoformat()}


def report_document(
    fields: Mapping[str, Any], attachments: Sequence[AttachmentInfo], interface_language: str
) -> dict[str, Any]:
    """A new report: the form's answers (by form field name), laid out as the catalogue says."""
    written = {
        "attachments": _files(attachments),
        "interface_language": interface_language,
    }
    document = _head(REPORT)
    for field in catalogue.REPORT_FIELDS:
        if field.retired:
            continue
        if field.path in written:
            document[field.key] = written[field.path]
        elif field.path not in document:
            document[field.key] = _answer(field, fields)
    return document


def _answer(field: Field, fields: Mapping[str, Any]) -> Any:
    """One field's value from the form's answers; a required one must be there."""
    if field.kind is Kind.GROUP and field.max_entries:
        return _entries(field, fields.get(field.form_name) or [])
    if field.kind is Kind.GROUP:
        return {sub.key: _answer(sub, fields) for sub in field.fields}
    if field.required:
        return fields[field.form_name]
    if field.kind is Kind.FLAG:
        return fields.get(field.form_name) is True
    if field.kind is Kind.MULTIPLE:
        return list(fields.get(field.form_name) or [])
    if field.kind is Kind.PLACE:
        return dict(fields.get(field.form_name) or {})  # the form gives the document's shape
    return fields.get(field.form_name) or ""


def _entries(group: Field, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The entries of a repeated group the reporter filled in; blank ones are dropped."""
    kept = [
        {sub.key: _entry_answer(sub, entry.get(sub.form_name)) for sub in group.fields}
        for entry in entries[: group.max_entries]
    ]
    # An entry with nothing but its flags unset is blank; a flag alone does not make one.
    return [e for e in kept if any(v for k, v in e.items() if not isinstance(v, bool))]


def _entry_answer(field: Field, value: Any) -> Any:
    if field.kind is Kind.FLAG:
        return value is True
    if field.kind is Kind.MULTIPLE:
        return list(value or [])
    return (value or "").strip()


def _files(attachments: Sequence[AttachmentInfo]) -> list[dict[str, Any]]:
    """The files' entries; a hash or description left empty is left out (never written)."""
    return [{k: v for k, v in asdict(a).items() if v != "" or k in _ALWAYS} for a in attachments]


_ALWAYS = ("blob", "filename", "content_type")


def followup_document(text: str, attachments: Sequence[AttachmentInfo]) -> dict[str, Any]:
    """More words (and files) from a reporter who came back."""
    return {**_head(FOLLOWUP), "text": text, "attachments": _files(attachments)}


def reply_document(text: str) -> dict[str, Any]:
    """A caseworker's reply to the reporter (encrypted to the reporter's key)."""
    return {**_head(REPLY), "text": text}


def status_note_document(text: str) -> dict[str, Any]:
    """A caseworker's note on the report's status, for the reporter (undated: the row is)."""
    return {"schema": SCHEMA, "kind": STATUS_NOTE, "text": text}


def note_document(text: str) -> dict[str, Any]:
    """An internal note between caseworkers (encrypted to the organisation's keys only)."""
    return {**_head(NOTE), "text": text}


def escalation_document(
    *,
    from_organisation: str,
    reference: str,
    received_on: str,
    consent: str,
    redacted: Sequence[str],
    report: Mapping[str, Any],
    followups: Sequence[Mapping[str, Any]],
    attachments: Sequence[Mapping[str, Any]],
    attachments_withheld: int,
    caveat: str = "",
    note: str = "",
) -> dict[str, Any]:
    """What a partner organisation receives: the shareable part of a report and its files."""
    document: dict[str, Any] = {
        **_head(ESCALATION),
        "from_organisation": from_organisation,
        "reference": reference,
        "received_on": received_on,
        "consent": consent,
        "redacted": sorted(set(redacted)),
        "report": dict(report),
        "followups": [dict(f) for f in followups],
        "attachments": [dict(a) for a in attachments],
        "attachments_withheld": attachments_withheld,
    }
    if caveat:
        document["caveat"] = caveat
    if note:
        document["note"] = note
    return document

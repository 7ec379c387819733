"""The JSON documents that are encrypted: what a reporter or caseworker wrote.

Each document names its schema and version, so the caseworker client (and a
caseworker reading the output of the stock `age` command) knows what it holds.
Documents are padded with trailing spaces, which JSON ignores.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reporting.models.common import today

SCHEMA = "reporting/v1"


class DocumentError(ValueError):
    """A document that cannot be read as one of ours."""


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


def encode(document: Mapping[str, Any]) -> bytes:
    """Serialise a document compactly; padding is added by the blob writer."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def report_document(
    fields: Mapping[str, Any], attachments: Sequence[AttachmentInfo], interface_language: str
) -> dict[str, Any]:
    """A new report: the form's answers, grouped the way a caseworker reads them."""
    return {
        "schema": SCHEMA,
        "kind": "report",
        "written_on": today().isoformat(),
        "categories": list(fields.get("categories") or []),
        "narrative": fields["narrative"],
        "where": {"country": fields.get("country") or "", "city": fields.get("city") or ""},
        "when": {
            "from": fields.get("date_from") or "",
            "to": fields.get("date_to") or "",
            "note": fields.get("when_note") or "",
        },
        "who": {
            "people": fields.get("people") or "",
            "affiliation": fields.get("affiliation") or "",
            "station_address": fields.get("station_address") or "",
        },
        "family": _family(fields.get("family") or []),
        "attachments": [asdict(a) for a in attachments],
        "consent": fields["consent"],
        "reply_language": fields["reply_language"],
        "interface_language": interface_language,
    }


def _family(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The family members the reporter described; entries left blank are dropped."""
    members = [{key: (value or "").strip() for key, value in entry.items()} for entry in entries]
    return [member for member in members if any(member.values())]


def followup_document(text: str, attachments: Sequence[AttachmentInfo]) -> dict[str, Any]:
    """More words (and files) from a reporter who came back."""
    return {
        "schema": SCHEMA,
        "kind": "followup",
        "written_on": today().isoformat(),
        "text": text,
        "attachments": [asdict(a) for a in attachments],
    }


def reply_document(text: str) -> dict[str, Any]:
    """A caseworker's reply to the reporter (encrypted to the reporter's key)."""
    return {"schema": SCHEMA, "kind": "reply", "written_on": today().isoformat(), "text": text}


def status_note_document(text: str) -> dict[str, Any]:
    """A caseworker's note on the report's status, for the reporter."""
    return {"schema": SCHEMA, "kind": "status_note", "text": text}


def read_text(plaintext: bytes, kind: str) -> str:
    """The text of a reply or status note, checking it is the kind of document expected."""
    try:
        document = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DocumentError("not a JSON document") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise DocumentError("not a document of this service")
    if document.get("kind") != kind or not isinstance(document.get("text"), str):
        raise DocumentError(f"not a {kind} document")
    text: str = document["text"]
    return text

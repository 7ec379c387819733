"""Reading documents back: one strict reader per kind, one error type.

A reader checks the whole document (its schema, kind, every key and the type of
every value) and refuses anything else with `DocumentError`, so code that shows
or shares a document never meets a shape it was not written for. Unknown keys
are refused too: a field nobody declared is a field nobody decided how to share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from protocol import catalogue
from protocol.catalogue import Field, Kind
from protocol.dates import parse_day
from protocol.repression import V1_CATEGORY_METHODS
from protocol.schema import (
    CONSENTS,
    ESCALATION,
    FOLLOWUP,
    KINDS,
    KNOWN_SCHEMAS,
    NOTE,
    REPLY,
    REPORT,
    SCHEMA,
    STATUS_NOTE,
    DocumentError,
    version,
)

Check = Callable[[Any, str], Any]
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise DocumentError(f"{where} is not text")
    return value


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DocumentError(f"{where} is not a count")
    return value


def _day(value: Any, where: str) -> str:
    try:
        parse_day(value)
    except (TypeError, ValueError):
        raise DocumentError(f"{where} is not a day (YYYY-MM-DD)") from None
    return str(value)


def _day_or_empty(value: Any, where: str) -> str:
    return "" if value == "" else _day(value, where)


def _consent(value: Any, where: str) -> str:
    if value not in CONSENTS:
        raise DocumentError(f"{where} is not one of {', '.join(CONSENTS)}")
    return str(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DocumentError(f"{where} is not true or false")
    return value


def _size(value: Any, where: str) -> int | None:
    return None if value is None else _count(value, where)


def _list(check: Check) -> Check:
    def checked(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise DocumentError(f"{where} is not a list")
        return [check(item, f"{where}[{i}]") for i, item in enumerate(value)]

    return checked


def _object(
    fields: Mapping[str, Check], optional: tuple[str, ...] = (), *, all_optional: bool = False
) -> Check:
    """An object with exactly these keys (`optional` ones, or any if `all_optional`, may be
    missing)."""

    def checked(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise DocumentError(f"{where} is not an object")
        unknown = sorted(str(k) for k in value if k not in fields)
        if unknown:
            raise DocumentError(f"{where} has unknown field(s): {', '.join(unknown)}")
        for key in fields:
            if key not in value and not (all_optional or key in optional):
                raise DocumentError(f"{where} lacks {key}")
        return {key: fields[key](value[key], f"{where}.{key}") for key in value}

    return checked


def _sha256(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise DocumentError(f"{where} is not a SHA-256 digest (64 lowercase hex digits)")
    return value


def _description(value: Any, where: str) -> str:
    text = _text(value, where)
    if len(text) > catalogue.FILE_DESCRIPTION_MAX_CHARS or "\n" in text or "\r" in text:
        raise DocumentError(
            f"{where} is not one line of at most {catalogue.FILE_DESCRIPTION_MAX_CHARS} characters"
        )
    return text


# Older documents lack the digest and the description; a description is there only when
# the reporter wrote one.
_ATTACHMENT = _object(
    {
        "blob": _text,
        "filename": _text,
        "content_type": _text,
        "size": _count,
        "sha256": _sha256,
        "description": _description,
    },
    optional=("sha256", "description"),
)


def _place(value: Any, where: str) -> dict[str, str]:
    """A place: {} (not answered), {"text"} (in the reporter's words) or {"registry_id",
    "name"} (an entry of the organisation's registry, named as the reporter saw it)."""
    if not isinstance(value, dict):
        raise DocumentError(f"{where} is not an object")
    if set(value) not in (set(), {"text"}, {"registry_id", "name"}):
        raise DocumentError(f"{where} is neither free text nor an entry of the registry")
    checked = {key: _text(item, f"{where}.{key}") for key, item in value.items()}
    if any(not item.strip() for item in checked.values()):
        raise DocumentError(f"{where} has an empty answer")
    return checked


def _one_of(codes: tuple[str, ...]) -> Check:
    def checked(value: Any, where: str) -> str:
        if value not in codes:
            raise DocumentError(f"{where} is not one of {', '.join(codes)}")
        return str(value)

    return checked


def _fields(fields: tuple[Field, ...], partial: bool) -> Check:
    """An object of these catalogue fields: the required ones present (unless `partial`,
    where consent or redaction may have removed anything), each checked by its kind."""
    optional = tuple(f.key for f in fields if not f.required)
    members = {f.key: _check(f, partial) for f in fields}
    return _object(members, optional, all_optional=partial)


def _check(field: Field, partial: bool) -> Check:
    """How the catalogue's `field` is checked."""
    if field.kind is Kind.GROUP and field.max_entries:
        # a repeated group: blank answers are left out of each entry
        return _list(_object({f.key: _check(f, partial) for f in field.fields}, all_optional=True))
    if field.kind is Kind.GROUP:
        return _fields(field.fields, partial)
    if field.kind is Kind.CHOICE:
        return _one_of(tuple(c.code for c in field.choices))
    if field.kind is Kind.MULTIPLE:
        return _list(_text)  # codes retired from the form still read in old reports
    checks: dict[Kind, Check] = {
        Kind.DAY: _day,
        Kind.FILES: _list(_ATTACHMENT),
        Kind.FLAG: _flag,
        Kind.PLACE: _place,
    }
    return checks.get(field.kind, _text)


def _report(value: Any, where: str) -> dict[str, Any]:
    """A report as the catalogue describes its schema version (read when called), and a v1
    report upgraded in memory to v2."""
    found = version(str(value.get("schema")))
    fields = tuple(f for f in catalogue.REPORT_FIELDS if f.in_version(found))
    checked: dict[str, Any] = _fields((*_HEAD_FIELDS, *fields), partial=False)(value, where)
    return upgrade_v1(checked) if found == 1 else checked


def upgrade_v1(report: dict[str, Any]) -> dict[str, Any]:
    """A v1 report as v2: its categories also said in the v2 methods (the categories stay,
    as the reporter chose them)."""
    methods = [V1_CATEGORY_METHODS.get(c, "other") for c in report.get("categories") or []]
    return {**report, "schema": SCHEMA, "methods": list(dict.fromkeys(methods))}


def _shared_report(value: Any, where: str) -> dict[str, Any]:
    """What consent and redaction left of a report in an escalation: any part may be gone."""
    checked: dict[str, Any] = _fields(catalogue.REPORT_FIELDS, partial=True)(value, where)
    return checked


_SHARED_FILE = _object(
    {
        "position": _count,
        "filename": _text,
        "content_type": _text,
        "size": _size,
        "from": _text,
        "metadata": _text,
        "metadata_note": _text,
        "description": _description,
    },
    optional=("metadata", "metadata_note", "description"),
)
_HEAD: dict[str, Check] = {"schema": _text, "kind": _text}
_HEAD_FIELDS = (
    Field("schema", Kind.TEXT, "", required=True),
    Field("kind", Kind.TEXT, "", required=True),
)
_BODIES: dict[str, Check] = {
    REPORT: _report,
    FOLLOWUP: _object(
        {**_HEAD, "written_on": _day, "text": _text, "attachments": _list(_ATTACHMENT)}
    ),
    REPLY: _object({**_HEAD, "written_on": _day, "text": _text}),
    NOTE: _object({**_HEAD, "written_on": _day, "text": _text}),
    STATUS_NOTE: _object({**_HEAD, "written_on": _day, "text": _text}, optional=("written_on",)),
    ESCALATION: _object(
        {
            **_HEAD,
            "written_on": _day,
            "from_organisation": _text,
            "reference": _text,
            "received_on": _day_or_empty,
            "consent": _consent,
            "redacted": _list(_text),
            "report": _shared_report,
            "followups": _list(_object({"written_on": _day_or_empty, "text": _text})),
            "attachments": _list(_SHARED_FILE),
            "attachments_withheld": _count,
            "attachments_note": _text,
            "caveat": _text,
            "note": _text,
        },
        optional=("attachments_note", "caveat", "note"),
    ),
}


def decode(plaintext: bytes | bytearray | memoryview) -> dict[str, Any]:
    """The JSON object of a decrypted document (trailing padding spaces are ignored)."""
    if len(plaintext) > MAX_DOCUMENT_BYTES:
        raise DocumentError("the document is larger than any this service writes")
    try:
        document = json.loads(bytes(plaintext).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DocumentError("not a JSON document") from None
    if not isinstance(document, dict):
        raise DocumentError("not a JSON object")
    return document


def read(
    document: bytes | bytearray | memoryview | Mapping[str, Any], kind: str | None = None
) -> dict[str, Any]:
    """A whole document checked against its schema and kind (`kind`, if given, is required)."""
    if not isinstance(document, Mapping):
        document = decode(document)
    schema = document.get("schema")
    if schema not in KNOWN_SCHEMAS:
        raise DocumentError(f"unknown schema {str(schema)[:40]!r}: not a document of this service")
    found = document.get("kind")
    if found not in KINDS:
        raise DocumentError(f"unknown kind of document {str(found)[:40]!r}")
    if kind is not None and found != kind:
        raise DocumentError(f"a {found} document where a {kind} was expected")
    checked: dict[str, Any] = _BODIES[str(found)](dict(document), str(found))
    return checked


def read_report(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A reporter's report."""
    return read(document, REPORT)


def read_followup(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A reporter's follow-up."""
    return read(document, FOLLOWUP)


def read_reply(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A caseworker's reply to the reporter."""
    return read(document, REPLY)


def read_status_note(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A caseworker's status note for the reporter."""
    return read(document, STATUS_NOTE)


def read_note(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """An internal note between caseworkers."""
    return read(document, NOTE)


def read_escalation(document: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """An escalation package, as a partner organisation receives it."""
    return read(document, ESCALATION)

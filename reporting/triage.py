"""Triage: the organisation's reports as caseworkers list and sort them, and the metadata
they set (status, severity, assignee, tags, a status note for the reporter).

Shared by the web inbox and the JSON API, so both list, scope and validate the same
way. Everything here is metadata the NGO sets or the server already keeps in clear;
the status note is encrypted on arrival, like a reporter's submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.orm import Session, object_session

from crypto import EncryptionError, parse_recipient
from reporting.audit import Action, record
from reporting.blobs import BlobStore, BlobWriter
from reporting.db import Database
from reporting.documents import encode, status_note_document
from reporting.models import (
    Attachment,
    Blob,
    Caseworker,
    Delivery,
    Message,
    Report,
    ReportRead,
    ReportStatus,
    Severity,
    TriageTag,
    report_tag,
)
from reporting.models.common import ID_LENGTH, today
from reporting.organisations import recipients_of


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
"""Leaves a triage field as it is (None means "clear it")."""

# Worst first: a report's delivery state is the worst of its outbox rows.
_DELIVERY_ORDER = ("dead", "failed", "pending", "delivered")
MAX_NOTE_CHARS = 5000


class TriageError(ValueError):
    """A refused triage change or filter: `message` is for people, `field` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Filters:
    status: ReportStatus | None = None
    severity: Severity | None = None
    assignee: str | None = None  # a caseworker id, or "none" for unassigned reports
    tag: str | None = None
    unread: bool = False


@dataclass(frozen=True)
class ReportSummary:
    """One row of the inbox: what the server knows of a report, no content."""

    id: str
    received_on: date
    status: str
    severity: str | None
    assignee: str | None
    assignee_name: str | None
    tags: list[str]
    unread: bool
    delivery: str
    messages: int
    consent: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_on": self.received_on.isoformat(),
            "status": self.status,
            "severity": self.severity,
            "assignee": self.assignee,
            "tags": list(self.tags),
            "unread": self.unread,
            "delivery": self.delivery,
            "messages": self.messages,
            "consent": self.consent,
        }


@dataclass(frozen=True)
class Counts:
    """Over the whole organisation, whatever the filter, so the inbox can show them."""

    total: int
    unread: int
    status: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "unread": self.unread, "status": dict(self.status)}


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from query arguments (empty means "any"); TriageError names a bad one."""
    status = _choice(ReportStatus, args.get("status") or None, "status")
    severity = _choice(Severity, args.get("severity") or None, "severity")
    unread = (args.get("unread") or "").lower() in ("1", "true", "yes", "on")
    return Filters(status, severity, args.get("assignee") or None, args.get("tag") or None, unread)


def _choice(kind: Any, value: Any, name: str) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        message = f"Unknown {name} {str(value)[:40]!r}: use one of {allowed}."
        raise TriageError(message, name) from None


# Listing: a handful of grouped queries for the whole organisation, never one per report.


@dataclass(frozen=True)
class _Facts:
    """What the inbox shows beside the report row itself, keyed by report id."""

    messages: dict[str, tuple[int, int | None]]  # count, last seq written by someone else
    seen: dict[str, int]  # the caseworker's ReportRead.seq_seen
    delivery: dict[str, str]
    tags: dict[str, list[str]]
    names: dict[str, str]  # caseworker id -> username


def _facts(db: Session, caseworker: Caseworker, scope: ColumnElement[bool]) -> _Facts:
    others = or_(Message.author_id.is_(None), Message.author_id != caseworker.id)
    messages = {
        report_id: (count, last)
        for report_id, count, last in db.execute(
            select(
                Message.report_id,
                func.count(Message.id),
                func.max(case((others, Message.seq), else_=None)),
            )
            .join(Report, Report.id == Message.report_id)
            .where(scope)
            .group_by(Message.report_id)
        )
    }
    seen = dict(
        db.execute(
            select(ReportRead.report_id, ReportRead.seq_seen)
            .join(Report, Report.id == ReportRead.report_id)
            .where(scope, ReportRead.caseworker_id == caseworker.id)
        ).all()
    )
    states: dict[str, set[str]] = {}
    for report_id, state in db.execute(
        select(Delivery.report_id, Delivery.state)
        .join(Report, Report.id == Delivery.report_id)
        .where(scope)
        .group_by(Delivery.report_id, Delivery.state)
    ):
        states.setdefault(report_id, set()).add(str(state))
    delivery = {
        report_id: next(s for s in _DELIVERY_ORDER if s in found)
        for report_id, found in states.items()
    }
    tags: dict[str, list[str]] = {}
    for report_id, name in db.execute(
        select(report_tag.c.report_id, TriageTag.name)
        .join(TriageTag, TriageTag.id == report_tag.c.tag_id)
        .join(Report, Report.id == report_tag.c.report_id)
        .where(scope)
        .order_by(TriageTag.name)
    ):
        tags.setdefault(report_id, []).append(name)
    names = dict(
        db.execute(
            select(Caseworker.id, Caseworker.username).where(
                Caseworker.organisation_id == caseworker.organisation_id
            )
        ).all()
    )
    return _Facts(messages, seen, delivery, tags, names)


def _unread(facts: _Facts, report_id: str) -> bool:
    """New to this caseworker: someone else wrote a message after the last one they saw."""
    last = facts.messages.get(report_id, (0, None))[1]
    seen = facts.seen.get(report_id)
    return last is not None and (seen is None or last > seen)


def _summary(report: Report, facts: _Facts) -> ReportSummary:
    return ReportSummary(
        id=report.id,
        received_on=report.received_on,
        status=str(report.status),
        severity=None if report.severity is None else str(report.severity),
        assignee=report.assignee_id,
        assignee_name=facts.names.get(report.assignee_id or ""),
        tags=facts.tags.get(report.id, []),
        unread=_unread(facts, report.id),
        delivery=facts.delivery.get(report.id, "none"),
        messages=facts.messages.get(report.id, (0, None))[0],
        consent=None if report.consent is None else str(report.consent),
    )


def list_reports(
    db: Session, caseworker: Caseworker, filters: Filters
) -> tuple[list[ReportSummary], Counts]:
    """The organisation's reports matching `filters`, newest received first, and the
    organisation's counts (not the filter's)."""
    organisation_id = caseworker.organisation_id
    scope = Report.organisation_id == organisation_id
    query = select(Report).where(scope)
    if filters.status is not None:
        query = query.where(Report.status == filters.status)
    if filters.severity is not None:
        query = query.where(Report.severity == filters.severity)
    if filters.assignee == "none":
        query = query.where(Report.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(Report.assignee_id == filters.assignee)
    if filters.tag:
        tagged = (
            select(report_tag.c.report_id)
            .join(TriageTag, TriageTag.id == report_tag.c.tag_id)
            .where(TriageTag.organisation_id == organisation_id, TriageTag.name == filters.tag)
        )
        query = query.where(Report.id.in_(tagged))
    reports = db.scalars(query.order_by(Report.received_on.desc(), Report.id)).all()
    facts = _facts(db, caseworker, scope)
    summaries = [_summary(report, facts) for report in reports]
    if filters.unread:
        summaries = [s for s in summaries if s.unread]
    by_status = {str(s): 0 for s in ReportStatus}
    for status, count in db.execute(
        select(Report.status, func.count()).where(scope).group_by(Report.status)
    ):
        by_status[str(status)] = count
    unread = sum(1 for report_id in facts.messages if _unread(facts, report_id))
    return summaries, Counts(sum(by_status.values()), unread, by_status)


def find_report(db: Session, caseworker: Caseworker, report_id: str) -> Report | None:
    """A report of the caseworker's organisation; None for any other id, well-formed or not."""
    if not _is_id(report_id):
        return None
    return db.scalar(
        select(Report).where(
            Report.id == report_id, Report.organisation_id == caseworker.organisation_id
        )
    )


def summarise(db: Session, caseworker: Caseworker, report: Report) -> ReportSummary:
    """One report's inbox row."""
    return _summary(report, _facts(db, caseworker, Report.id == report.id))


def mark_read(db: Session, caseworker: Caseworker, report: Report) -> None:
    """The caseworker has seen every message so far; retention now may purge it when due."""
    last = db.scalar(select(func.max(Message.seq)).where(Message.report_id == report.id)) or 0
    row = db.get(ReportRead, (caseworker.id, report.id))
    if row is None:
        db.add(ReportRead(caseworker_id=caseworker.id, report_id=report.id, seq_seen=last))
    else:
        row.seq_seen = max(row.seq_seen, last)
    report.read = True
    db.flush()


def _is_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == ID_LENGTH
        and all(c in "0123456789abcdef" for c in value)
    )


# Ciphertext of a report.


def locate_blob(db: Session, report: Report, blob_id: str) -> tuple[Blob, str] | None:
    """A blob of this report (a message's document or attachment, or the status note) and
    the file name to download it as; None for anything else."""
    if not _is_id(blob_id):
        return None
    name = None
    if report.status_note_blob_id == blob_id:
        name = f"{report.id}-status-note.age"
    seq = db.scalar(
        select(Message.seq).where(
            Message.report_id == report.id, Message.document_blob_id == blob_id
        )
    )
    if seq is not None:
        name = f"{report.id}-{seq}-0.age"
    found = db.execute(
        select(Message.seq, Attachment.position)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.report_id == report.id, Attachment.blob_id == blob_id)
    ).first()
    if found is not None:
        name = f"{report.id}-{found[0]}-{found[1] + 1}.age"
    blob = db.get(Blob, blob_id) if name else None
    return None if blob is None or name is None else (blob, name)


def find_blob(db: Session, report: Report, blob_id: str) -> Blob | None:
    """A blob of this report, or None (another report's, or no such blob)."""
    located = locate_blob(db, report, blob_id)
    return None if located is None else located[0]


def record_download(db: Session, actor: Caseworker, report: Report, blob_id: str) -> None:
    """Who fetched which ciphertext of which report."""
    record(db, Action.DOWNLOAD, actor=actor, target=report.id, detail=f"blob={blob_id}")


# Changing triage fields.


def _validate(
    db: Session, actor: Caseworker, status: Any, severity: Any, assignee: Any, tags: Any
) -> dict[str, Any]:
    """The requested values, checked and resolved; TriageError before anything changes."""
    changes: dict[str, Any] = {}
    if status is not UNSET:
        if not isinstance(status, str):
            raise TriageError("The status must be one of the listed statuses.", "status")
        changes["status"] = _choice(ReportStatus, status, "status")
    if severity is not UNSET:
        if severity is not None and not isinstance(severity, str):
            raise TriageError(
                "The severity must be low, medium, high, critical or none.", "severity"
            )
        changes["severity"] = _choice(Severity, severity or None, "severity")
    if assignee is not UNSET:
        changes["assignee"] = _assignee(db, actor, assignee)
    if tags is not UNSET:
        changes["tags"] = _tags(db, actor, tags)
    return changes


def _assignee(db: Session, actor: Caseworker, assignee: Any) -> Caseworker | None:
    if assignee is None or assignee == "":
        return None
    found = None
    if _is_id(assignee):
        found = db.scalar(
            select(Caseworker).where(
                Caseworker.id == assignee,
                Caseworker.organisation_id == actor.organisation_id,
                Caseworker.active.is_(True),
            )
        )
    if found is None:
        raise TriageError(
            "The assignee must be an active caseworker of your organisation.", "assignee"
        )
    return found


def _tags(db: Session, actor: Caseworker, tags: Any) -> list[TriageTag]:
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise TriageError("Tags must be a list of your organisation's tag names.", "tags")
    wanted = set(tags)
    rows = list(
        db.scalars(
            select(TriageTag)
            .where(TriageTag.organisation_id == actor.organisation_id)
            .where(TriageTag.name.in_(wanted))
            .order_by(TriageTag.name)
        )
    )
    unknown = wanted - {row.name for row in rows}
    if unknown:
        names = ", ".join(sorted(repr(name[:40]) for name in unknown))
        raise TriageError(f"Not a tag of your organisation: {names}. An admin adds tags.", "tags")
    return rows


def update_triage(
    db: Session,
    actor: Caseworker,
    report: Report,
    *,
    status: Any = UNSET,
    severity: Any = UNSET,
    assignee: Any = UNSET,
    tags: Any = UNSET,
) -> list[str]:
    """Set the given fields (all checked first: a bad one changes nothing), audit each kind
    of change, and return the names of the fields that changed."""
    if report.organisation_id != actor.organisation_id:
        raise LookupError("a report of another organisation")
    if assignee is not UNSET and assignee == report.assignee_id:
        assignee = UNSET  # unchanged: kept even if that caseworker was disabled since
    changes = _validate(db, actor, status, severity, assignee, tags)
    changed: list[str] = []

    def audit(name: str, action: Action, value: str) -> None:
        record(db, action, actor=actor, target=report.id, detail=f"{name}={value}")
        changed.append(name)

    new_status = changes.get("status")
    if new_status is not None and new_status != report.status:
        # Retention counts from closed_on: a reopened report is no longer on its way out.
        if new_status is ReportStatus.CLOSED:
            report.closed_on = today()
        elif report.status is ReportStatus.CLOSED:
            report.closed_on = None
        report.status = new_status
        audit("status", Action.STATUS_CHANGE, str(new_status))
    if "severity" in changes and changes["severity"] != report.severity:
        report.severity = changes["severity"]
        audit("severity", Action.TRIAGE_CHANGE, str(report.severity or "none"))
    if "assignee" in changes:
        person: Caseworker | None = changes["assignee"]
        if (person.id if person else None) != report.assignee_id:
            report.assignee_id = person.id if person else None
            audit("assignee", Action.TRIAGE_CHANGE, report.assignee_id or "none")
    if "tags" in changes:
        rows: list[TriageTag] = changes["tags"]
        if {row.id for row in rows} != {tag.id for tag in report.tags}:
            report.tags = rows
            audit("tags", Action.TRIAGE_CHANGE, ",".join(row.name for row in rows) or "none")
    db.flush()
    return changed


# The status note: a message to the reporter shown beside the status, encrypted here.


def _note_writer(store: BlobStore, report: Report, text: str) -> BlobWriter:
    """Encrypt the note on arrival to the reporter's key and the organisation's keys."""
    recipients = [parse_recipient(report.reporter_recipient), *recipients_of(report.organisation)]
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


def tag_names(db: Session, caseworker: Caseworker) -> list[str]:
    """The organisation's tags, for forms and filters."""
    return list(
        db.scalars(
            select(TriageTag.name)
            .where(TriageTag.organisation_id == caseworker.organisation_id)
            .order_by(TriageTag.name)
        )
    )


def colleagues(db: Session, caseworker: Caseworker) -> list[Caseworker]:
    """The organisation's active caseworkers: who a report may be assigned to."""
    return list(
        db.scalars(
            select(Caseworker)
            .where(
                Caseworker.organisation_id == caseworker.organisation_id,
                Caseworker.active.is_(True),
            )
            .order_by(Caseworker.username)
        )
    )

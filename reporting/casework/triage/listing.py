"""Listing an organisation's reports for the inbox and the API: the rows, the counts, the
read markers, and the ciphertext that belongs to a report.

A few grouped queries serve the whole organisation, never one query per report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from reporting.accounts.audit import Action, record
from reporting.casework.triage.common import choice, is_id
from reporting.intake.reporter_controls import deletion_due_on
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

# Worst first: a report's delivery state is the worst of its outbox rows.
_DELIVERY_ORDER = ("dead", "failed", "pending", "delivered")


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
    urgent: bool = False  # the reporter said someone is in danger now or within days
    # What the reporter changed from /case, to the day (reporting/intake/reporter_controls.py).
    consent_changed_on: date | None = None
    urgent_changed_on: date | None = None
    deletion_requested_on: date | None = None
    deletion_due_on: date | None = None  # when the purge will remove it

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
            "urgent": self.urgent,
            "consent_changed_on": _day(self.consent_changed_on),
            "urgent_changed_on": _day(self.urgent_changed_on),
            "deletion_requested_on": _day(self.deletion_requested_on),
            "deletion_due_on": _day(self.deletion_due_on),
        }


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


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
    status = choice(ReportStatus, args.get("status") or None, "status")
    severity = choice(Severity, args.get("severity") or None, "severity")
    unread = (args.get("unread") or "").lower() in ("1", "y", "yes", "on", "true")
    return Filters(status, severity, args.get("assignee") or None, args.get("tag") or None, unread)


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
        urgent=report.urgent,
        consent_changed_on=report.consent_changed_on,
        urgent_changed_on=report.urgent_changed_on,
        deletion_requested_on=report.deletion_requested_on,
        deletion_due_on=deletion_due_on(report),
    )


def list_reports(
    db: Session, caseworker: Caseworker, filters: Filters
) -> tuple[list[ReportSummary], Counts]:
    """The organisation's reports matching `filters`, urgent ones first, then newest received
    first, and the organisation's counts (not the filter's)."""
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
    order = (Report.urgent.desc(), Report.received_on.desc(), Report.id)
    reports = db.scalars(query.order_by(*order)).all()
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
    if not is_id(report_id):
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


# Ciphertext of a report.


def locate_blob(db: Session, report: Report, blob_id: str) -> tuple[Blob, str] | None:
    """A blob of this report (a message's document or attachment, or the status note) and
    the file name to download it as; None for anything else."""
    if not is_id(blob_id):
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


def record_download(db: Session, actor: Caseworker, report: Report, blob_id: str) -> None:
    """Who fetched which ciphertext of which report."""
    record(db, Action.DOWNLOAD, actor=actor, target=report.id, detail=f"blob={blob_id}")


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

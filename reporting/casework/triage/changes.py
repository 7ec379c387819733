"""Changing a report's triage fields: status, severity, assignee and tags.

Every value is checked before anything changes, and each kind of change is audited in
the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting.accounts.audit import Action, record
from reporting.casework.triage.common import UNSET, TriageError, choice, is_id
from reporting.models import Caseworker, Report, ReportStatus, Severity, TriageTag
from reporting.models.common import today


def _validate(
    db: Session, actor: Caseworker, status: Any, severity: Any, assignee: Any, tags: Any
) -> dict[str, Any]:
    """The requested values, checked and resolved; TriageError before anything changes."""
    changes: dict[str, Any] = {}
    if status is not UNSET:
        if not isinstance(status, str):
            raise TriageError("The status must be one of the listed statuses.", "status")
        changes["status"] = choice(ReportStatus, status, "status")
    if severity is not UNSET:
        if severity is not None and not isinstance(severity, str):
            raise TriageError(
                "The severity must be low, medium, high, critical or none.", "severity"
            )
        changes["severity"] = choice(Severity, severity or None, "severity")
    if assignee is not UNSET:
        changes["assignee"] = _assignee(db, actor, assignee)
    if tags is not UNSET:
        changes["tags"] = _tags(db, actor, tags)
    return changes


def _assignee(db: Session, actor: Caseworker, assignee: Any) -> Caseworker | None:
    if assignee is None or assignee == "":
        return None
    found = None
    if is_id(assignee):
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

"""The JSON shapes of the API (docs/caseworker-api.md): ids, days and sizes, no content."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting.casework.triage import ReportSummary
from reporting.models import (
    AuditEntry,
    Blob,
    Caseworker,
    Message,
    OrganisationRecipient,
    Report,
)


def own_recipient(db: Session, caseworker: Caseworker) -> str | None:
    """The public key the caseworker registered, if any."""
    return db.scalar(
        select(OrganisationRecipient.recipient)
        .where(OrganisationRecipient.caseworker_id == caseworker.id)
        .order_by(OrganisationRecipient.id.desc())
        .limit(1)
    )


def caseworker_json(db: Session, caseworker: Caseworker) -> dict[str, Any]:
    return {
        "id": caseworker.id,
        "username": caseworker.username,
        "display_name": caseworker.display_name,
        "role": str(caseworker.role),
        "organisation": {
            "id": caseworker.organisation_id,
            "name": caseworker.organisation.name,
        },
        "recipient": own_recipient(db, caseworker),
    }


def blob_json(blob: Blob) -> dict[str, Any]:
    return {"blob": blob.id, "size": blob.size}


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "seq": message.seq,
        "kind": str(message.kind),
        "created_on": message.created_on.isoformat(),
        "author": message.author_id,
        "partner": message.partner_id,
        "document": blob_json(message.document),
        "attachments": [{"position": a.position, **blob_json(a.blob)} for a in message.attachments],
    }


def report_json(summary: ReportSummary, report: Report) -> dict[str, Any]:
    """A report's summary, the reporter's key (for replies), its status note and messages."""
    return {
        **summary.as_json(),
        "reporter_recipient": report.reporter_recipient,
        "status_note": blob_json(report.status_note) if report.status_note else None,
        "messages": [message_json(m) for m in report.messages],
    }


def history_json(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as a caseworker's client sees it: the hour, who (a caseworker id, or
    none for the reporter and the service itself), the action and its short detail."""
    return {
        "at": entry.at.isoformat(timespec="minutes"),
        "actor": entry.actor_id,
        "action": entry.action,
        "detail": entry.detail,
    }

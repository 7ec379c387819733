"""Retention: closed reports are deleted, ciphertext and rows, after the organisation's period.

A closed report nobody ever read is not deleted silently: it is kept, counted in the
purge record, and a warning asks an admin to look. Two rules override that, whatever the
status and whether read or not: a report whose reporter asked for deletion goes once the
organisation's delay has passed, and every report goes at the organisation's maximum age
(with its codename lookup id, which is on the row). The organisation is warned
`EXPIRY_WARNING_DAYS` before reports reach that age, by a content-free notice. Each purge
leaves a record of how much it removed, never of what.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import CursorResult, Select, delete, or_, select, update
from sqlalchemy.orm import Session

from protocol.dates import today
from reporting.infra.blobs import BlobStore
from reporting.infra.db import Database
from reporting.models import (
    Attachment,
    Blob,
    Delivery,
    Message,
    Organisation,
    PurgeRecord,
    Report,
    ReportStatus,
)

logger = logging.getLogger(__name__)

# How long before a report reaches the maximum age its organisation is warned.
EXPIRY_WARNING_DAYS = 14


def _blob_ids(report: Report) -> list[str]:
    ids = [m.document_blob_id for m in report.messages]
    ids += [a.blob_id for m in report.messages for a in m.attachments]
    if report.status_note_blob_id:
        ids.append(report.status_note_blob_id)
    return ids


def _expired(organisation: Organisation, day: date) -> Select[Report]:
    cutoff = day - timedelta(days=organisation.retention_days)
    return (
        select(Report)
        .where(Report.organisation_id == organisation.id)
        .where(Report.status == ReportStatus.CLOSED)
        .where(Report.closed_on.is_not(None))
        .where(Report.closed_on <= cutoff)
    )


def _overridden(organisation: Organisation, day: date) -> Select[Report]:
    """Reports purged whatever their status and read or not: past the maximum age, or
    asked to be deleted longer ago than the organisation's delay."""
    too_old = day - timedelta(days=organisation.max_report_age_days)
    asked = day - timedelta(days=organisation.deletion_delay_days)
    return (
        select(Report)
        .where(Report.organisation_id == organisation.id)
        .where(
            or_(
                Report.received_on <= too_old,
                Report.deletion_requested_on <= asked,
            )
        )
    )


def _warn_of_expiry(db: Session, organisation: Organisation, day: date) -> int:
    """Mark the reports that reach the maximum age within the warning period, each once,
    and make the organisation's notice due if there are any; returns how many."""
    soon = day - timedelta(days=max(organisation.max_report_age_days - EXPIRY_WARNING_DAYS, 0))
    result: CursorResult[Any] = db.execute(  # type: ignore[assignment]
        update(Report)
        .where(Report.organisation_id == organisation.id)
        .where(Report.received_on <= soon)
        .where(Report.expiry_warned.is_(False))
        .values(expiry_warned=True)
        .execution_options(synchronize_session=False)
    )
    marked = result.rowcount
    if marked:
        db.get_one(Organisation, organisation.id).expiry_notice_due = True
    return int(marked or 0)


def _delete_report(db: Session, report: Report) -> list[str]:
    blob_ids = _blob_ids(report)
    message_ids = [m.id for m in report.messages]
    db.execute(delete(Delivery).where(Delivery.report_id == report.id))
    if message_ids:
        db.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
        db.execute(delete(Message).where(Message.id.in_(message_ids)))
    db.execute(delete(Report).where(Report.id == report.id))
    if blob_ids:
        db.execute(delete(Blob).where(Blob.id.in_(blob_ids)))
    return blob_ids


def purge_expired(database: Database, store: BlobStore, day: date | None = None) -> int:
    """Purge every organisation's expired reports (closed past retention, asked to be
    deleted past the delay, or past the maximum age), and make the warning of those that
    will soon reach the maximum age due; returns how many were deleted."""
    day = day or today()
    total = 0
    with database.transaction() as db:
        organisations = list(db.scalars(select(Organisation)))
    for organisation in organisations:
        removed_blobs: list[str] = []
        with database.transaction() as db:
            overridden: list[Report] = list(db.scalars(_overridden(organisation, day)))
            forced = {report.id for report in overridden}
            expired: list[Report] = [
                r for r in db.scalars(_expired(organisation, day)) if r.id not in forced
            ]
            unread = [r for r in expired if not r.read]
            for report in [*overridden, *expired]:
                if report.read or report.id in forced:
                    removed_blobs += _delete_report(db, report)
            purged = len(overridden) + len(expired) - len(unread)
            _warn_of_expiry(db, organisation, day)
            if purged or unread:
                db.add(
                    PurgeRecord(
                        organisation_id=organisation.id,
                        reports=purged,
                        blobs=len(removed_blobs),
                        kept_unread=len(unread),
                    )
                )
        # Files go only after the rows are gone for good; a crash in between leaves
        # orphans, which `flask blobs sweep` removes.
        for blob_id in removed_blobs:
            store.remove(blob_id)
        if unread:
            logger.warning(
                "%d closed reports of an organisation passed retention unread and were kept; "
                "an admin should review them",
                len(unread),
            )
        total += purged
    return total

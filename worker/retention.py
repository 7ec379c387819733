"""Retention: closed reports are deleted, ciphertext and rows, after the organisation's period.

A report nobody ever read is not deleted silently: it is kept, counted in the
purge record, and a warning asks an admin to look. Each purge leaves a record
of how much it removed, never of what.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import Select, delete, select
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
    """Purge every organisation's expired closed reports; returns how many were deleted."""
    day = day or today()
    total = 0
    with database.transaction() as db:
        organisations = list(db.scalars(select(Organisation)))
    for organisation in organisations:
        removed_blobs: list[str] = []
        with database.transaction() as db:
            expired: list[Report] = list(db.scalars(_expired(organisation, day)))
            unread = [r for r in expired if not r.read]
            for report in expired:
                if report.read:
                    removed_blobs += _delete_report(db, report)
            purged = len(expired) - len(unread)
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

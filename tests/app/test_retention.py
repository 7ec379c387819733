"""Retention: closed reports are purged, rows and ciphertext, after their organisation's period.

What matters: everything of an expired, read report goes (Report, Message, Attachment, Blob,
Delivery rows and the blob files), and nothing else does: not a report closed more recently,
not an open one, not another organisation's; an expired report nobody read is kept, counted,
and an admin warned; and the purge leaves counts only, in its record and in its logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

import crypto
from reporting.infra import db
from reporting.intake.submissions import Upload, store_report
from reporting.models import (
    Attachment,
    AuditEntry,
    Blob,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    Message,
    Organisation,
    PurgeRecord,
    Report,
    ReportStatus,
)
from reporting.models.common import today
from reporting.organisations.recipients import add_recipient, create_organisation, recipients_of
from tests.support.casework import store_client_reply
from worker.retention import purge_expired

RETENTION = 30
CANARY = "canary-retention-3b9e7d"
NARRATIVE = f"Someone from the consulate came to my work and asked about my sister. {CANARY}"


@dataclass
class Stored:
    report_id: str
    blob_ids: list[str]


def _organisation(app: Flask, name: str, retention_days: int | None = None) -> str:
    identity = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        organisation = create_organisation(session, name)
        add_recipient(session, organisation, str(identity.recipient), "caseworker")
        if retention_days is not None:
            organisation.retention_days = retention_days
        # A channel, so every report has Delivery rows too.
        session.add(
            DeliveryChannel(
                organisation=organisation,
                kind=ChannelKind.WEBHOOK,
                target="https://receiver.example/",
                secret="",
            )
        )
        return organisation.id


def _store(
    app: Flask,
    organisation_id: str,
    *,
    closed_days_ago: int | None,
    read: bool = True,
    attachment: bool = False,
    reply: bool = False,
) -> Stored:
    """A report as the portal stores it; closed `closed_days_ago` days ago (None: open)."""
    store = app.extensions["blobs"]
    with app.app_context():
        settings = app.config["SETTINGS"]
        with db.database().transaction() as session:
            organisation = session.get_one(Organisation, organisation_id)
            recipients = recipients_of(organisation)
        uploads = []
        if attachment:
            sink = store.writer(recipients)
            sink.write(f"a photo of the letter {CANARY}".encode())
            uploads.append(Upload(sink, f"{CANARY}.jpg", "image/jpeg"))
        fields: dict[str, Any] = {
            "narrative": NARRATIVE,
            "city": f"Canarytown {CANARY}",
            "consent": "none",
            "reply_language": "en",
        }
        receipt = store_report(
            db.database(),
            store,
            organisation,
            recipients,
            fields,
            uploads,
            settings.codename_salt,
            "en",
        )
        if reply:
            store_client_reply(app, receipt.report_id, f"We read it. {CANARY}")
        with db.database().transaction() as session:
            report = session.get_one(Report, receipt.report_id)
            if closed_days_ago is not None:
                note = store.writer(recipients)
                note.write(f"closed: {CANARY}".encode())
                session.add(Blob(id=note.id, size=note.commit()))
                session.flush()
                report.status_note_blob_id = note.id
                report.status = ReportStatus.CLOSED
                report.closed_on = today() - timedelta(days=closed_days_ago)
            report.read = read
        with db.database().transaction() as session:
            report = session.get_one(Report, receipt.report_id)
            blob_ids = [m.document_blob_id for m in report.messages]
            blob_ids += [a.blob_id for m in report.messages for a in m.attachments]
            if report.status_note_blob_id:
                blob_ids.append(report.status_note_blob_id)
    return Stored(receipt.report_id, blob_ids)


def _rows(app: Flask, model: Any, report_id: str) -> int:
    with app.app_context(), db.database().transaction() as session:
        if model is Report:
            where = Report.id == report_id
        elif model is Attachment:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Attachment)
                    .join(Message, Attachment.message_id == Message.id)
                    .where(Message.report_id == report_id)
                )
            )
        else:
            where = model.report_id == report_id
        return int(session.scalar(select(func.count()).select_from(model).where(where)))


def _blob_rows(app: Flask, blob_ids: list[str]) -> int:
    with app.app_context(), db.database().transaction() as session:
        return int(session.scalar(select(func.count()).where(Blob.id.in_(blob_ids))))


def _gone(app: Flask, stored: Stored) -> bool:
    store = app.extensions["blobs"]
    rows = [_rows(app, model, stored.report_id) for model in (Report, Message, Attachment)]
    rows.append(_rows(app, Delivery, stored.report_id))
    files = [store.path(b).exists() for b in stored.blob_ids]
    return rows == [0, 0, 0, 0] and _blob_rows(app, stored.blob_ids) == 0 and not any(files)


def _intact(app: Flask, stored: Stored) -> bool:
    store = app.extensions["blobs"]
    return (
        _rows(app, Report, stored.report_id) == 1
        and _rows(app, Message, stored.report_id) >= 1
        and _rows(app, Delivery, stored.report_id) >= 1
        and _blob_rows(app, stored.blob_ids) == len(stored.blob_ids)
        and all(store.path(b).exists() for b in stored.blob_ids)
    )


def _purge(app: Flask) -> int:
    with app.app_context():
        return purge_expired(db.database(), app.extensions["blobs"])


def _records(app: Flask) -> list[PurgeRecord]:
    with app.app_context(), db.database().transaction() as session:
        return list(session.scalars(select(PurgeRecord).order_by(PurgeRecord.id)))


@pytest.mark.slow
def test_expired_closed_read_reports_are_purged_and_nothing_else(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _organisation(app, "Safeguard", RETENTION)
    theirs = _organisation(app, "Partner")  # the default retention, longer than ours
    expired = _store(app, ours, closed_days_ago=RETENTION + 1, attachment=True, reply=True)
    expired_plain = _store(app, ours, closed_days_ago=RETENTION + 40)
    recent = _store(app, ours, closed_days_ago=RETENTION - 1, attachment=True)
    still_open = _store(app, ours, closed_days_ago=None)
    other = _store(app, theirs, closed_days_ago=RETENTION + 1)
    assert len(expired.blob_ids) == 4  # report, attachment, reply, status note
    caplog.set_level(logging.DEBUG)

    assert _purge(app) == 2

    assert _gone(app, expired) and _gone(app, expired_plain)
    for kept in (recent, still_open, other):
        assert _intact(app, kept)
    with app.app_context(), db.database().transaction() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 3
    [record] = _records(app)
    assert (record.organisation_id, record.reports, record.blobs, record.kept_unread) == (
        ours,
        2,
        6,
        0,
    )
    assert record.purged_on == today()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    # Nothing more to do the second time; no empty record.
    assert _purge(app) == 0
    assert len(_records(app)) == 1


@pytest.mark.slow
def test_an_unread_expired_report_is_kept_counted_and_warned_about(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _organisation(app, "Safeguard", RETENTION)
    unread = _store(app, ours, closed_days_ago=RETENTION + 1, read=False, attachment=True)
    purged = _store(app, ours, closed_days_ago=RETENTION + 1)
    caplog.set_level(logging.DEBUG)

    assert _purge(app) == 1

    assert _intact(app, unread) and _gone(app, purged)
    [record] = _records(app)
    assert (record.reports, record.blobs, record.kept_unread) == (1, 2, 1)
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "worker.retention"
    text = warning.getMessage()
    assert "1 closed report" in text and "unread" in text
    for report_id in (unread.report_id, purged.report_id):
        assert report_id not in text and report_id not in caplog.text


@pytest.mark.slow
def test_the_purge_record_and_logs_hold_nothing_from_the_reports(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _organisation(app, "Safeguard", RETENTION)
    gone = _store(app, ours, closed_days_ago=RETENTION + 2, attachment=True, reply=True)
    kept = _store(app, ours, closed_days_ago=RETENTION + 2, read=False)
    caplog.set_level(logging.DEBUG)
    _purge(app)

    # The record's columns are a date, the organisation and counts: nothing else to fill.
    columns = {c.key for c in inspect(PurgeRecord).columns}
    assert columns == {"id", "purged_on", "organisation_id", "reports", "blobs", "kept_unread"}
    [record] = _records(app)
    values = [str(getattr(record, c)) for c in sorted(columns)]
    secrets = [CANARY, gone.report_id, kept.report_id, *gone.blob_ids, *kept.blob_ids]
    for secret in secrets:
        assert not any(secret in value for value in values)
        assert secret not in caplog.text
        for log_record in caplog.records:
            assert secret not in str(log_record.args)


@pytest.mark.slow
def test_a_purged_report_leaves_no_trace_in_the_sqlite_file(app: Flask, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's secure_delete; PostgreSQL's dead tuples are VACUUM's business")
    ours = _organisation(app, "Safeguard", RETENTION)
    gone = _store(app, ours, closed_days_ago=RETENTION + 1, attachment=True, reply=True)
    kept = _store(app, ours, closed_days_ago=None)
    with app.app_context():
        db.database().engine.dispose()  # nothing left in a connection's cache
    _purge(app)
    with app.app_context():
        db.database().engine.dispose()
    data = Path(database_url.removeprefix("sqlite:///")).read_bytes()
    assert kept.report_id.encode() in data  # the check can see ids at all
    for secret in gone.blob_ids:  # the message, attachment and blob rows naming them
        assert secret.encode() not in data
    # The report's id stays in the audit log alone: the caseworker's reply was audited, and
    # the log names opaque ids by design (reporting/accounts/audit.py); no other row keeps it.
    with app.app_context():
        session = db.session()
        assert session.scalar(select(Report).where(Report.id == gone.report_id)) is None
        assert session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == gone.report_id)
        ).all() == ["reply"]


# The maximum age of any report, and its warning

MAX_AGE = 100


def _received(app: Flask, stored: Stored, days_ago: int) -> None:
    with app.app_context(), db.database().transaction() as session:
        session.get_one(Report, stored.report_id).received_on = today() - timedelta(days=days_ago)


def _max_age(app: Flask, organisation_id: str, days: int, notify_email: str = "") -> None:
    with app.app_context(), db.database().transaction() as session:
        organisation = session.get_one(Organisation, organisation_id)
        organisation.max_report_age_days = days
        organisation.notify_email = notify_email


def test_any_report_at_the_maximum_age_is_purged_whatever_its_status(app: Flask) -> None:
    ours = _organisation(app, "Safeguard", RETENTION)
    _max_age(app, ours, MAX_AGE)
    open_unread = _store(app, ours, closed_days_ago=None, read=False, attachment=True)
    closed_unread = _store(app, ours, closed_days_ago=1, read=False)
    younger = _store(app, ours, closed_days_ago=None, read=False)
    _received(app, open_unread, MAX_AGE)
    _received(app, closed_unread, MAX_AGE + 30)
    _received(app, younger, MAX_AGE - 1)
    with app.app_context():
        lookup = db.session().get_one(Report, open_unread.report_id).lookup_id

    assert _purge(app) == 2

    assert _gone(app, open_unread) and _gone(app, closed_unread)
    assert _intact(app, younger)
    with app.app_context():  # the codename's lookup id went with the row
        assert db.session().scalar(select(Report).where(Report.lookup_id == lookup)) is None
    [record] = _records(app)
    assert (record.reports, record.kept_unread) == (2, 0)


def test_the_default_maximum_age_is_a_year_and_the_delay_a_week(app: Flask) -> None:
    ours = _organisation(app, "Safeguard")
    with app.app_context():
        organisation = db.session().get_one(Organisation, ours)
        assert (organisation.max_report_age_days, organisation.deletion_delay_days) == (365, 7)


def test_the_organisation_is_warned_once_and_without_ids(app: Flask, smtp: Any) -> None:
    import dataclasses

    from tests.support.delivery_fixtures import TEST_DELIVERY
    from worker import notify

    ours = _organisation(app, "Safeguard", RETENTION)
    _max_age(app, ours, MAX_AGE, "alerts@ngo.example")
    soon = _store(app, ours, closed_days_ago=None)
    later = _store(app, ours, closed_days_ago=None)
    _received(app, soon, MAX_AGE - 14)
    _received(app, later, MAX_AGE - 15)

    assert _purge(app) == 0
    with app.app_context():
        session = db.session()
        assert session.get_one(Organisation, ours).expiry_notice_due is True
        assert session.get_one(Report, soon.report_id).expiry_warned is True
        assert session.get_one(Report, later.report_id).expiry_warned is False
    settings = dataclasses.replace(TEST_DELIVERY, smtp_url=smtp.url)
    with app.app_context():
        # The two reports are new too: that notice and the warning.
        assert notify.send_due_notices(db.database(), settings) == 2
    subjects = [m["Subject"] for m in smtp.mailbox.messages()]
    assert subjects == [
        "New reports in Safeguard",
        "Some reports in Safeguard will be deleted soon",
    ]
    raw = smtp.mailbox.envelopes[1].original_content
    for secret in (CANARY, soon.report_id, later.report_id, *soon.blob_ids):
        assert secret.encode() not in raw

    # Warned once: the next purge does not make it due again for the same report.
    assert _purge(app) == 0
    with app.app_context():
        assert db.session().get_one(Organisation, ours).expiry_notice_due is False
    _received(app, later, MAX_AGE - 14)
    assert _purge(app) == 0
    with app.app_context():
        assert db.session().get_one(Organisation, ours).expiry_notice_due is True

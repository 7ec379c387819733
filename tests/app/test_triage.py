"""Triage functions: listing and counting an organisation's reports, read markers, scoped
lookups, validated triage changes with their audit entries, and the status note."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from reporting.casework import triage
from reporting.infra import db
from reporting.intake.return_visit import read_document
from reporting.models import (
    Attachment,
    AuditEntry,
    Blob,
    Caseworker,
    ChannelKind,
    Consent,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    MessageKind,
    Report,
    ReportStatus,
    Severity,
    TriageTag,
)
from reporting.models.common import new_id
from tests.support.casework import Account, make_account

OTHER = "Other organisation"


@pytest.fixture
def alice(app: Flask) -> Account:
    return make_account(app, "alice")


@pytest.fixture
def bob(app: Flask, alice: Account) -> Account:
    return make_account(app, "bob", organisation_name=alice.organisation_name)


@pytest.fixture
def mallory(app: Flask) -> Account:
    return make_account(app, "mallory", organisation_name=OTHER)


@contextmanager
def session_as(app: Flask, account: Account) -> Iterator[tuple[Session, Caseworker]]:
    """A committed transaction and the caseworker row of `account` in it."""
    with app.app_context(), db.database().transaction() as session:
        yield session, session.get_one(Caseworker, account.id)


def add_message(
    session: Session, report: Report, kind: MessageKind, author: str | None = None, files: int = 0
) -> Message:
    seq = session.scalar(select(func.max(Message.seq)).where(Message.report_id == report.id))
    blobs = [Blob(size=1024) for _ in range(files + 1)]
    session.add_all(blobs)
    session.flush()
    message = Message(
        report_id=report.id,
        seq=0 if seq is None else seq + 1,
        kind=kind,
        document_blob_id=blobs[0].id,
        author_id=author,
        attachments=[Attachment(position=i, blob_id=b.id) for i, b in enumerate(blobs[1:])],
    )
    session.add(message)
    session.flush()
    return message


def add_report(
    app: Flask,
    account: Account,
    received_on: date | None = None,
    reporter: Any = None,
    **columns: Any,
) -> str:
    """A report of the account's organisation with its first message (no files on disk)."""
    with session_as(app, account) as (session, _):
        report = Report(
            organisation_id=account.organisation_id,
            lookup_id=new_id(),
            reporter_recipient=str((reporter or crypto.generate_identity()).recipient),
            received_on=received_on or date.today(),
            consent=Consent.NONE,
            **columns,
        )
        session.add(report)
        session.flush()
        add_message(session, report, MessageKind.REPORT, files=1)
        return report.id


def add_tags(app: Flask, account: Account, *names: str) -> None:
    with session_as(app, account) as (session, _):
        session.add_all(TriageTag(organisation_id=account.organisation_id, name=n) for n in names)


def listing(app: Flask, account: Account, **filters: Any) -> tuple[list[str], triage.Counts]:
    with session_as(app, account) as (session, me):
        summaries, counts = triage.list_reports(session, me, triage.Filters(**filters))
        return [s.id for s in summaries], counts


def audit_details(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(e.action, e.target, e.detail) for e in entries]


def test_listing_is_the_organisations_newest_first_with_counts(
    app: Flask, alice: Account, mallory: Account
) -> None:
    today = date.today()
    old = add_report(app, alice, today - timedelta(days=3), status=ReportStatus.CLOSED)
    new = add_report(app, alice, today)
    middle = add_report(app, alice, today - timedelta(days=1), status=ReportStatus.TRIAGED)
    add_report(app, mallory, today)  # another organisation's: never listed nor counted

    ids, counts = listing(app, alice)
    assert ids == [new, middle, old]
    assert counts.as_json() == {
        "total": 3,
        "unread": 3,
        "status": {"new": 1, "triaged": 1, "in_progress": 0, "escalated": 0, "closed": 1},
    }
    # A filter narrows the list, not the counts.
    ids, filtered_counts = listing(app, alice, status=ReportStatus.CLOSED)
    assert ids == [old] and filtered_counts == counts


def test_filters(app: Flask, alice: Account, bob: Account) -> None:
    add_tags(app, alice, "family", "police station")
    first = add_report(app, alice, severity=Severity.HIGH, assignee_id=bob.id)
    second = add_report(app, alice, severity=Severity.LOW)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, second)
        triage.update_triage(session, me, report, tags=["police station"])
        triage.mark_read(session, me, session.get_one(Report, first))

    assert listing(app, alice, severity=Severity.HIGH)[0] == [first]
    assert listing(app, alice, assignee=bob.id)[0] == [first]
    assert listing(app, alice, assignee="none")[0] == [second]
    assert listing(app, alice, tag="police station")[0] == [second]
    assert listing(app, alice, tag="family")[0] == []
    assert listing(app, alice, unread=True)[0] == [second]
    assert listing(app, alice, status=ReportStatus.NEW, severity=Severity.LOW)[0] == [second]


@pytest.mark.parametrize(
    ("args", "field"),
    [({"status": "open"}, "status"), ({"severity": "urgent"}, "severity")],
)
def test_parse_filters_refuses_unknown_values(args: dict[str, str], field: str) -> None:
    with pytest.raises(triage.TriageError) as refused:
        triage.parse_filters(args)
    assert refused.value.field == field


def test_parse_filters() -> None:
    parsed = triage.parse_filters({"status": "closed", "assignee": "none", "unread": "1"})
    assert parsed == triage.Filters(ReportStatus.CLOSED, None, "none", None, True)
    assert triage.parse_filters({"status": "", "tag": ""}) == triage.Filters()
    assert triage.parse_filters({"unread": "y"}).unread
    assert not triage.parse_filters({"unread": "0"}).unread


def test_unread_until_read_and_again_after_someone_elses_message(
    app: Flask, alice: Account, bob: Account
) -> None:
    report_id = add_report(app, alice)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        assert triage.summarise(session, me, report).unread
        assert not report.read
        triage.mark_read(session, me, report)
        assert report.read  # retention purges only reports someone read
        assert not triage.summarise(session, me, report).unread
        # Alice's own reply leaves it read for her, and makes it unread for Bob.
        add_message(session, report, MessageKind.REPLY, author=alice.id)
    assert listing(app, alice, unread=True)[0] == []
    assert listing(app, bob, unread=True)[0] == [report_id]
    with session_as(app, alice) as (session, _):
        add_message(session, session.get_one(Report, report_id), MessageKind.FOLLOWUP)
    ids, counts = listing(app, alice, unread=True)
    assert ids == [report_id] and counts.unread == 1


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "none"),
        ([DeliveryState.DELIVERED, DeliveryState.DELIVERED], "delivered"),
        ([DeliveryState.DELIVERED, DeliveryState.PENDING], "pending"),
        ([DeliveryState.PENDING, DeliveryState.FAILED], "failed"),
        ([DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.DELIVERED], "dead"),
    ],
)
def test_delivery_state_is_the_worst_of_the_outbox(
    app: Flask, alice: Account, states: list[DeliveryState], expected: str
) -> None:
    report_id = add_report(app, alice)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        message = report.messages[0]
        for n, state in enumerate(states):
            channel = DeliveryChannel(
                organisation_id=alice.organisation_id, kind=ChannelKind.EMAIL, target=f"{n}@x.org"
            )
            session.add(channel)
            session.flush()
            session.add(
                Delivery(
                    channel_id=channel.id,
                    report_id=report.id,
                    message_id=message.id,
                    blob_id=message.document_blob_id,
                    state=state,
                )
            )
        session.flush()
        summary = triage.summarise(session, me, report)
    assert summary.delivery == expected


def test_summary_json_matches_the_api_contract(app: Flask, alice: Account) -> None:
    add_tags(app, alice, "family")
    report_id = add_report(app, alice, received_on=date(2026, 11, 28))
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        triage.update_triage(session, me, report, severity="high", assignee=me.id, tags=["family"])
        summary = triage.summarise(session, me, report)
    assert summary.assignee_name == "alice"
    assert summary.as_json() == {
        "id": report_id,
        "received_on": "2026-11-28",
        "status": "new",
        "severity": "high",
        "assignee": alice.id,
        "tags": ["family"],
        "unread": True,
        "delivery": "none",
        "messages": 1,
        "consent": "none",
        "urgent": False,
        "consent_changed_on": None,
        "urgent_changed_on": None,
        "deletion_requested_on": None,
        "deletion_due_on": None,
    }


def test_lookups_are_scoped_to_the_organisation(
    app: Flask, alice: Account, mallory: Account
) -> None:
    mine = add_report(app, alice)
    theirs = add_report(app, mallory)
    with session_as(app, alice) as (session, me):
        assert triage.find_report(session, me, mine) is not None
        for bad in (theirs, "x" * 32, mine.upper(), mine[:-1], "", "../" + mine):
            assert triage.find_report(session, me, bad) is None
        report = session.get_one(Report, mine)
        other = session.get_one(Report, theirs)
        document = report.messages[0].document_blob_id
        attachment = report.messages[0].attachments[0].blob_id
        assert triage.locate_blob(session, report, document)[1] == f"{mine}-0-0.age"  # type: ignore[index]
        assert triage.locate_blob(session, report, attachment)[1] == f"{mine}-0-1.age"  # type: ignore[index]
        assert triage.locate_blob(session, report, other.messages[0].document_blob_id) is None
        assert triage.locate_blob(session, report, "not a blob") is None
        with pytest.raises(LookupError):
            triage.update_triage(session, me, other, status="closed")


def test_update_triage_applies_audits_and_reports_changes(
    app: Flask, alice: Account, bob: Account
) -> None:
    add_tags(app, alice, "family", "police station")
    report_id = add_report(app, alice)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        changed = triage.update_triage(
            session,
            me,
            report,
            status="closed",
            severity="critical",
            assignee=bob.id,
            tags=["police station", "family"],
        )
        assert changed == ["status", "severity", "assignee", "tags"]
        assert report.closed_on == date.today()
        assert [t.name for t in report.tags] == ["family", "police station"]
        # The same values again change nothing and record nothing.
        assert (
            triage.update_triage(
                session, me, report, status="closed", tags=["family", "police station"]
            )
            == []
        )
    assert audit_details(app) == [
        ("status_change", report_id, "status=closed"),
        ("triage_change", report_id, "severity=critical"),
        ("triage_change", report_id, f"assignee={bob.id}"),
        ("triage_change", report_id, "tags=family,police station"),
    ]
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        # Reopened: retention no longer counts down; cleared fields are recorded as "none".
        changed = triage.update_triage(
            session, me, report, status="in_progress", severity=None, assignee=None, tags=[]
        )
        assert changed == ["status", "severity", "assignee", "tags"]
        assert report.closed_on is None and report.severity is None
        assert report.assignee_id is None and report.tags == []
    assert [d for _, _, d in audit_details(app)[4:]] == [
        "status=in_progress",
        "severity=none",
        "assignee=none",
        "tags=none",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "open"}, "status"),
        ({"status": None}, "status"),
        ({"severity": "urgent"}, "severity"),
        ({"severity": 3}, "severity"),
        ({"assignee": "nobody-at-all"}, "assignee"),
        ({"assignee": "mallory"}, "assignee"),  # replaced by mallory's id below
        ({"assignee": "disabled"}, "assignee"),  # replaced by a disabled colleague's id
        ({"tags": ["unknown"]}, "tags"),
        ({"tags": ["mallorys tag"]}, "tags"),
        ({"tags": "family"}, "tags"),
        ({"tags": [1]}, "tags"),
    ],
)
def test_bad_triage_values_change_nothing(
    app: Flask,
    alice: Account,
    bob: Account,
    mallory: Account,
    change: dict[str, Any],
    field: str,
) -> None:
    add_tags(app, alice, "family")
    add_tags(app, mallory, "mallorys tag")
    with session_as(app, alice) as (session, _):
        session.get_one(Caseworker, bob.id).active = False
    ids = {"mallory": mallory.id, "disabled": bob.id}
    change = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    report_id = add_report(app, alice)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        with pytest.raises(triage.TriageError) as refused:
            # A good change alongside the bad one is not applied either.
            good = {"status": "triaged"} if "severity" in change else {"severity": "low"}
            triage.update_triage(session, me, report, **good, **change)
        assert refused.value.field == field and refused.value.message
        assert report.status is ReportStatus.NEW and report.severity is None
        assert report.assignee_id is None and report.tags == []
    assert audit_details(app) == []


def test_an_unchanged_assignee_who_was_disabled_is_kept(
    app: Flask, alice: Account, bob: Account
) -> None:
    report_id = add_report(app, alice, assignee_id=bob.id)
    with session_as(app, alice) as (session, _):
        session.get_one(Caseworker, bob.id).active = False
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        assert triage.update_triage(session, me, report, assignee=bob.id, status="triaged") == [
            "status"
        ]
        assert report.assignee_id == bob.id


def _note_text(app: Flask, blob_id: str, identity: Any) -> str | None:
    with app.app_context():
        return read_document(app.extensions["blobs"], blob_id, identity, "status_note")


def test_status_note_is_encrypted_to_the_reporter_and_the_organisation(
    app: Flask, alice: Account, bob: Account
) -> None:
    reporter = crypto.generate_identity()
    report_id = add_report(app, alice, reporter=reporter)
    store = app.extensions["blobs"]
    with app.app_context():
        me = db.session().get_one(Caseworker, alice.id)
        report = db.session().get_one(Report, report_id)
        triage.apply_triage(db.database(), store, me, report, note="  We have called a lawyer.  ")
        first = report.status_note_blob_id  # the caller's copy is refreshed
        assert first is not None
    for identity in (reporter, alice.identity, bob.identity):
        assert _note_text(app, first, identity) == "We have called a lawyer."
    assert _note_text(app, first, crypto.generate_identity()) is None
    # The stored size is padded; the file is what the row says.
    with app.app_context():
        assert db.session().get_one(Blob, first).size == store.path(first).stat().st_size

    # Replacing it deletes the old note's row and file.
    with app.app_context():
        me = db.session().get_one(Caseworker, alice.id)
        report = db.session().get_one(Report, report_id)
        triage.apply_triage(db.database(), store, me, report, note="Second note")
        second = report.status_note_blob_id
    assert second and second != first and not store.path(first).exists()
    assert _note_text(app, second, reporter) == "Second note"
    # None removes it.
    with app.app_context():
        me = db.session().get_one(Caseworker, alice.id)
        report = db.session().get_one(Report, report_id)
        triage.apply_triage(db.database(), store, me, report, note=None)
        assert report.status_note_blob_id is None
        assert db.session().get(Blob, second) is None
    assert not store.path(second).exists()
    assert [d for a, _, d in audit_details(app) if a == "reply"] == [
        "status_note=set",
        "status_note=set",
        "status_note=removed",
    ]


def test_a_refused_triage_change_stores_no_note(app: Flask, alice: Account) -> None:
    report_id = add_report(app, alice)
    store = app.extensions["blobs"]
    with app.app_context():
        me = db.session().get_one(Caseworker, alice.id)
        report = db.session().get_one(Report, report_id)
        with pytest.raises(triage.TriageError):
            triage.apply_triage(
                db.database(), store, me, report, note="hello", status="open", severity="high"
            )
        with pytest.raises(triage.TriageError):
            triage.apply_triage(db.database(), store, me, report, note="x" * 10_001)
    with app.app_context():
        report = db.session().get_one(Report, report_id)
        assert report.status_note_blob_id is None and report.severity is None
    assert list(store.ids()) == [] and store.temporary_files() == []
    assert audit_details(app) == []


@pytest.mark.slow
def test_a_classic_key_organisation_notes_to_the_reporter_only(app: Flask) -> None:
    """age cannot mix a classic (age1…) key into a post-quantum file, and the reporter's
    key is post-quantum: an organisation with classic keys still answers the reporter,
    but cannot read the note back."""
    classic = crypto.generate_identity(post_quantum=False)
    account = make_account(app, "carol", organisation_name="Classic keys", with_key=False)
    with session_as(app, account) as (session, _):
        from reporting.models import OrganisationRecipient

        session.add(
            OrganisationRecipient(
                organisation_id=account.organisation_id, recipient=str(classic.recipient)
            )
        )
    reporter = crypto.generate_identity()
    report_id = add_report(app, account, reporter=reporter)
    store = app.extensions["blobs"]
    with app.app_context():
        me = db.session().get_one(Caseworker, account.id)
        report = db.session().get_one(Report, report_id)
        triage.apply_triage(db.database(), store, me, report, note="we can help", status="triaged")
    with app.app_context():
        note = db.session().get_one(Report, report_id).status_note_blob_id
        assert note is not None
        assert read_document(store, note, reporter, "status_note") == "we can help"
        assert read_document(store, note, classic, "status_note") is None


def test_record_download_is_audited(app: Flask, alice: Account) -> None:
    report_id = add_report(app, alice)
    with session_as(app, alice) as (session, me):
        report = session.get_one(Report, report_id)
        triage.record_download(session, me, report, report.messages[0].document_blob_id)
        blob = report.messages[0].document_blob_id
    assert audit_details(app) == [("download", report_id, f"blob={blob}")]

"""The caseworkers' web inbox: listing, filters, read markers, the triage form, the status
note, downloads of ciphertext, and that all of it is for the organisation's caseworkers only.

Reports arrive through the reporter pages (tests/support/portal.py), as in production.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import crypto
from reporting.infra import db
from reporting.intake.return_visit import read_document
from reporting.models import AuditEntry, Blob, Report, ReportStatus, Severity, TriageTag
from tests.support.casework import Account, api_app, make_account, sign_in
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    codename_from,
    csrf_token,
    file_part,
    post_form,
    submit_report,
)
from tests.support.scans import scan_database, scan_files

RECEIVING = "Test organisation"
OTHER = "Other organisation"


@dataclass
class Submitted:
    """A report sent through the reporter pages, and the reporter's signed-in browser."""

    id: str
    codename: str
    reporter: FlaskClient
    identity: Any  # the reporter's key, derived from the codename


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    """Like conftest's, with the portal's organisation named: there are two organisations."""
    return api_app(tmp_path, database_url)


@pytest.fixture
def org(app: Flask) -> Caseworker:
    """The receiving organisation, with an organisation key (as an escrow key would be)."""
    return add_caseworker(app, RECEIVING)


@pytest.fixture
def alice(app: Flask, org: Caseworker) -> Account:
    account = make_account(app, "alice", organisation_name=org.organisation_name)
    with app.app_context(), db.database().transaction() as session:
        session.add_all(
            TriageTag(organisation_id=account.organisation_id, name=name)
            for name in ("family", "police station")
        )
    return account


@pytest.fixture
def mallory(app: Flask) -> Account:
    return make_account(app, "mallory", organisation_name=OTHER)


def submit(app: Flask, **fields: Any) -> Submitted:
    reporter = app.test_client()
    page = submit_report(reporter, **fields)
    assert page.status_code == 200, page.text[:300]
    codename = codename_from(page)
    keys = crypto.derive_keys(codename, app.config["SETTINGS"].codename_salt)
    with app.app_context():
        report_id = db.session().scalar(select(Report.id).where(Report.lookup_id == keys.lookup_id))
    assert report_id
    return Submitted(report_id, codename, reporter, keys.identity)


def browser(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    sign_in(client, account)
    return client


def report_row(app: Flask, report_id: str) -> dict[str, Any]:
    with app.app_context():
        report = db.session().get_one(Report, report_id)
        return {
            "status": report.status,
            "severity": report.severity,
            "assignee": report.assignee_id,
            "tags": [t.name for t in report.tags],
            "note": report.status_note_blob_id,
            "closed_on": report.closed_on,
        }


def audit(app: Flask) -> list[tuple[str, str | None, str, str]]:
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(e.action, e.actor_id, e.target, e.detail) for e in entries]


def blob_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(Blob)) or 0)


def triage_form(client: FlaskClient, report_id: str, **data: Any) -> Any:
    token = csrf_token(client, f"/casework/reports/{report_id}")
    return client.post(
        f"/casework/reports/{report_id}/triage",
        data={"csrf_token": token, "status": "new", "severity": "", "assignee": "", **data},
    )


def unread_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="unread">.*?/casework/reports/([0-9a-f]{32})', page, re.S)


def download_links(page: str) -> list[str]:
    return re.findall(r'href="(/casework/reports/[0-9a-f]{32}/blobs/[0-9a-f]{32}\.age)"', page)


@pytest.mark.slow
def test_every_page_needs_a_login(app: Flask, alice: Account) -> None:
    report = submit(app)
    client = app.test_client()
    with app.app_context():
        blob = db.session().get_one(Report, report.id).messages[0].document_blob_id
    paths = [
        "/casework/",
        f"/casework/reports/{report.id}",
        f"/casework/reports/{report.id}/blobs/{blob}.age",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/casework/login")
    token = csrf_token(client, "/casework/login")
    response = client.post(
        f"/casework/reports/{report.id}/triage", data={"csrf_token": token, "status": "closed"}
    )
    assert response.status_code == 302 and "/casework/login" in response.headers["Location"]
    assert report_row(app, report.id)["status"] is ReportStatus.NEW
    assert [a for a, *_ in audit(app)] == []


@pytest.mark.slow
def test_inbox_lists_counts_and_read_markers(app: Flask, alice: Account, mallory: Account) -> None:
    first = submit(app)
    second = submit(app)
    client = browser(app, alice)
    page = client.get("/casework/")
    assert page.status_code == 200
    assert sorted(unread_rows(page.text)) == sorted([first.id, second.id])
    assert "<strong>2 unread</strong>" in page.text
    assert (
        '<caption id="reports-caption">' in page.text and '<th scope="col">Status</th>' in page.text
    )
    # Another organisation sees neither report.
    other = browser(app, mallory).get("/casework/").text
    assert first.id not in other and second.id not in other and "0 unread" in other

    # Opening a report marks it read, for this caseworker.
    opened = client.get(f"/casework/reports/{first.id}")
    assert opened.status_code == 200 and first.id in opened.text
    page = client.get("/casework/")
    assert unread_rows(page.text) == [second.id] and "<strong>1 unread</strong>" in page.text
    assert client.get("/casework/?unread=1").text.count("/casework/reports/") == 1

    # The reporter comes back with more: unread again.
    followup = {"csrf_token": csrf_token(first.reporter, "/case"), "message": "They came again."}
    assert post_form(first.reporter, "/case/followup", followup).status_code == 302
    page = client.get("/casework/")
    assert sorted(unread_rows(page.text)) == sorted([first.id, second.id])
    opened = client.get(f"/casework/reports/{first.id}").text
    assert "Follow-up from the reporter" in opened and "Messages (2)" in opened
    assert unread_rows(client.get("/casework/").text) == [second.id]
    assert [a for a, *_ in audit(app)] == ["view", "view"]


@pytest.mark.slow
def test_filters_and_counts_per_status(app: Flask, alice: Account, mallory: Account) -> None:
    closed = submit(app)
    fresh = submit(app)
    client = browser(app, alice)
    response = triage_form(
        client, closed.id, status="closed", severity="high", assignee=alice.id, tags="family"
    )
    assert response.status_code == 302
    for query, expected in [
        ("status=closed", [closed.id]),
        ("status=new", [fresh.id]),
        ("severity=high", [closed.id]),
        ("assignee=none", [fresh.id]),
        (f"assignee={alice.id}", [closed.id]),
        ("tag=family", [closed.id]),
        ("tag=police+station", []),
        ("unread=1", [fresh.id]),
        ("unread=y", [fresh.id]),  # what the form's checkbox sends
        ("", [closed.id, fresh.id]),
    ]:
        page = client.get(f"/casework/?{query}")
        assert page.status_code == 200, query
        found = re.findall(r'<th scope="row"[^>]*>\s*<a href="/casework/reports/(\w+)"', page.text)
        assert sorted(found) == sorted(expected), query
        # Counts are the organisation's, whatever the filter.
        assert re.search(r"Closed <span class=\"count\">1</span>", page.text)
        assert re.search(r"New <span class=\"count\">1</span>", page.text)
    for query in ("status=open", "severity=urgent", f"assignee={mallory.id}", "tag=unknown"):
        page = client.get(f"/casework/?{query}")
        assert page.status_code == 400, query
        assert "Error:" in page.text and "/casework/reports/" not in page.text


@pytest.mark.slow
def test_the_triage_form_changes_and_audits(app: Flask, org: Caseworker, alice: Account) -> None:
    bob = make_account(app, "bob", organisation_name=org.organisation_name)
    report = submit(app)
    client = browser(app, alice)
    page = client.get(f"/casework/reports/{report.id}").text
    assert 'name="tags" type="checkbox" value="police station"' in page
    assert f'<option value="{bob.id}">bob</option>' in page
    assert "age -d -i key.txt" in page and f"reporting-caseworker show {report.id}" in page

    response = triage_form(
        client,
        report.id,
        status="closed",
        severity="critical",
        assignee=bob.id,
        tags=["family", "police station"],
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/casework/reports/{report.id}"
    row = report_row(app, report.id)
    assert row["status"] is ReportStatus.CLOSED and row["closed_on"] is not None
    assert row["severity"] is Severity.CRITICAL and row["assignee"] == bob.id
    assert row["tags"] == ["family", "police station"] and row["note"] is None
    assert (
        "Saved: status, severity, assignee, tags." in client.get(response.headers["Location"]).text
    )
    assert [entry for entry in audit(app) if entry[0] != "view"] == [
        ("status_change", alice.id, report.id, "status=closed"),
        ("triage_change", alice.id, report.id, "severity=critical"),
        ("triage_change", alice.id, report.id, f"assignee={bob.id}"),
        ("triage_change", alice.id, report.id, "tags=family,police station"),
    ]
    # Reopening clears the closing day; an empty severity and assignee clear them.
    assert triage_form(client, report.id, status="in_progress").status_code == 302
    row = report_row(app, report.id)
    assert row["status"] is ReportStatus.IN_PROGRESS and row["closed_on"] is None
    assert row["severity"] is None and row["assignee"] is None and row["tags"] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "bad",
    [
        {"status": "open"},
        {"status": ""},
        {"severity": "urgent"},
        {"assignee": "mallory"},  # another organisation's caseworker, by id
        {"assignee": "0" * 32},
        {"tags": ["unknown"]},
        {"tags": ["family", "theirs"]},  # another organisation's tag
        {"note": "x" * 5001},
    ],
)
def test_bad_triage_values_are_refused_and_change_nothing(
    app: Flask, alice: Account, mallory: Account, bad: dict[str, Any]
) -> None:
    with app.app_context(), db.database().transaction() as session:
        session.add(TriageTag(organisation_id=mallory.organisation_id, name="theirs"))
    report = submit(app)
    client = browser(app, alice)
    before, blobs = report_row(app, report.id), blob_count(app)
    bad = {k: mallory.id if v == "mallory" else v for k, v in bad.items()}
    data = {"severity": "high", "assignee": alice.id, "note": "a note", **bad}
    response = triage_form(client, report.id, **data)
    assert response.status_code == 400
    assert "Nothing was changed" in response.text and "Error:" in response.text
    assert report_row(app, report.id) == before and blob_count(app) == blobs
    assert [a for a, *_ in audit(app)] == ["view"]  # the page view that gave the token


@pytest.mark.slow
def test_the_triage_form_needs_its_csrf_token(app: Flask, alice: Account) -> None:
    report = submit(app)
    client = browser(app, alice)
    client.get(f"/casework/reports/{report.id}")
    for token in (None, "not-the-token"):
        data = {"status": "closed", "note": "hello"}
        if token:
            data["csrf_token"] = token
        response = client.post(f"/casework/reports/{report.id}/triage", data=data)
        assert response.status_code == 400
    assert report_row(app, report.id)["status"] is ReportStatus.NEW
    assert report_row(app, report.id)["note"] is None


@pytest.mark.slow
def test_the_status_note_reaches_the_reporter_and_the_organisation(
    app: Flask, org: Caseworker, alice: Account
) -> None:
    report = submit(app)
    client = browser(app, alice)
    response = triage_form(
        client, report.id, status="in_progress", note="We have found a lawyer for you."
    )
    assert response.status_code == 302
    note = report_row(app, report.id)["note"]
    assert note is not None
    case = report.reporter.get("/case").text
    assert "We have found a lawyer for you." in case and "Being worked on" in case
    with app.app_context():
        store = app.extensions["blobs"]
        for identity in (report.identity, org.identity, alice.identity):
            assert read_document(store, note, identity, "status_note") == (
                "We have found a lawyer for you."
            )
        assert read_document(store, note, crypto.generate_identity(), "status_note") is None

    # The page offers its ciphertext; an empty message keeps it; the checkbox removes it.
    page = client.get(f"/casework/reports/{report.id}").text
    assert f"/blobs/{note}.age" in page and 'name="remove_note"' in page
    assert triage_form(client, report.id, status="in_progress").status_code == 302
    assert report_row(app, report.id)["note"] == note
    assert triage_form(client, report.id, status="in_progress", remove_note="y").status_code == 302
    assert report_row(app, report.id)["note"] is None
    assert "We have found a lawyer" not in report.reporter.get("/case").text
    assert not app.extensions["blobs"].path(note).exists()


@pytest.mark.slow
def test_downloads_are_the_stored_bytes_and_audited(
    app: Flask, alice: Account, mallory: Account
) -> None:
    report = submit(app, attachments=[file_part(b"a photo", "p.jpg", "image/jpeg")])
    other = submit(app)
    client = browser(app, alice)
    links = download_links(client.get(f"/casework/reports/{report.id}").text)
    assert len(links) == 2
    store = app.extensions["blobs"]
    for link, part in zip(links, (0, 1), strict=True):
        blob = link.rsplit("/", 1)[1].removesuffix(".age")
        with client.get(link) as response:
            assert response.status_code == 200
            data = response.get_data()
        assert data == store.path(blob).read_bytes()
        assert data.startswith(b"age-encryption.org/v1\n")
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Cache-Control"] == "no-store"
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename={report.id}-0-{part}.age"
        assert audit(app)[-1] == ("download", alice.id, report.id, f"blob={blob}")

    # Another report's blob under this report, an unknown blob, a malformed id: all 404.
    with app.app_context():
        foreign = db.session().get_one(Report, other.id).messages[0].document_blob_id
    entries = len(audit(app))
    for blob in (foreign, "0" * 32, "nonsense"):
        assert client.get(f"/casework/reports/{report.id}/blobs/{blob}.age").status_code == 404
    assert len(audit(app)) == entries


@pytest.mark.slow
def test_another_organisations_caseworker_gets_404(
    app: Flask, alice: Account, mallory: Account
) -> None:
    report = submit(app)
    with app.app_context():
        blob = db.session().get_one(Report, report.id).messages[0].document_blob_id
    client = browser(app, mallory)
    assert client.get(f"/casework/reports/{report.id}").status_code == 404
    assert client.get(f"/casework/reports/{report.id}/blobs/{blob}.age").status_code == 404
    token = csrf_token(client, "/casework/")  # the logout form in the header carries it
    response = client.post(
        f"/casework/reports/{report.id}/triage",
        data={"csrf_token": token, "status": "closed", "note": "mallory was here"},
    )
    assert response.status_code == 404
    assert report_row(app, report.id)["status"] is ReportStatus.NEW
    assert report_row(app, report.id)["note"] is None
    assert client.get("/casework/reports/not-an-id").status_code == 404
    assert audit(app) == []


@pytest.mark.slow
def test_canary_status_note_is_never_stored_in_clear(
    app: Flask,
    org: Caseworker,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY-{uuid.uuid4().hex}-金丝雀"
    report = submit(app)
    client = browser(app, alice)
    response = triage_form(client, report.id, status="triaged", note=f"{canary} note")
    assert response.status_code == 302
    note = report_row(app, report.id)["note"]
    assert note is not None

    assert scan_files(Path(app.instance_path), canary) >= 2  # the report and the note
    assert scan_database(app, canary) >= 5
    captured = capfd.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert canary not in text and canary.split("-金")[0] not in text

    # The reporter reads it on the case page; the organisation's key decrypts it too.
    assert f"{canary} note" in report.reporter.get("/case").text
    with app.app_context():
        store = app.extensions["blobs"]
        for identity in (report.identity, org.identity):
            assert read_document(store, note, identity, "status_note") == f"{canary} note"

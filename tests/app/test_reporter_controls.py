"""What a reporter controls from /case after sending: the urgent flag, consent to share, and
asking for deletion. Each change takes effect at once, shows to the caseworkers with its day
only, and is refused (changing nothing) without the CSRF token, with a wrong value, or on a
replay; a deletion closes the report to the codename at once and the purge removes it,
rows and ciphertext, after the organisation's delay.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reporting.casework.messages import ConsentRefused, check_consent
from reporting.infra import db
from reporting.infra.queue import DELIVER_TASK, NOTIFY_URGENT_TASK
from reporting.models import Blob, Message, Organisation, Report
from reporting.models.common import today
from reporting.organisations.recipients import find_organisation
from tests.support.casework import api_token, bearer, make_account, sign_in
from tests.support.delivery_fixtures import mail_app
from tests.support.portal import (
    codename_from,
    come_back,
    csrf_token,
    file_part,
    submit_report,
)
from tests.support.scans import scan_database, scan_files
from tests.support.smtp import Smtp
from worker import notify
from worker.retention import purge_expired

CANARY = f"controls-canary-{uuid.uuid4().hex[:12]}"
NARRATIVE = (
    f"A man from the consulate photographed me at the protest and called my mother ({CANARY})."
)
NOTICE_ADDRESS = "alerts@ngo.example"
ORG = "Test organisation"


@pytest.fixture
def app(tmp_path: Path, database_url: str, smtp: Smtp) -> Flask:
    # No REDIS_URL: the embedded broker (a folder) holds what the web app queues.
    return mail_app(tmp_path, database_url, smtp.url, ORGANISATION=ORG)


@pytest.fixture
def account(app: Flask) -> Any:
    account = make_account(app)
    with app.app_context(), db.database().transaction() as session:
        found = find_organisation(session, ORG)
        assert found is not None
        found.notify_email = NOTICE_ADDRESS
    return account


@dataclasses.dataclass
class Reporter:
    client: FlaskClient
    codename: str
    report_id: str


def _reporter(app: Flask, consent: str = "full", **fields: Any) -> Reporter:
    """A reporter who just sent a report (and so is signed in to it)."""
    client = app.test_client()
    page = submit_report(
        client,
        narrative=NARRATIVE,
        consent=consent,
        attachments=[file_part(f"{CANARY}-file".encode(), name="evidence.txt")],
        **fields,
    )
    assert page.status_code == 200
    with app.app_context():
        [report_id] = db.session().scalars(select(Report.id).order_by(Report.id.desc())).all()[:1]
    return Reporter(client, codename_from(page), report_id)


def _post(reporter: Reporter, path: str, data: dict[str, Any], token: str | None = "") -> Any:
    if token == "":
        token = csrf_token(reporter.client, "/case" if path != "/case/delete" else path)
    sent = {**data, **({"csrf_token": token} if token is not None else {})}
    return reporter.client.post(path, data=sent)


def _row(app: Flask, report_id: str) -> Report | None:
    with app.app_context():
        report = db.session().get(Report, report_id)
        if report is not None:
            _ = report.organisation.name  # loaded while the session is open
        return report


def _organisation(app: Flask) -> Organisation:
    with app.app_context():
        found = find_organisation(db.session(), ORG)
        assert found is not None
        return found


def _queued(app: Flask) -> list[str]:
    """The names of the tasks the web app queued in the embedded broker, taken off it."""
    names = []
    folder = Path(app.config["SETTINGS"].broker_folder) / "queue"
    for path in sorted(folder.glob("*.msg")):
        message = json.loads(path.read_bytes())
        json.loads(base64.b64decode(message["body"]))
        names.append(message["headers"]["task"])
        path.unlink()
    return [name for name in names if name != DELIVER_TASK]


# The urgent flag


def test_the_reporter_sets_and_clears_the_urgent_flag_and_setting_it_notifies_at_once(
    app: Flask, account: Any, smtp: Smtp
) -> None:
    from worker.app import create_celery

    celery: Celery = create_celery(app)
    reporter = _reporter(app)
    _queued(app)
    page = reporter.client.get("/case").text
    assert re.search(r'<input checked id="urgent-1" name="urgent"[^>]*value="no"', page)
    response = _post(reporter, "/case/urgent", {"urgent": "yes"})
    assert response.status_code == 302 and response.location.endswith("/case")
    row = _row(app, reporter.report_id)
    assert row is not None and row.urgent is True and row.urgent_changed_on == today()
    assert _organisation(app).urgent_notice_due is True
    assert _queued(app) == [NOTIFY_URGENT_TASK]
    celery.tasks[NOTIFY_URGENT_TASK].apply().get()
    [message] = smtp.mailbox.messages()
    assert message["Subject"] == f"Urgent report in {ORG}"
    raw = smtp.mailbox.envelopes[0].original_content
    for secret in (CANARY, reporter.report_id, reporter.codename):
        assert secret.encode() not in raw
    assert "is marked urgent" in reporter.client.get("/case").text

    assert _post(reporter, "/case/urgent", {"urgent": "no"}).status_code == 302
    row = _row(app, reporter.report_id)
    assert row is not None and row.urgent is False
    assert _queued(app) == []  # clearing it sends nothing at once


@pytest.mark.parametrize(
    ("data", "token", "message"),
    [
        ({"urgent": "maybe"}, "", "Not a valid choice"),
        ({}, "", "Please choose “Yes” or “No”."),
        ({"urgent": "yes"}, None, ""),  # no CSRF token
        ({"urgent": "yes"}, "forged-token", ""),
    ],
)
def test_a_bad_urgent_change_is_refused_and_changes_nothing(
    app: Flask, account: Any, data: dict[str, Any], token: str | None, message: str
) -> None:
    reporter = _reporter(app)
    _queued(app)
    response = _post(reporter, "/case/urgent", data, token)
    assert response.status_code == 400
    assert message in response.text
    row = _row(app, reporter.report_id)
    assert row is not None and row.urgent is False and row.urgent_changed_on is None
    assert _organisation(app).urgent_notice_due is False
    assert _queued(app) == []


def test_a_replayed_change_is_refused(app: Flask, account: Any) -> None:
    reporter = _reporter(app)
    token = csrf_token(reporter.client, "/case")
    assert _post(reporter, "/case/urgent", {"urgent": "yes"}, token).status_code == 302
    assert _post(reporter, "/case/urgent", {"urgent": "no"}, token).status_code == 400
    row = _row(app, reporter.report_id)
    assert row is not None and row.urgent is True


# Consent


def _escalation_status(app: Flask, account: Any, report_id: str) -> Any:
    """The API's answer to an escalation (the consent check comes before the body is read)."""
    client = app.test_client()
    token = api_token(app, account)
    return client.post(
        f"/api/v1/reports/{report_id}/escalations",
        headers=bearer(token),
        data={"partner": "1"},
        content_type="multipart/form-data",
    )


def test_narrowed_consent_takes_effect_at_once_and_caseworkers_see_it(
    app: Flask, account: Any
) -> None:
    reporter = _reporter(app, consent="full")
    before = _escalation_status(app, account, reporter.report_id)
    assert before.get_json().get("error") != "consent_refused"
    response = _post(reporter, "/case/consent", {"consent": "none"})
    assert response.status_code == 302
    row = _row(app, reporter.report_id)
    assert row is not None and str(row.consent) == "none" and row.consent_changed_on == today()
    assert _organisation(app).notification_due is True
    refused = _escalation_status(app, account, reporter.report_id)
    assert refused.status_code == 409 and refused.get_json()["error"] == "consent_refused"
    with pytest.raises(ConsentRefused):
        check_consent(row)  # the check inside store_escalation's transaction, too
    listing = (
        app.test_client()
        .get("/api/v1/reports", headers=bearer(api_token(app, account)))
        .get_json()["reports"]
    )
    [shown] = [r for r in listing if r["id"] == reporter.report_id]
    assert shown["consent"] == "none"
    assert shown["consent_changed_on"] == today().isoformat()  # the day, nothing finer
    detail = (
        app.test_client()
        .get(f"/api/v1/reports/{reporter.report_id}", headers=bearer(api_token(app, account)))
        .get_json()
    )
    assert (detail["consent"], detail["consent_changed_on"]) == ("none", today().isoformat())
    caseworker = app.test_client()
    sign_in(caseworker, account)
    assert f"Consent changed {today().isoformat()}" in caseworker.get("/casework/").text
    detail = caseworker.get(f"/casework/reports/{reporter.report_id}").text
    assert "changed by the reporter on" in detail


def test_widened_consent_is_allowed_and_shown(app: Flask, account: Any) -> None:
    reporter = _reporter(app, consent="none")
    assert _post(reporter, "/case/consent", {"consent": "anonymised"}).status_code == 302
    row = _row(app, reporter.report_id)
    assert row is not None and str(row.consent) == "anonymised"
    assert row.consent_changed_on == today()
    check_consent(row)  # sharing is allowed now, and the day shows that it changed


@pytest.mark.parametrize(
    ("data", "token"), [({"consent": "everyone"}, ""), ({}, ""), ({"consent": "none"}, None)]
)
def test_a_bad_consent_change_is_refused_and_changes_nothing(
    app: Flask, account: Any, data: dict[str, Any], token: str | None
) -> None:
    reporter = _reporter(app, consent="full")
    response = _post(reporter, "/case/consent", data, token)
    assert response.status_code == 400
    row = _row(app, reporter.report_id)
    assert row is not None and str(row.consent) == "full" and row.consent_changed_on is None


# Deletion


def test_the_confirmation_page_says_plainly_what_happens(app: Flask, account: Any) -> None:
    reporter = _reporter(app)
    case = reporter.client.get("/case").text
    assert "/case/delete" in case
    page = reporter.client.get("/case/delete").text
    assert "your codename will no longer open it" in page
    assert "after 7 days" in page
    assert "forced to delete" in page
    assert 'type="checkbox"' in page and 'method="post"' in page


@pytest.mark.parametrize(
    ("data", "token"), [({}, ""), ({"confirm": "yes please"}, ""), ({"confirm": "y"}, None)]
)
def test_an_unconfirmed_deletion_changes_nothing(
    app: Flask, account: Any, data: dict[str, Any], token: str | None
) -> None:
    reporter = _reporter(app)
    response = _post(reporter, "/case/delete", data, token)
    assert response.status_code == 400
    if token is not None:
        assert "Please tick the box to confirm." in response.text
    row = _row(app, reporter.report_id)
    assert row is not None and row.deletion_requested_on is None
    assert reporter.client.get("/case").status_code == 200  # still signed in


def test_a_deletion_closes_the_report_at_once_and_the_purge_removes_it_after_the_delay(
    app: Flask, account: Any
) -> None:
    reporter = _reporter(app)
    token = csrf_token(reporter.client, "/case/delete")
    response = _post(reporter, "/case/delete", {"confirm": "y"}, token)
    assert response.status_code == 302
    assert "no longer opens it" in reporter.client.get(response.location).text
    row = _row(app, reporter.report_id)
    assert row is not None and row.deletion_requested_on == today()
    assert _organisation(app).notification_due is True

    # Closed to the reporter: this session, a replay, and the codename.
    assert reporter.client.get("/case").status_code == 302
    assert _post(reporter, "/case/delete", {"confirm": "y"}, token).status_code == 400
    other = app.test_client()
    refused = come_back(other, reporter.codename)
    assert refused.status_code == 403 and "No report matches this codename" in refused.text

    # The caseworkers are told, and it cannot be escalated.
    listing = (
        app.test_client()
        .get("/api/v1/reports", headers=bearer(api_token(app, account)))
        .get_json()["reports"]
    )
    [shown] = [r for r in listing if r["id"] == reporter.report_id]
    assert shown["deletion_requested_on"] == today().isoformat()
    assert shown["deletion_due_on"] == (today() + timedelta(days=7)).isoformat()
    caseworker = app.test_client()
    sign_in(caseworker, account)
    assert "Deletion requested" in caseworker.get("/casework/").text
    refused_escalation = _escalation_status(app, account, reporter.report_id)
    assert refused_escalation.get_json()["error"] == "consent_refused"

    # Nothing the reporter wrote is in clear anywhere while it waits.
    instance = Path(app.config["SETTINGS"].instance_path)
    assert scan_files(instance, CANARY) > 0
    assert scan_database(app, CANARY) > 0

    # Kept for the delay (unread, open: the overriding rule still waits), then purged.
    store = app.extensions["blobs"]
    with app.app_context():
        blob_ids = list(db.session().scalars(select(Blob.id)))
        assert blob_ids and all(store.path(b).is_file() for b in blob_ids)
        assert purge_expired(db.database(), store, today() + timedelta(days=6)) == 0
        assert db.session().get(Report, reporter.report_id) is not None
        assert purge_expired(db.database(), store, today() + timedelta(days=7)) == 1
    with app.app_context():
        session = db.session()
        assert session.get(Report, reporter.report_id) is None
        assert list(session.scalars(select(Message))) == []
        assert list(session.scalars(select(Blob))) == []
    assert not any(store.path(b).exists() for b in blob_ids)
    scan_files(instance, CANARY)
    scan_database(app, CANARY)


def test_the_delay_is_the_organisations(app: Flask, account: Any) -> None:
    with app.app_context(), db.database().transaction() as session:
        found = find_organisation(session, ORG)
        assert found is not None
        found.deletion_delay_days = 2
    reporter = _reporter(app)
    assert "after 2 days" in reporter.client.get("/case/delete").text
    assert _post(reporter, "/case/delete", {"confirm": "y"}).status_code == 302
    with app.app_context():
        store = app.extensions["blobs"]
        assert purge_expired(db.database(), store, today() + timedelta(days=1)) == 0
        assert purge_expired(db.database(), store, today() + timedelta(days=2)) == 1


# Every new message is translated


@pytest.mark.parametrize(
    ("accept", "text"),
    [
        ("zh-CN", "删除"),
        ("zh-TW", "刪除"),
        ("ug", "ئۆچۈر"),
        ("bo", "བསུབ"),
    ],
)
def test_the_controls_are_translated(app: Flask, account: Any, accept: str, text: str) -> None:
    reporter = _reporter(app)
    page = reporter.client.get("/case/delete", headers={"Accept-Language": accept}).text
    assert text in page
    assert "your codename will no longer open it" not in page


def test_notices_never_say_which_report(app: Flask, account: Any, smtp: Smtp) -> None:
    reporter = _reporter(app)
    assert _post(reporter, "/case/delete", {"confirm": "y"}).status_code == 302
    with app.app_context():
        assert notify.send_due_notices(db.database(), app.config["SETTINGS"].delivery) == 1
    raw = smtp.mailbox.envelopes[0].original_content
    for secret in (CANARY, reporter.report_id, reporter.codename):
        assert secret.encode() not in raw
    assert re.search(rb"deleted|deletion", raw, re.IGNORECASE) is None

"""Urgent reports: the reporter's checkbox, kept in the document and in clear on the row; an
immediate content-free notice (at most one per organisation per interval); urgent first in
the inbox, the API and the client's list.

The notices go to a real SMTP server (aiosmtpd) and run through the worker's own Celery
tasks, taken from the embedded broker the web app queued them in.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from flask import Flask
from sqlalchemy import select

from reporting.infra import db
from reporting.infra.config import DeliverySettings
from reporting.infra.queue import DELIVER_TASK, NOTIFY_URGENT_TASK
from reporting.models import Organisation, Report
from reporting.organisations.recipients import create_organisation, find_organisation
from reporting.web.ratelimit import MemoryRateLimiter, RedisRateLimiter
from tests.support.casework import api_token, bearer, make_account, sign_in
from tests.support.delivery_fixtures import mail_app
from tests.support.documents import stored_report
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    file_part,
    only_kept_blobs,
    submit_report,
)
from tests.support.smtp import Smtp
from worker import notify

CANARY = f"urgent-canary-{uuid.uuid4().hex[:12]}"
NARRATIVE = f"They said my brother will be taken tomorrow unless I come back ({CANARY})."
NOTICE_ADDRESS = "alerts@ngo.example"
REDIS_TEST_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def app(tmp_path: Path, database_url: str, smtp: Smtp) -> Flask:
    # No REDIS_URL: the embedded broker (a folder) holds what the web app queues, and the
    # rate limit counts in memory, as on a laptop.
    return mail_app(tmp_path, database_url, smtp.url)


@pytest.fixture
def caseworker(app: Flask) -> Caseworker:
    caseworker = add_caseworker(app)
    with app.app_context(), db.database().transaction() as session:
        found = find_organisation(session, caseworker.organisation_name)
        assert found is not None
        found.notify_email = NOTICE_ADDRESS
    return caseworker


@pytest.fixture
def celery(app: Flask) -> Celery:
    from worker.app import create_celery

    return create_celery(app)


def _submit(app: Flask, **fields: Any) -> Any:
    return submit_report(
        app.test_client(),
        narrative=NARRATIVE,
        city=f"{CANARY}-city",
        attachments=[file_part(f"{CANARY}-file".encode(), name=f"{CANARY}.txt")],
        **fields,
    )


def _queued(app: Flask) -> list[tuple[str, list[Any]]]:
    """The tasks the web app queued in the embedded broker (name, args), taken off it."""
    found = []
    folder = Path(app.config["SETTINGS"].broker_folder) / "queue"
    for path in sorted(folder.glob("*.msg")):
        message = json.loads(path.read_bytes())
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert kwargs == {}
        found.append((message["headers"]["task"], args))
        path.unlink()
    return found


def _run_queued(app: Flask, celery: Celery) -> list[str]:
    """Run each queued notice task as the worker would; deliveries are not this test's."""
    names = []
    for name, args in _queued(app):
        if name != DELIVER_TASK:
            celery.tasks[name].apply(args=args).get()
            names.append(name)
    return names


def _reports(app: Flask) -> list[Report]:
    with app.app_context():
        return list(db.session().scalars(select(Report)))


def _organisation(app: Flask, name: str = "Test organisation") -> Organisation:
    with app.app_context():
        found = find_organisation(db.session(), name)
        assert found is not None
        return found


def _settings(app: Flask) -> DeliverySettings:
    settings: DeliverySettings = app.config["SETTINGS"].delivery
    return settings


# The form


@pytest.mark.parametrize(("ticked", "urgent"), [({"urgent": "y"}, True), ({}, False)])
def test_the_checkbox_reaches_the_row_and_the_encrypted_document(
    app: Flask, caseworker: Caseworker, ticked: dict[str, str], urgent: bool
) -> None:
    assert _submit(app, **ticked).status_code == 200
    [report] = _reports(app)
    assert report.urgent is urgent
    assert stored_report(app, caseworker)["urgent"] is urgent
    assert _organisation(app).urgent_notice_due is urgent


def test_the_form_asks_with_help_and_unticked(app: Flask) -> None:
    page = app.test_client().get("/report").text
    box = re.search(r"<input[^>]*name=\"urgent\"[^>]*>", page)
    assert box and 'type="checkbox"' in box.group(0) and "checked" not in box.group(0)
    assert "Someone is in danger now or within days" in page
    assert "Tick this only if someone is at risk now" in page


@pytest.mark.parametrize("value", ["bogus", "1", "false", ["y", "y"]])
def test_any_other_value_than_a_ticked_box_is_refused_and_nothing_stored(
    app: Flask, caseworker: Caseworker, value: Any
) -> None:
    response = _submit(app, urgent=value)
    assert response.status_code == 400
    if isinstance(value, str):  # a field sent twice is refused before the form looks
        assert "Please tick the box or leave it empty." in response.text
    assert _reports(app) == []
    assert only_kept_blobs(app)  # the file is kept for the form that came back
    assert _organisation(app).urgent_notice_due is False


@pytest.mark.parametrize(
    ("accept", "label"),
    [("zh-CN", "有人现在或几天内有危险"), ("zh-TW", "有人現在或幾天內有危險")],
)
def test_the_checkbox_is_translated(app: Flask, accept: str, label: str) -> None:
    page = app.test_client().get("/report", headers={"Accept-Language": accept}).text
    assert label in page


# The immediate notice


def test_an_urgent_report_sends_one_content_free_notice_at_once(
    app: Flask,
    smtp: Smtp,
    celery: Celery,
    caseworker: Caseworker,
) -> None:
    assert _submit(app, urgent="y").status_code == 200
    assert _run_queued(app, celery) == [NOTIFY_URGENT_TASK]
    [envelope] = smtp.mailbox.envelopes
    assert envelope.rcpt_tos == [NOTICE_ADDRESS]
    [message] = smtp.mailbox.messages()
    assert message["Subject"] == "Urgent report in Test organisation"
    assert not message.is_multipart()
    raw = envelope.original_content
    [report] = _reports(app)
    for secret in (CANARY, report.id, report.lookup_id, report.reporter_recipient):
        assert secret.encode() not in raw
    assert _organisation(app).urgent_notice_due is False
    # The hourly "new reports" notice is still due, as for any report.
    assert _organisation(app).notification_due is True


def test_a_normal_report_waits_for_the_hourly_batch(
    app: Flask,
    smtp: Smtp,
    celery: Celery,
    caseworker: Caseworker,
) -> None:
    assert _submit(app).status_code == 200
    assert _run_queued(app, celery) == []  # no urgent notice queued
    with app.app_context():  # and none due for the periodic task either
        assert notify.send_urgent_notices(db.database(), _settings(app), MemoryRateLimiter()) == 0
    assert smtp.mailbox.envelopes == []
    with app.app_context():
        assert notify.send_due_notices(db.database(), _settings(app)) == 1
    [message] = smtp.mailbox.messages()
    assert message["Subject"] == "New reports in Test organisation"


def test_a_flood_of_urgent_reports_sends_one_notice_per_interval(
    app: Flask,
    smtp: Smtp,
    celery: Celery,
    caseworker: Caseworker,
) -> None:
    for _ in range(4):  # each one's task runs before the next arrives
        assert _submit(app, urgent="y").status_code == 200
        assert _run_queued(app, celery) == [NOTIFY_URGENT_TASK]
    assert len(smtp.mailbox.envelopes) == 1
    # The others are held, not lost: still due, for the periodic task after the interval.
    assert _organisation(app).urgent_notice_due is True
    assert celery.tasks[NOTIFY_URGENT_TASK].apply().get() == 0  # still inside the interval
    assert len(smtp.mailbox.envelopes) == 1


def test_a_held_notice_goes_out_after_the_interval_and_organisations_are_apart(
    app: Flask,
    smtp: Smtp,
    caseworker: Caseworker,
) -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    settings = _settings(app)
    with app.app_context(), db.database().transaction() as session:
        other = create_organisation(session, "Other organisation")
        other.notify_email = "other@ngo.example"
        other.urgent_notice_due = True
        found = find_organisation(session, caseworker.organisation_name)
        assert found is not None
        found.urgent_notice_due = True
    with app.app_context():
        assert notify.send_urgent_notices(db.database(), settings, limiter) == 2
        _due(app, caseworker.organisation_name)
        assert notify.send_urgent_notices(db.database(), settings, limiter) == 0
        now[0] += settings.urgent_notice_seconds - 1
        assert notify.send_urgent_notices(db.database(), settings, limiter) == 0
        now[0] += 1
        assert notify.send_urgent_notices(db.database(), settings, limiter) == 1
    assert [e.rcpt_tos for e in smtp.mailbox.envelopes] == [
        *sorted([[NOTICE_ADDRESS], ["other@ngo.example"]], key=lambda r: _id_of(app, r)),
        [NOTICE_ADDRESS],
    ]
    assert _organisation(app).urgent_notice_due is False


def _due(app: Flask, name: str) -> None:
    with app.app_context(), db.database().transaction() as session:
        found = find_organisation(session, name)
        assert found is not None
        found.urgent_notice_due = True


def _id_of(app: Flask, rcpt: list[str]) -> str:
    name = "Test organisation" if rcpt == [NOTICE_ADDRESS] else "Other organisation"
    return _organisation(app, name).id


def test_worker_processes_share_the_window_through_redis(
    app: Flask,
    smtp: Smtp,
    caseworker: Caseworker,
) -> None:
    """In production each worker process has its own limiter; Redis makes them one."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running")
    prefix = f"test-urgent-{uuid.uuid4().hex}:"
    first, second = (RedisRateLimiter(REDIS_TEST_URL, prefix=prefix) for _ in range(2))
    try:
        with app.app_context():
            _due(app, caseworker.organisation_name)
            assert notify.send_urgent_notices(db.database(), _settings(app), first) == 1
            _due(app, caseworker.organisation_name)
            assert notify.send_urgent_notices(db.database(), _settings(app), second) == 0
        assert len(smtp.mailbox.envelopes) == 1
        assert _organisation(app).urgent_notice_due is True
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        first.close()
        second.close()
        client.close()


def test_a_refused_urgent_notice_stays_due(
    app: Flask,
    smtp: Smtp,
    celery: Celery,
    caseworker: Caseworker,
) -> None:
    smtp.mailbox.rcpt_reply = "451 4.3.0 try again later"
    assert _submit(app, urgent="y").status_code == 200
    _run_queued(app, celery)
    assert smtp.mailbox.envelopes == []
    assert _organisation(app).urgent_notice_due is True


# The inbox, the API and the client


def _three_reports(app: Flask) -> list[str]:
    """A normal report from the 3rd, an urgent one from the 1st, a normal one from the 2nd:
    the ids in the order the inbox must show them (urgent first, then newest)."""
    ids = []
    for day, urgent in ((3, False), (1, True), (2, False)):
        assert _submit(app, **({"urgent": "y"} if urgent else {})).status_code == 200
        with app.app_context(), db.database().transaction() as session:
            [report] = session.scalars(select(Report).where(Report.id.not_in(ids)))
            report.received_on = date(2026, 1, day)
            ids.append(report.id)
    return [ids[1], ids[0], ids[2]]


def test_the_api_and_the_web_inbox_list_urgent_reports_first(app: Flask) -> None:
    account = make_account(app)
    expected = _three_reports(app)
    client = app.test_client()
    listing = client.get("/api/v1/reports", headers=bearer(api_token(app, account))).get_json()
    assert [r["id"] for r in listing["reports"]] == expected
    assert [r["urgent"] for r in listing["reports"]] == [True, False, False]

    sign_in(client, account)
    page = client.get("/casework/").text
    shown = re.findall(r"/casework/reports/([0-9A-Za-z_-]+)\"", page)
    assert shown == expected
    assert page.count('class="urgent-marker"') == 1
    assert "urgent first, then newest" in page
    report_page = client.get(f"/casework/reports/{expected[0]}").text
    assert "Someone is in danger now or within days" in report_page
    assert "Someone is in danger" not in client.get(f"/casework/reports/{expected[1]}").text


def test_the_clients_list_puts_urgent_reports_first() -> None:
    from caseworker_client import listing

    class Store:
        def load_index(self) -> dict[str, Any]:
            return {
                "reports": [
                    {"id": "r-old-normal", "received_on": "2026-01-02", "status": "new"},
                    {"id": "r-new-normal", "received_on": "2026-01-03", "status": "new"},
                    {"id": "r-urgent", "received_on": "2026-01-01", "urgent": True},
                ]
            }

        def details(self) -> list[dict[str, Any]]:
            return []

    class Context:
        store = Store()

        def caseworker_names(self) -> dict[str, str]:
            return {}

    rows = listing.rows(Context())  # type: ignore[arg-type]
    assert [r[0] for r in rows] == ["r-urgent", "r-new-norm", "r-old-norm"]
    assert [r[-2] for r in rows] == ["yes", "-", "-"]

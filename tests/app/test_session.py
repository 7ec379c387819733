"""The session cookie is sealed: unreadable, tamper-proof, ended by idleness and by logout."""

from __future__ import annotations

import base64

import pytest
from flask import Flask, session
from sqlalchemy import func, select

from reporting.accounts.session import SealedSessionInterface
from reporting.infra import db
from reporting.models import Message, Report
from tests.support.portal import (
    codename_from,
    come_back,
    csrf_token,
    multipart,
    report_fields,
    submit_report,
)

COOKIE = "session"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock()
    app.session_interface = SealedSessionInterface(app.secret_key, 30 * 60, clock=clock)

    @app.get("/_set/<value>")
    def set_value(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/_get")
    def get_value() -> str:
        return str(session.get("value"))

    return clock


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def test_the_cookie_reveals_nothing_and_round_trips(app: Flask, clock: Clock) -> None:
    client = app.test_client()
    client.get("/_set/SESSION-SECRET-VALUE")
    raw = base64.urlsafe_b64decode(_cookie(client) + "==")
    assert b"SESSION-SECRET-VALUE" not in raw and b"value" not in raw
    assert client.get("/_get").text == "SESSION-SECRET-VALUE"


def test_cookie_flags(app: Flask, clock: Clock) -> None:
    response = app.test_client().get("/_set/x")
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header
    assert "Secure" not in header and "Expires" not in header  # a browser-session cookie
    secure = app.test_client().get("/_set/x", base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-2] + ("AA" if v[-2:] != "AA" else "BB"),
        lambda v: v[:20],
        lambda v: "not base64 at all!!",
        lambda v: "",
        lambda v: "é" * 10,
    ],
)
def test_a_tampered_cookie_is_no_session(app: Flask, clock: Clock, tamper) -> None:
    client = app.test_client()
    client.get("/_set/original")
    client.set_cookie(COOKIE, tamper(_cookie(client)))
    response = client.get("/_get")
    assert response.status_code == 200 and response.text == "None"


def test_a_cookie_from_another_secret_is_no_session(app: Flask, clock: Clock) -> None:
    client = app.test_client()
    client.get("/_set/original")
    other = SealedSessionInterface("another secret key, as long as one", 1800, clock=clock)
    app.session_interface = other
    assert client.get("/_get").text == "None"


def test_idle_sessions_end_and_activity_renews_them(app: Flask, clock: Clock) -> None:
    client = app.test_client()
    client.get("/_set/alive")
    clock.now += 29 * 60
    assert client.get("/_get").text == "alive"  # renews the session
    clock.now += 29 * 60
    assert client.get("/_get").text == "alive"
    clock.now += 31 * 60
    response = client.get("/_get")
    assert response.text == "None"
    assert client.get_cookie(COOKIE) is None  # the expired cookie was deleted


@pytest.mark.slow
def test_case_page_after_idle_timeout_asks_for_the_codename(
    app: Flask, clock: Clock, caseworker
) -> None:
    client = app.test_client()
    codename = codename_from(submit_report(client))
    assert client.get("/case").status_code == 200
    clock.now += 31 * 60
    response = client.get("/case")
    assert response.status_code == 302 and response.location.endswith("/return")
    page = client.get("/return")
    assert "30 minutes" in page.text
    assert come_back(client, codename).status_code == 302
    assert client.get("/case").status_code == 200


@pytest.mark.slow
def test_logout_ends_the_session(app: Flask, caseworker) -> None:
    client = app.test_client()
    submit_report(client)
    assert client.get("/case").status_code == 200
    token = csrf_token(client, "/case")
    old_cookie = _cookie(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/case").status_code == 302
    # A copy of the cookie from before the logout opens nothing either.
    client.set_cookie(COOKIE, old_cookie)
    assert client.get("/case").status_code == 302


@pytest.mark.slow
def test_a_replayed_report_is_refused_and_stores_nothing_more(app: Flask, caseworker) -> None:
    client = app.test_client()
    token = csrf_token(client, "/report")
    cookie_before = _cookie(client)
    body, content_type = multipart({"csrf_token": token, **report_fields()})
    assert client.post("/report", data=body, content_type=content_type).status_code == 200

    # The same request again, with the same cookie, as an attacker with a copy would send it.
    client.set_cookie(COOKIE, cookie_before)
    replay = client.post("/report", data=body, content_type=content_type)
    assert replay.status_code == 400
    assert "already sent" in replay.text
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Report)) == 1


@pytest.mark.slow
def test_a_replayed_followup_is_refused(app: Flask, caseworker) -> None:
    client = app.test_client()
    submit_report(client)
    token = csrf_token(client, "/case")
    cookie_before = _cookie(client)
    body, content_type = multipart({"csrf_token": token, "message": "One more thing to add."})
    assert client.post("/case/followup", data=body, content_type=content_type).status_code == 302
    client.set_cookie(COOKIE, cookie_before)
    replay = client.post("/case/followup", data=body, content_type=content_type)
    assert replay.status_code in (302, 400)  # no session (to /return) or a CSRF refusal
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Message)) == 2

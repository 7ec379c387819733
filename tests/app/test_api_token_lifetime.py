"""The caseworker client's token ends as a web session does: after 30 idle minutes, and 2
hours after login at the latest, however much it is used.

The threat is a stolen laptop: the token sits in the client's session.json, and with it a
thief can read the organisation's list, post replies to reporters in the caseworker's
name and escalate. So the token must not outlive the web session the caseworker would
have had. Times are set in the database (no waiting), then the API is asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reporting.accounts import signin
from reporting.infra import db
from reporting.models import ApiToken
from tests.support.casework import Account, api_app, bearer, make_account

API = "/api/v1"
IDLE = timedelta(minutes=30)
MAXIMUM = timedelta(hours=2)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return api_app(tmp_path, database_url)


@pytest.fixture
def alice(app: Flask) -> Account:
    return make_account(app, "alice")


def log_in(client: FlaskClient, account: Account) -> dict:
    body = {"username": account.username, "password": account.password, "code": account.code()}
    response = client.post(f"{API}/login", json=body)
    assert response.status_code == 200, response.text
    return dict(response.get_json())


def token_row(app: Flask) -> ApiToken:
    with app.app_context():
        return db.session().scalars(select(ApiToken)).one()


def set_times(app: Flask, created_at: datetime, expires_at: datetime) -> None:
    with app.app_context(), db.database().transaction() as session:
        row = session.scalars(select(ApiToken)).one()
        row.created_at, row.expires_at = created_at, expires_at


def now() -> datetime:
    return signin.utcnow()


def test_a_new_token_lasts_as_long_as_an_idle_web_session(
    app: Flask, client: FlaskClient, alice: Account
) -> None:
    answer = log_in(client, alice)
    row = token_row(app)
    assert row.expires_at - row.created_at == IDLE  # not a working day
    ends_at = (row.created_at + MAXIMUM).replace(microsecond=0)
    assert answer["ends_at"] == f"{ends_at.isoformat()}Z"
    assert answer["idle_seconds"] == IDLE.total_seconds()


def test_using_a_token_keeps_it_alive_for_another_idle_period(
    app: Flask, client: FlaskClient, alice: Account
) -> None:
    token = log_in(client, alice)["token"]
    started = now()
    set_times(app, started - timedelta(minutes=40), started + timedelta(minutes=2))
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200
    row = token_row(app)
    assert started + IDLE <= row.expires_at <= now() + IDLE


def test_no_use_keeps_a_token_past_two_hours(
    app: Flask, client: FlaskClient, alice: Account
) -> None:
    token = log_in(client, alice)["token"]
    created = now() - MAXIMUM + timedelta(minutes=5)
    set_times(app, created, now() + timedelta(minutes=1))
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200
    assert token_row(app).expires_at == created + MAXIMUM  # extended, but only to the cap
    set_times(app, now() - MAXIMUM - timedelta(seconds=1), now() + IDLE)
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 401


def test_an_idle_token_is_refused(app: Flask, client: FlaskClient, alice: Account) -> None:
    token = log_in(client, alice)["token"]
    set_times(app, now() - timedelta(minutes=31), now() - timedelta(seconds=1))
    response = client.get(f"{API}/me", headers=bearer(token))
    assert response.status_code == 401 and "log in again" in response.get_json()["message"]
    assert token_row(app).expires_at < now()  # a refused token is not revived

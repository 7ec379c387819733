"""Logins that arrive at the same moment, on PostgreSQL: one code opens one session, and a
burst of guesses gets no more password checks than the throttle allows (and no 500)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reporting import create_app
from reporting.accounts import caseworkers
from reporting.accounts.audit import Action
from reporting.infra import db
from reporting.models import AuditEntry, Caseworker
from tests.support.casework import Account, make_account
from tests.support.portal import csrf_token

LOGIN = "/casework/login"
API_LOGIN = "/api/v1/login"


@pytest.fixture
def app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:
    """The app on PostgreSQL, where requests really run side by side."""
    yield create_app(
        {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": postgres_url}
    )


def _web_login(app: Flask) -> Callable[[str, str, str], Callable[[], int]]:
    """A login through the form, prepared (page and CSRF token fetched) so that only the
    POST itself runs in parallel."""

    def prepare(username: str, password: str, code: str) -> Callable[[], int]:
        client: FlaskClient = app.test_client()
        token = csrf_token(client, LOGIN)
        fields = {"csrf_token": token, "username": username, "password": password, "code": code}
        return lambda: client.post(LOGIN, data=fields).status_code

    return prepare


def _api_login(app: Flask) -> Callable[[str, str, str], Callable[[], int]]:
    def prepare(username: str, password: str, code: str) -> Callable[[], int]:
        client: FlaskClient = app.test_client()
        body = {"username": username, "password": password, "code": code}
        return lambda: client.post(API_LOGIN, json=body).status_code

    return prepare


def in_parallel(requests: list[Callable[[], int]]) -> list[int]:
    """Send every request at once (threads released together) and return the statuses."""
    start = threading.Barrier(len(requests))

    def send(request: Callable[[], int]) -> int:
        start.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


LOGINS = {"web": (_web_login, 302, 403), "api": (_api_login, 200, 401)}


def _recovery_code(app: Flask, account: Account) -> str:
    with app.app_context(), db.database().transaction() as session:
        return caseworkers.new_recovery_codes(session, session.get_one(Caseworker, account.id))[0]


@pytest.mark.parametrize("via", sorted(LOGINS))
@pytest.mark.parametrize("factor", ["totp", "recovery"])
def test_one_code_opens_one_session_however_many_logins_race(
    app: Flask, via: str, factor: str
) -> None:
    account = make_account(app)
    code = account.code() if factor == "totp" else _recovery_code(app, account)
    prepare, success, refusal = LOGINS[via]
    statuses = in_parallel(
        [prepare(app)(account.username, account.password, code) for _ in range(4)]
    )
    assert sorted(statuses) == sorted([success] + [refusal] * 3), statuses


def _audited_failures(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session().scalars(
                select(AuditEntry.detail).where(AuditEntry.action == Action.LOGIN_FAILED.value)
            )
        )


@pytest.mark.parametrize("via", sorted(LOGINS))
def test_a_burst_of_guesses_gets_at_most_the_limit_of_password_checks(app: Flask, via: str) -> None:
    account = make_account(app)
    limit = app.config["SETTINGS"].limits.login_failures
    prepare, _success, refusal = LOGINS[via]
    statuses = in_parallel(
        [prepare(app)(account.username, "a wrong password", "123456") for _ in range(30)]
    )
    assert set(statuses) <= {refusal, 429}, statuses
    failures = _audited_failures(app)
    assert len(failures) == 30
    checked = [detail for detail in failures if not detail.endswith("locked")]
    assert 1 <= len(checked) <= limit, failures
    assert statuses.count(429) == 30 - len(checked)
    # The name is locked now: even the right password and code are refused.
    login = prepare(app)(account.username, account.password, account.code())
    assert login() == 429

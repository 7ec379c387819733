"""A copied cookie or token is refused after logout, whatever restarts or fails afterwards:
the web processes (a new app on the same database), Redis (stopped, or back empty), or
both, on the embedded default (SQLite, no Redis) and on PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reporting import create_app
from reporting.accounts import revocation
from reporting.infra import migrate
from tests.support.casework import make_account
from tests.support.portal import add_caseworker, csrf_token, submit_report
from tests.support.processes import Processes, RedisServer, free_port

COOKIE = "session"
ACCOUNT = "/casework/account"


def start_app(tmp_path: Path, database_url: str, **config: Any) -> Flask:
    """The app as a web process starts it; called again on the same state, a restart."""
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            **config,
        }
    )


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str, path: str) -> int:
    """Send a copied session cookie from a fresh client; the status of the page."""
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client.get(path).status_code


def reporter_logged_out(app: Flask) -> str:
    """A reporter's cookie, copied while it opened their case, then the reporter logs out."""
    client = app.test_client()
    assert submit_report(client).status_code == 200
    assert client.get("/case").status_code == 200
    cookie = cookie_of(client)
    token = csrf_token(client, "/case")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert replay(app, cookie, "/case") == 302
    return cookie


def caseworker_logged_out(app: Flask) -> str:
    """A caseworker's cookie, copied while signed in (a real login), then they log out."""
    account = make_account(app)
    client = app.test_client()
    fields = {
        "csrf_token": csrf_token(client, "/casework/login"),
        "username": account.username,
        "password": account.password,
        "code": account.code(),
    }
    assert client.post("/casework/login", data=fields).status_code == 302
    page = client.get(ACCOUNT)
    assert page.status_code == 200
    cookie = cookie_of(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    assert client.post("/casework/logout", data={"csrf_token": token.group(1)}).status_code == 302
    assert replay(app, cookie, ACCOUNT) == 302
    return cookie


def token_logged_out(app: Flask) -> str:
    """An API token of the client, logged out through the API."""
    account = make_account(app, username="bob")
    client = app.test_client()
    body = {"username": account.username, "password": account.password, "code": account.code()}
    answer = client.post("/api/v1/login", json=body)
    assert answer.status_code == 200
    token = answer.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/logout", headers=headers).status_code == 200
    return str(token)


def token_status(app: Flask, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return app.test_client().get("/api/v1/me", headers=headers).status_code


@pytest.mark.slow
def test_copies_are_refused_after_a_restart(tmp_path: Path, database_url: str) -> None:
    """The embedded default (SQLite, no Redis: `make run`) and PostgreSQL alike."""
    first = start_app(tmp_path, database_url)
    migrate.upgrade(database_url)
    add_caseworker(first)
    reporter = reporter_logged_out(first)
    caseworker = caseworker_logged_out(first)
    token = token_logged_out(first)

    restarted = start_app(tmp_path, database_url)
    assert replay(restarted, reporter, "/case") == 302
    assert replay(restarted, caseworker, ACCOUNT) == 302
    assert token_status(restarted, token) == 401


@pytest.fixture
def redis(require_tool: Callable[[str], str], tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis of this test's own, which it may stop and start empty again."""
    running = Processes(tmp_path / "logs")
    server = RedisServer(require_tool("redis-server"), free_port(), tmp_path / "redis", running)
    server.start()
    try:
        yield server
    finally:
        running.stop_all()


def test_copies_are_refused_while_redis_is_down_and_after_it_comes_back_empty(
    tmp_path: Path, postgres_url: str, redis: RedisServer
) -> None:
    app = start_app(tmp_path, postgres_url, REDIS_URL=redis.url)
    add_caseworker(app)
    reporter = reporter_logged_out(app)
    caseworker = caseworker_logged_out(app)

    redis.shutdown()
    assert replay(app, reporter, "/case") == 302
    assert replay(app, caseworker, ACCOUNT) == 302

    redis.start()  # back, and empty (it keeps nothing on disk)
    restarted = start_app(tmp_path, postgres_url, REDIS_URL=redis.url)
    for web in (app, restarted):
        assert replay(web, reporter, "/case") == 302
        assert replay(web, caseworker, ACCOUNT) == 302


def test_a_database_that_cannot_answer_opens_no_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Fail closed: when the revocation list cannot be read, no cookie opens a session, and
    the outage is logged once, not once per request."""
    app = start_app(tmp_path, f"postgresql+psycopg://127.0.0.1:{free_port()}/nothing")
    with app.test_request_context(), caplog.at_level(logging.WARNING):
        for _ in range(3):
            with pytest.raises(revocation.RevocationsUnreadable):
                revocation.lookup("a" * 32)
    warnings = [r for r in caplog.records if r.name == "reporting.accounts.revocation"]
    assert len(warnings) == 1

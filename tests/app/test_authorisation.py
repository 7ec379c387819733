"""Every caseworker, admin and API route, tried by everyone who must be refused.

The routes are read from the app's URL map, so a new route is covered the day it
is added; a route whose URL needs an argument this module cannot fill fails the
test until one is added to ARGUMENTS. Each refusal must also change nothing: the
database (but the audit log and throttling) is compared before and after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.routing import Rule

from reporting.accounts import signin
from reporting.infra import db
from reporting.models import ApiToken, Caseworker
from tests.support.casework import Account, api_token, bearer, sign_in
from tests.support.portal import csrf_token
from tests.support.world import World, build_world, fill_url, routes, snapshot

# Routes anyone may open: logging in, and accepting an invitation (its token is the key;
# enrolment goes on from there with the invited account in the session, and is a 404
# without it).
PUBLIC = {"casework.login", "casework.accept_invite", "casework.enrol", "api.login"}
# Not part of the state a refusal must leave alone: refusals may be audited or counted.
VOLATILE_TABLES = {"audit_entry", "login_throttle", "revoked_session"}
PREFIXES = ("casework.", "admin.", "api.")


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    return routes(app, PREFIXES)


def _request(client: FlaskClient, method: str, url: str, **kwargs: Any) -> Any:
    if url.startswith("/api/"):
        kwargs.pop("data", None)
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = {}
    return client.open(url, method=method, **kwargs)


def _protected(app: Flask) -> list[tuple[Rule, str]]:
    return [(r, m) for r, m in _routes(app) if r.endpoint not in PUBLIC]


def _each_refused(
    app: Flask,
    routes: list[tuple[Rule, str]],
    ids: dict[str, str],
    send: Callable[[str, str], Any],
    refused: Callable[[Rule, Any], bool],
) -> None:
    assert routes, "no routes to try"
    failures = []
    for rule, method in routes:
        before = snapshot(app, VOLATILE_TABLES)
        url = fill_url(rule, ids)
        response = send(method, url)
        response.close()
        if not refused(rule, response):
            failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
        elif snapshot(app, VOLATILE_TABLES) != before:
            failures.append(f"{method} {url} ({rule.endpoint}): refused but changed the database")
    assert not failures, "\n".join(failures)


def _to_login(rule: Rule, response: Any) -> bool:
    if rule.endpoint.startswith("api."):
        return response.status_code == 401 and response.is_json
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "/casework/login" in location


@pytest.mark.slow
def test_every_route_needs_a_login(app: Flask, world: World) -> None:
    def send(method: str, url: str) -> Any:
        # A fresh anonymous session with a valid CSRF token, so it is the login check
        # that refuses (logging out, say, renews the session and its token).
        client = app.test_client()
        form = {"csrf_token": csrf_token(client, "/casework/login")}
        return _request(client, method, url, data=form if method != "GET" else None)

    _each_refused(app, _protected(app), world.ids, send, _to_login)


def _with_csrf(client: FlaskClient) -> dict[str, str]:
    return {"csrf_token": csrf_token(client, "/casework/account")}


@pytest.mark.slow
def test_another_organisation_reaches_nothing(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.mallory)
    form = _with_csrf(client)
    token = api_token(app, world.mallory)
    with_ids = [(r, m) for r, m in _protected(app) if r.arguments]

    def send(method: str, url: str) -> Any:
        if url.startswith("/api/"):
            return _request(client, method, url, headers=bearer(token))
        return _request(client, method, url, data=form if method != "GET" else None)

    def refused(rule: Rule, response: Any) -> bool:
        return response.status_code in (403, 404)

    _each_refused(app, with_ids, world.ids, send, refused)


def _signed_in(app: Flask, account: Account) -> tuple[FlaskClient, dict[str, str]]:
    """A browser freshly signed in as `account`, with the CSRF token of its session."""
    client = app.test_client()
    sign_in(client, account)
    return client, _with_csrf(client)


def _set_active(app: Flask, account: Account, active: bool) -> None:
    with app.app_context(), db.database().transaction() as session:
        session.execute(update(Caseworker).where(Caseworker.id == account.id).values(active=active))


@pytest.mark.slow
def test_an_expired_session_or_token_opens_nothing(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api_token(app, world.ada)
    with app.app_context(), db.database().transaction() as session:
        session.execute(update(ApiToken).values(expires_at=signin.utcnow() - timedelta(minutes=1)))
    lifetime = app.config["SETTINGS"].limits.caseworker_session_max_seconds

    def send(method: str, url: str) -> Any:
        if url.startswith("/api/"):
            return _request(app.test_client(), method, url, headers=bearer(token))
        # Each request from a fresh session: a refusal ends the session it came with.
        client, form = _signed_in(app, world.ada)
        with monkeypatch.context() as patch:
            patch.setattr(signin, "_now", lambda: time.time() + lifetime + 1)
            return _request(client, method, url, data=form if method != "GET" else None)

    _each_refused(app, _protected(app), world.ids, send, _to_login)


@pytest.mark.slow
def test_a_disabled_account_opens_nothing(app: Flask, world: World) -> None:
    token = api_token(app, world.ada)

    def send(method: str, url: str) -> Any:
        client, form = _signed_in(app, world.ada)
        _set_active(app, world.ada, False)
        try:
            if url.startswith("/api/"):
                return _request(client, method, url, headers=bearer(token))
            return _request(client, method, url, data=form if method != "GET" else None)
        finally:
            _set_active(app, world.ada, True)

    _each_refused(app, _protected(app), world.ids, send, _to_login)


@pytest.mark.slow
def test_a_caseworker_is_no_admin(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.bob)
    form = _with_csrf(client)
    admin_routes = [(r, m) for r, m in _protected(app) if r.endpoint.startswith("admin.")]
    _each_refused(
        app,
        admin_routes,
        world.ids,
        lambda method, url: _request(client, method, url, data=form if method != "GET" else None),
        lambda rule, response: response.status_code == 403,
    )


@pytest.mark.slow
def test_every_form_needs_its_csrf_token(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.ada)
    posts = [(r, m) for r, m in _routes(app) if m != "GET" and not r.endpoint.startswith("api.")]
    _each_refused(
        app,
        posts,
        world.ids,
        lambda method, url: _request(client, method, url, data={}),
        lambda rule, response: response.status_code == 400,
    )


def test_cookies_open_nothing_in_the_api(app: Flask, world: World) -> None:
    """A signed-in browser session must not authorise API calls (they have no CSRF check)."""
    client = app.test_client()
    sign_in(client, world.ada)
    api = [(r, m) for r, m in _protected(app) if r.endpoint.startswith("api.")]
    _each_refused(app, api, world.ids, lambda method, url: _request(client, method, url), _to_login)


def test_no_route_is_public_by_accident(app: Flask) -> None:
    """Routes that need no login are listed here on purpose; a new one must be added."""
    client = app.test_client()
    open_routes = set()
    for rule, method in _routes(app):
        if rule.arguments or method != "GET":
            continue
        response = client.get(rule.rule)
        if response.status_code == 200:
            open_routes.add(rule.endpoint)
    assert open_routes <= PUBLIC, open_routes - PUBLIC

"""Every caseworker, admin and API route, tried by everyone who must be refused.

The routes are read from the app's URL map, so a new route is covered the day it
is added; a route whose URL needs an argument this module cannot fill fails the
test until one is added to ARGUMENTS. Each refusal must also change nothing: the
database (but the audit log and throttling) is compared before and after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.routing import Rule

import crypto
from crypto import webhooks
from reporting import db, signin
from reporting.db import Base
from reporting.models import (
    ApiToken,
    Caseworker,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    OrganisationRecipient,
    Partner,
    Report,
    Role,
    TriageTag,
)
from tests.casework import Account, api_token, bearer, make_account, sign_in
from tests.portal import csrf_token, submit_report

# Routes anyone may open: logging in, and accepting an invitation (its token is the key;
# enrolment goes on from there with the invited account in the session, and is a 404
# without it).
PUBLIC = {"casework.login", "casework.accept_invite", "casework.enrol", "api.login"}
# Not part of the state a refusal must leave alone: refusals may be audited or counted.
VOLATILE_TABLES = {"audit_entry", "login_throttle"}
PREFIXES = ("casework.", "admin.", "api.")


@dataclass
class World:
    """Organisation A (an admin, a caseworker, a report and everything around it) and
    organisation B, whose admin must not reach any of A's things."""

    ada: Account  # A's admin
    bob: Account  # A's caseworker
    mallory: Account  # B's admin
    ids: dict[str, str]


def _first_report(app: Flask) -> tuple[str, str]:
    with app.app_context():
        report = db.session().scalars(select(Report)).one()
        return report.id, report.messages[0].document_blob_id


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    ada = make_account(app, "ada", "Org A", Role.ADMIN)
    bob = make_account(app, "bob", "Org A")
    assert submit_report(client, consent="full").status_code == 200
    report_id, blob_id = _first_report(app)
    mallory = make_account(app, "mallory", "Org B", Role.ADMIN)
    with app.app_context(), db.database().transaction() as session:
        tag = TriageTag(organisation_id=ada.organisation_id, name="family")
        partner = Partner(organisation_id=ada.organisation_id, name="Legal aid", recipients="")
        session.add_all([tag, partner])
        session.flush()
        own = DeliveryChannel(
            organisation_id=ada.organisation_id,
            kind=ChannelKind.WEBHOOK,
            target="https://ngo.example/hook",
            secret=webhooks.new_secret(),
        )
        partners = DeliveryChannel(
            organisation_id=ada.organisation_id,
            kind=ChannelKind.EMAIL,
            target="intake@partner.example",
            partner_id=partner.id,
        )
        key = OrganisationRecipient(
            organisation_id=ada.organisation_id,
            recipient=str(crypto.generate_identity().recipient),
            label="escrow",
        )
        session.add_all([own, partners, key])
        session.flush()
        message = session.scalars(select(Message).where(Message.report_id == report_id)).one()
        dead = Delivery(
            channel_id=own.id,
            report_id=report_id,
            message_id=message.id,
            blob_id=blob_id,
            state=DeliveryState.DEAD,
            attempts=10,
        )
        session.add(dead)
        session.flush()
        ids = {
            "report_id": report_id,
            "blob_id": blob_id,
            "caseworker_id": bob.id,
            "channel_id": str(own.id),
            "delivery_id": dead.id,
            "key_id": str(key.id),
            "partner_id": str(partner.id),
            "tag_id": str(tag.id),
        }
    bob_token = api_token(app, bob)
    with app.app_context():
        ids["token_id"] = str(
            db.session().scalar(
                select(ApiToken.id).where(ApiToken.token_hash == _digest(bob_token))
            )
        )
    ids["token"] = "not-a-real-invitation-token"
    return World(ada, bob, mallory, ids)


def _digest(token: str) -> str:
    from crypto.tokens import token_digest

    return token_digest(token)


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.endpoint.startswith(PREFIXES):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule: Rule, ids: dict[str, str]) -> str:
    missing = [name for name in rule.arguments if name not in ids]
    assert not missing, f"{rule.endpoint}: add {missing} to the world fixture's ids"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", ids[name]).replace(f"<int:{name}>", ids[name])
    return path


def _snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    with app.app_context():
        session = db.session()
        state = {}
        for table in Base.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = session.execute(select(table)).all()
            state[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
        return state


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
        before = _snapshot(app)
        url = _url(rule, ids)
        response = send(method, url)
        response.close()
        if not refused(rule, response):
            failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
        elif _snapshot(app) != before:
            failures.append(f"{method} {url} ({rule.endpoint}): refused but changed the database")
    assert not failures, "\n".join(failures)


def _to_login(rule: Rule, response: Any) -> bool:
    if rule.endpoint.startswith("api."):
        return response.status_code == 401 and response.is_json
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "/casework/login" in location


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

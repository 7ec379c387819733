"""The world the input fuzzer acts on (tests/app/test_fuzz_input.py): the accounts, a report
and its reporter, the rows every URL can name; the browsers that send the requests, kept
signed in; and the forms, read from the HTML of every page our GET routes show."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

import crypto
from crypto.armor_existing import armor
from protocol.padding import pad
from reporting.accounts import caseworkers
from reporting.infra import db
from reporting.models import Caseworker, ChannelKind, DeliveryChannel, Role
from reporting.web import errors
from tests.support import fuzzing
from tests.support.casework import Account, api_token, make_account, shared_password_hash, sign_in
from tests.support.fuzzing import Target
from tests.support.portal import codename_from, csrf_token, submit_report
from tests.support.world import World, build_world, fill_url, routes

ORGANISATION = "Org A"


@dataclass
class FuzzWorld:
    """What the requests refer to, and the live values they need."""

    world: World
    eve: Account  # half-way through enrolment
    codename: str  # opens the reporter's report
    reporter_session: dict[str, Any]
    recipient: str
    armored: str
    age_file: bytes
    token: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # actor -> CSRF token


def _enrolling(app: Flask) -> Account:
    """An invited account whose password is set and whose authenticator is not yet."""
    account = make_account(app, "eve", ORGANISATION, with_key=False)
    with app.app_context(), db.database().transaction() as session:
        eve = session.get_one(Caseworker, account.id)
        eve.totp_confirmed = False
        account.totp_secret = caseworkers.start_totp_enrolment(eve)
    return account


def make_world(app: Flask) -> FuzzWorld:
    """The route-walking world, a reporter signed in to a report whose codename we know,
    an invitation, an account half-way through enrolment, and rows that show the
    buttons a fresh world lacks (a disabled account and channel, an API token)."""
    reporter = app.test_client()
    world = build_world(app, app.test_client())
    received = submit_report(reporter, consent="full")
    assert received.status_code == 200
    with reporter.session_transaction() as session:
        reporter_session = {k: session[k] for k in ("report_id", "reply_identity")}
    dan = make_account(app, "dan", ORGANISATION)
    with app.app_context(), db.database().transaction() as session:
        organisation = session.get_one(Caseworker, world.ada.id).organisation
        world.ids["token"] = caseworkers.invite(session, organisation, "ivy")[1]  # a live link
        # Rows whose pages show the other buttons: a disabled account, a disabled channel.
        session.get_one(Caseworker, dan.id).active = False
        session.add(
            DeliveryChannel(
                organisation_id=organisation.id,
                kind=ChannelKind.EMAIL,
                target="old@ngo.example",
                enabled=False,
            )
        )
    identity = crypto.generate_identity()
    sealed = crypto.encrypt(pad(b'{"schema": "reporting/v1"}', b" "), [identity.recipient])
    return FuzzWorld(
        world,
        _enrolling(app),
        codename_from(received),
        reporter_session,
        str(crypto.generate_identity().recipient),
        armor(sealed).decode("ascii"),
        sealed,
        token=api_token(app, world.ada),  # its page shows the revoke button
    )


# --- Who sends the requests ---------------------------------------------------------------------

ACTORS = ["visitor", "reporter", "admin", "caseworker", "enrolling", "nobody"]
TOKEN_PAGES = {
    "visitor": "/return",
    "reporter": "/case",
    "admin": "/casework/account",
    "caseworker": "/casework/account",
    "enrolling": "/casework/enrol",
}


class Actors:
    """One browser per actor, kept signed in; the API's token is renewed when it ends."""

    def __init__(self, app: Flask, fw: FuzzWorld) -> None:
        self.app = app
        self.fw = fw
        self.clients = {name: app.test_client() for name in ACTORS}

    def client(self, actor: str) -> FlaskClient:
        if actor == "nobody":
            return self.app.test_client()
        client = self.clients[actor]
        if actor in ("admin", "caseworker"):
            sign_in(client, self.fw.world.ada if actor == "admin" else self.fw.world.bob)
        elif actor == "reporter":
            with client.session_transaction() as session:
                session.update(self.fw.reporter_session)
        elif actor == "enrolling":
            with self.app.app_context():
                epoch = db.session().get_one(Caseworker, self.fw.eve.id).auth_epoch
            with client.session_transaction() as session:
                session.update({"cw_enrolling": self.fw.eve.id, "cw_enrolling_epoch": epoch})
        return client

    def csrf(self, actor: str, client: FlaskClient) -> str:
        page = TOKEN_PAGES.get(actor)
        if actor not in self.fw.tokens and page is not None:
            try:
                self.fw.tokens[actor] = csrf_token(client, page)
            except AssertionError:  # the page has no form now (an enrolment finished, say)
                return "no-token"
        return self.fw.tokens.get(actor, "no-token")

    def renew(self, actor: str) -> None:
        """After a session changed: a new CSRF token; a visitor who signed in with the
        codename is a reporter now, so a new visitor takes their place."""
        self.fw.tokens.pop(actor, None)
        if actor == "visitor":
            self.clients[actor] = self.app.test_client()

    def api_token(self) -> str:
        if not self.fw.token:
            self.fw.token = api_token(self.app, self.fw.world.ada)
        return self.fw.token

    def resolver(self, actor: str, client: FlaskClient) -> Callable[[str], str]:
        fw = self.fw

        def resolve(name: str) -> str:
            if name == "csrf":
                return self.csrf(actor, client)
            if name == "totp":
                return fw.world.ada.code()
            if name == "totp-eve":
                return fw.eve.code()
            if name == "bob":
                return fw.world.bob.id
            if name == "partner":
                return fw.world.ids["partner_id"]
            return {
                "codename": fw.codename,
                "recipient": fw.recipient,
                "armored": fw.armored,
                "age": fw.age_file.decode("latin-1"),
            }[name]

        return resolve


# --- Targets, read from the URL map and our pages -----------------------------------------------


def actor_of(endpoint: str) -> str:
    if endpoint in ("casework.login", "casework.accept_invite"):
        return "visitor"
    if endpoint == "casework.enrol":
        return "enrolling"
    if endpoint.startswith(("casework.", "admin.")):
        return "admin"
    if endpoint.startswith("api."):
        return "api"
    signed_in = ("reporter.case", "reporter.followup", "reporter.logout")
    return "reporter" if endpoint in signed_in else "visitor"


def crawl(app: Flask, actors: Actors, ids: dict[str, str]) -> dict[tuple[str, str], Target]:
    """Every form on every page our GET routes show, to each actor, by its action."""
    adapter = app.url_map.bind("localhost")
    found: dict[tuple[str, str], Target] = {}
    pages = [
        fill_url(rule, ids)
        for rule, method in routes(app, ("reporter.", "casework.", "admin."))
        if method == "GET" and rule.endpoint != "casework.download"
    ]
    shown = [
        (actor, page, actors.client(actor).get(page))
        for actor in ("visitor", "reporter", "admin", "enrolling")
        for page in pages
    ]
    # The codename page answers a new report and has no GET route: crawl one.
    received = submit_report(app.test_client())
    shown.append(("visitor", "/report", received))
    # So does the error page that shows a stored report's codename (after a late failure).
    with app.test_request_context("/report", method="POST"):
        body, _code = errors.codename_error_page(errors.STORED_KIND, 500, codename_from(received))
    shown.append(("visitor", "/report", SimpleNamespace(mimetype="text/html", text=body)))  # type: ignore[arg-type]
    for actor, page, response in shown:
        if response.mimetype != "text/html":
            continue
        for form in fuzzing.forms_on(response.text):
            action = urllib.parse.urlsplit(urllib.parse.urljoin(page, form["action"])).path
            try:
                endpoint, _ = adapter.match(action, method=form["method"])
            except HTTPException:
                continue
            key = (endpoint, form["method"])
            encoding = "query" if form["method"] == "GET" else "urlencoded"
            target = found.setdefault(
                key,
                Target(endpoint, form["method"], _rule(app, endpoint), [], actor, encoding),
            )
            if form["multipart"]:
                target.encoding = "multipart"
            if action not in target.paths:
                target.paths.append(action)
            for name, spec in form["fields"].items():
                known = target.fields.setdefault(name, spec)
                known.options = sorted(set(known.options) | set(spec.options))
    return found


def _rule(app: Flask, endpoint: str) -> str:
    return next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def heal(app: Flask, account: Account) -> None:
    """Give the admin back what an accepted request may have taken (their role, their
    account, their password), so the fuzzer keeps reaching the admin's validators."""
    with app.app_context(), db.database().transaction() as session:
        admin = session.get_one(Caseworker, account.id)
        admin.active = True
        admin.role = Role.ADMIN
        admin.totp_confirmed = True
        if admin.password_hash != shared_password_hash():
            admin.password_hash = shared_password_hash()

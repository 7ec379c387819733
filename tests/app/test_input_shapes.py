"""Input in shapes our pages and client never send: a readable 4xx, and nothing stored.

Each test here is an explicit example of what tests/app/test_fuzz_input.py found (or finds
again if the mechanism goes): a file part under a text field's name (the narrative's
`.strip()` on an upload was a 500), text under a file field's name, a single field
twice, JSON posted to a form, NUL and surrogates (PostgreSQL refuses NUL in text; no
encoder takes a lone surrogate), an id past the integer column, a name that SQL's
lower() does not fold. The form sweeps read the forms from our own pages, so every
field of every form is tried, and a new one the day it appears.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import crypto
from protocol.padding import pad
from tests.support.casework import api_token, bearer, sign_in
from tests.support.fuzzing import forms_on
from tests.support.portal import NARRATIVE, Caseworker, csrf_token, submit_report
from tests.support.refusals import (
    assert_error_page,
    assert_nothing_stored,
    assert_refused,
    page_text,
)
from tests.support.world import World, build_world, fill_url, routes, snapshot

NOT_AS_SENT = "This form was not sent the way the page sends it"
BOUNDARY = "shapes-boundary-Zq81"
# Rows that refused requests may write: the audit, login attempts, ended session ids.
VOLATILE_TABLES = {"audit_entry", "login_throttle", "revoked_session"}

Parts = list[tuple[str, bytes, str | None]]  # name, value, file name (None: a text part)


def multipart(parts: Parts) -> tuple[bytes, str]:
    out = bytearray()
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={BOUNDARY}"


def post_parts(client: FlaskClient, path: str, parts: Parts) -> TestResponse:
    body, content_type = multipart(parts)
    return client.post(path, data=body, content_type=content_type)


# --- Every field of every form, in every shape a browser never sends ---------------------------


def page_forms(client: FlaskClient, page: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The POST forms on `page`, each with the path it is sent to."""
    response = client.get(page)
    if response.status_code != 200 or response.mimetype != "text/html":
        return
    for form in forms_on(response.text):
        if form["method"] == "POST":
            yield urllib.parse.urljoin(page, form["action"]), form


def as_sent(form: dict[str, Any]) -> Parts:
    """The form as its page would send it: one plausible value per field."""
    parts: Parts = []
    for name, spec in form["fields"].items():
        if spec.kind in ("file", "files"):
            parts.append((name, b"evidence", "evidence.jpg"))
        elif spec.kind in ("hidden", "submit"):
            parts.append((name, spec.value.encode(), None))
        elif spec.kind in ("choice", "multi"):
            parts.append((name, (spec.options or [""])[-1].encode(), None))
        else:
            parts.append((name, NARRATIVE.encode(), None))
    return parts


def misshapen(form: dict[str, Any]) -> Iterator[tuple[str, Parts]]:
    """The form with one field in a shape its page never sends, for each field."""
    parts = as_sent(form)
    for i, (name, value, filename) in enumerate(parts):
        spec = form["fields"][name]
        others = parts[:i] + parts[i + 1 :]
        if filename is None:
            yield f"{name} as a file", [*others, (name, value, "note.txt")]
        else:
            yield f"{name} as text", [*others, (name, b"evidence", None)]
        if spec.kind not in ("multi", "files"):
            yield f"{name} twice", [*parts, parts[i]]


def sweep(client: FlaskClient, pages: list[str]) -> list[str]:
    """Send every misshapen form on `pages`; the refusals that were not ours."""
    failures, tried = [], set()
    for page in pages:
        for action, form in page_forms(client, page):
            if action in tried:
                continue
            tried.add(action)
            for label, parts in misshapen(form):
                response = post_parts(client, action, parts)
                text = page_text(response)
                # The CSRF field sent wrongly fails the CSRF check first: also ours, also 400.
                ours = NOT_AS_SENT in text or "csrf_token" in label
                if response.status_code != 400 or not ours or '<main id="main"' not in text:
                    failures.append(f"{action} {label}: {response.status_code}")
    assert tried, "no forms found"
    return failures


@pytest.mark.slow
def test_reporter_forms_refuse_every_field_in_another_shape(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    failures = sweep(client, ["/report", "/return"])
    assert submit_report(client).status_code == 200  # signed in: the case page's forms
    before = snapshot(app, VOLATILE_TABLES)
    failures += sweep(client, ["/case"])
    assert not failures, "\n".join(failures)
    assert snapshot(app, VOLATILE_TABLES) == before


@pytest.mark.slow
def test_caseworker_and_admin_forms_refuse_every_field_in_another_shape(app: Flask) -> None:
    world = build_world(app, app.test_client())
    visitor = app.test_client()
    failures = sweep(
        visitor, ["/casework/login", fill_url_of(app, "casework.accept_invite", world)]
    )
    admin = app.test_client()
    sign_in(admin, world.ada)
    pages = [
        fill_url(rule, world.ids)
        for rule, method in routes(app, ("casework.", "admin."))
        if method == "GET" and not rule.endpoint.endswith("download")
    ]
    for page in pages:  # viewing a report marks it read: done before the snapshot
        admin.get(page)
    before = snapshot(app, VOLATILE_TABLES)
    failures += sweep(admin, pages)
    assert not failures, "\n".join(failures)
    assert snapshot(app, VOLATILE_TABLES) == before


def fill_url_of(app: Flask, endpoint: str, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return fill_url(rule, world.ids)


def test_the_narrative_sent_as_a_file_is_a_readable_400(app: Flask, caseworker: Caseworker) -> None:
    """The 500 of issue 11: NarrativeLength called .strip() on a FileStorage."""
    client = app.test_client()
    token = csrf_token(client, "/report")
    response = post_parts(
        client,
        "/report",
        [
            ("csrf_token", token.encode(), None),
            ("narrative", NARRATIVE.encode(), "narrative.txt"),
            ("consent", b"none", None),
            ("reply_language", b"en", None),
        ],
    )
    assert_error_page(response, 400, NOT_AS_SENT, "Nothing was stored")
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    "body",
    [pytest.param(b"[1, 2]", id="list"), pytest.param(b'{"codename": 5}', id="number")],
)
def test_json_posted_to_a_form_is_refused(app: Flask, caseworker: Caseworker, body: bytes) -> None:
    """Flask-WTF reads a JSON body as form data when the CSRF token is in a header."""
    client = app.test_client()
    token = csrf_token(client, "/return")
    response = client.post(
        "/return", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert_error_page(response, 400, NOT_AS_SENT)
    assert_nothing_stored(app)


@pytest.mark.slow
@pytest.mark.parametrize("value", ["ada\x00", "\ufffdada"], ids=["nul", "undecodable"])
def test_login_with_unstorable_text_is_refused_on_the_field(app: Flask, value: str) -> None:
    """PostgreSQL refuses NUL in text: the lookup of such a name was a 500."""
    world = build_world(app, app.test_client())
    client = app.test_client()
    data = {
        "csrf_token": csrf_token(client, "/casework/login"),
        "username": value,
        "password": world.ada.password,
        "code": world.ada.code(),
    }
    before = snapshot(app, VOLATILE_TABLES)
    response = client.post("/casework/login", data=data)
    assert response.status_code == 400
    assert '<main id="main"' in response.text
    assert "Some of this text could not be read" in page_text(response)
    assert snapshot(app, VOLATILE_TABLES) == before


# --- URLs --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_unreadable_or_oversized_url_parts(app: Flask) -> None:
    world = build_world(app, app.test_client())
    client = app.test_client()
    sign_in(client, world.ada)
    token = {"csrf_token": csrf_token(client, "/casework/account")}
    before = snapshot(app, VOLATILE_TABLES)
    # An id past PostgreSQL's integer: an overflow (SQLite) or out of range (PostgreSQL).
    assert_error_page(client.post("/admin/keys/99999999999999999999/remove", data=token), 404)
    # NUL in a path or a query: PostgreSQL refuses it in text.
    assert_error_page(client.post("/admin/caseworkers/a%00b/disable", data=token), 404)
    assert_error_page(client.get("/casework/?tag=%00"), 400)
    assert snapshot(app, VOLATILE_TABLES) == before


# --- The API -----------------------------------------------------------------------------------


def assert_json_error(response: TestResponse, status: int, *phrases: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.is_json
    body: dict[str, Any] = response.get_json()
    for phrase in phrases:
        assert phrase in body["message"]
    return body


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        pytest.param(
            b'{"username": "\\ud800", "password": "x", "code": "1"}',
            "cannot store",
            id="lone-surrogate",
        ),
        pytest.param(
            b'{"username": "ada\\u0000", "password": "x", "code": "1"}', "cannot store", id="nul"
        ),
        pytest.param(
            b'{"username": "ada", "username": "bob", "password": "x", "code": "1"}',
            "given twice",
            id="duplicate-key",
        ),
        pytest.param(
            b'{"username": NaN, "password": "x", "code": "1"}', "not valid JSON", id="nan"
        ),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON", id="deep"),
        pytest.param(b'{"username": "\xff"}', "not valid JSON", id="invalid-utf8"),
    ],
)
def test_api_refuses_json_it_cannot_read_or_store(app: Flask, body: bytes, phrase: str) -> None:
    client = app.test_client()
    before = snapshot(app, VOLATILE_TABLES)
    response = client.post("/api/v1/login", data=body, content_type="application/json")
    assert_json_error(response, 400, phrase)
    assert snapshot(app, VOLATILE_TABLES) == before


@pytest.mark.slow
def test_api_refuses_unstorable_text_deep_in_a_body(app: Flask) -> None:
    world = build_world(app, app.test_client())
    token = api_token(app, world.ada)
    client = app.test_client()
    before = snapshot(app, VOLATILE_TABLES)
    response = client.patch(
        f"/api/v1/reports/{world.ids['report_id']}",
        data=b'{"tags": ["family", "a\\u0000"]}',
        content_type="application/json",
        headers=bearer(token),
    )
    assert assert_json_error(response, 400, "cannot store")["fields"] == ["tags"]
    response = client.get("/api/v1/reports?tag=%00", headers=bearer(token))
    assert_json_error(response, 400)
    assert snapshot(app, VOLATILE_TABLES) == before


def _escalation(world: World, document: bytes) -> dict[str, Parts]:
    partner = world.ids["partner_id"].encode()
    good = [("partner", partner, None), ("document", document, "package.age")]
    return {
        "document-as-text": [("partner", partner, None), ("document", document, None)],
        "partner-as-file": [("partner", partner, "partner.txt"), good[1]],
        "partner-twice": [*good, ("partner", partner, None)],
        "document-twice": [*good, good[1]],
        "attachment-as-text": [*good, ("attachment", document, None)],
    }


def test_escalation_parts_in_another_shape_are_refused(app: Flask) -> None:
    world = build_world(app, app.test_client())
    token = api_token(app, world.ada)
    document = crypto.encrypt(pad(b"{}", b" "), [crypto.generate_identity().recipient])
    path = f"/api/v1/reports/{world.ids['report_id']}/escalations"
    client = app.test_client()
    before = snapshot(app, VOLATILE_TABLES)
    for label, parts in _escalation(world, document).items():
        body, content_type = multipart(parts)
        response = client.post(path, data=body, content_type=content_type, headers=bearer(token))
        assert response.status_code == 400, (label, response.text)
        assert response.is_json and "Nothing was stored" in response.get_json()["message"], label
    # A partner id past the integer column is no partner (it was an overflow: a 500).
    parts = [("partner", b"99999999999999999999", None), ("document", document, "p.age")]
    body, content_type = multipart(parts)
    response = client.post(path, data=body, content_type=content_type, headers=bearer(token))
    assert_json_error(response, 404)
    assert snapshot(app, VOLATILE_TABLES) == before
    assert app.extensions["blobs"].temporary_files() == []


# --- Names that SQL's lower() does not fold ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "field", "first", "second"),
    [
        pytest.param("/admin/tags", "new-name", "Élan", "élan", id="tag-other-case"),
        pytest.param("/admin/tags", "new-name", "Ünïcode", "Ünïcode", id="tag-same"),
        pytest.param("/admin/partners/new", "name", "Ünïcode aid", "Ünïcode aid", id="partner"),
    ],
)
def test_a_second_name_differing_only_in_non_ascii_case_is_refused(
    app: Flask, page: str, field: str, first: str, second: str
) -> None:
    """SQL lower() folds ASCII only: the clash check let the second through to the unique
    index (a 500)."""
    world = build_world(app, app.test_client())
    client = app.test_client()
    sign_in(client, world.ada)
    token = csrf_token(client, page)
    data: dict[str, str] = {"csrf_token": token, field: first}
    if "partners" in page:
        data["recipients"] = str(crypto.generate_identity().recipient)
    assert client.post(page, data=data).status_code == 302
    before = snapshot(app, VOLATILE_TABLES)
    response = client.post(page, data={**data, field: second})
    assert_refused(response, 400)
    assert "There is already" in page_text(response)
    assert snapshot(app, VOLATILE_TABLES) == before


def test_json_error_bodies_never_echo_unstorable_names(app: Flask) -> None:
    """An error that names a field never puts a lone surrogate into the response."""
    response = app.test_client().post(
        "/api/v1/login",
        data=b'{"\\ud800": 1, "\\ud800": 2}',
        content_type="application/json",
    )
    body = assert_json_error(response, 400, "given twice")
    assert json.dumps(body).encode("utf-8")

"""Replies, notes and the status note through the API: ciphertext made as the client makes
it, stored as given, read by the reporter (replies, the status note) or by no reporter
(notes); anything that is not a whole age file is refused and leaves nothing behind."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from crypto.armor_existing import armor
from crypto.inspect import binary_age_file, check_age_file
from protocol import encode, note_document, reply_document, status_note_document
from protocol.padding import is_padded, pad
from reporting.infra import db
from reporting.models import Blob, ChannelKind, Delivery, DeliveryChannel, Report
from tests.support.api import (
    assert_json_error,
    audit_actions,
    call,
    reporter_page,
    shown_messages,
    snapshot,
)
from tests.support.casework import Account, api_app, api_token, make_account
from tests.support.portal import codename_from, submit_report


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return api_app(tmp_path, database_url)


@dataclass
class Case:
    """A report filed through the portal, and the caseworkers who answer it."""

    alice: Account
    bob: Account
    token: str
    report_id: str
    codename: str


@pytest.fixture
def case(app: Flask) -> Case:
    alice = make_account(app, "alice")
    bob = make_account(app, "bob")
    page = submit_report(app.test_client(), consent="full")
    assert page.status_code == 200, page.text[:300]
    with app.app_context():
        report_id = db.session().scalars(select(Report.id)).one()
    return Case(alice, bob, api_token(app, alice), report_id, codename_from(page))


BUILDERS = {"reply": reply_document, "note": note_document, "status_note": status_note_document}


def document(kind: str, text: str) -> bytes:
    """The document as the caseworker client writes it (protocol's builder for `kind`)."""
    return encode(BUILDERS[kind](text))


def client_ciphertext(
    client: FlaskClient, case: Case, kind: str, text: str, to_reporter: bool = True
) -> str:
    """Encrypt as the caseworker client does: to the organisation's recipients (from the
    API), and for replies and status notes to the reporter's key too; armored."""
    organisation = call(client, "GET", "/organisation", case.token).get_json()
    recipients = [crypto.parse_recipient(r) for r in organisation["recipients"]]
    if to_reporter:
        report = call(client, "GET", f"/reports/{case.report_id}", case.token).get_json()
        recipients.append(crypto.parse_recipient(report["reporter_recipient"]))
    return crypto.encrypt(pad(document(kind, text), b" "), recipients, armor=True).decode("ascii")


@pytest.mark.slow
def test_a_reply_from_the_client_reaches_the_reporter(
    app: Flask, client: FlaskClient, case: Case
) -> None:
    with app.app_context(), db.database().transaction() as dbs:  # the NGO's own inbox channel
        dbs.add(
            DeliveryChannel(
                organisation_id=case.alice.organisation_id,
                kind=ChannelKind.EMAIL,
                target="inbox@ngo.example",
            )
        )
    text = "We have read your report. 我们会联系你。"
    ciphertext = client_ciphertext(client, case, "reply", text)
    response = call(
        client,
        "POST",
        f"/reports/{case.report_id}/replies",
        case.token,
        json={"ciphertext": ciphertext},
    )
    assert response.status_code == 201, response.text
    message = response.get_json()["message"]
    assert (message["kind"], message["seq"], message["author"]) == ("reply", 1, case.alice.id)
    assert message["partner"] is None and message["attachments"] == []

    # Stored byte for byte as the client made it (the binary form of the armored text).
    stored = app.extensions["blobs"].path(message["document"]["blob"]).read_bytes()
    assert stored == binary_age_file(ciphertext)
    assert message["document"]["size"] == len(stored)
    for caseworker in (case.alice, case.bob):  # the organisation's keys read it too
        assert json.loads(crypto.decrypt(stored, [caseworker.identity]))["text"] == text

    page = reporter_page(app, case.codename)
    assert text in page
    assert shown_messages(page) == ["report", "reply"]

    # Nothing is delivered for a reply; it is audited; bob has something new, alice not.
    with app.app_context():
        assert db.session().scalars(select(Delivery)).all() == []
    assert ("reply", case.alice.id, f"message={message['id']}") in audit_actions(app)
    assert call(client, "GET", "/reports", case.token).get_json()["reports"][0]["unread"] is False
    bobs = call(client, "GET", "/reports", api_token(app, case.bob)).get_json()
    assert bobs["reports"][0]["unread"] is True


@pytest.mark.slow
def test_a_note_is_for_caseworkers_only(app: Flask, client: FlaskClient, case: Case) -> None:
    text = "Internal: possibly the same station as case 12."
    ciphertext = client_ciphertext(client, case, "note", text, to_reporter=False)
    response = call(
        client,
        "POST",
        f"/reports/{case.report_id}/notes",
        case.token,
        json={"ciphertext": ciphertext},
    )
    assert response.status_code == 201, response.text
    message = response.get_json()["message"]
    assert message["kind"] == "note" and message["author"] == case.alice.id
    detail = call(client, "GET", f"/reports/{case.report_id}", case.token).get_json()
    assert [m["kind"] for m in detail["messages"]] == ["report", "note"]

    page = reporter_page(app, case.codename)
    assert shown_messages(page) == ["report"]  # not shown, not counted
    assert "note" not in page.lower().replace("notice", "")
    assert ("note", case.alice.id, f"message={message['id']}") in audit_actions(app)


@pytest.mark.slow
def test_the_status_note_is_set_replaced_and_removed(
    app: Flask, client: FlaskClient, case: Case
) -> None:
    store = app.extensions["blobs"]
    path = f"/reports/{case.report_id}/status-note"
    first = call(
        client,
        "PUT",
        path,
        case.token,
        json={"ciphertext": client_ciphertext(client, case, "status_note", "We are on it.")},
    )
    assert first.status_code == 200, first.text
    first_blob = first.get_json()["status_note"]["blob"]
    assert "We are on it." in reporter_page(app, case.codename)

    second = call(
        client,
        "PUT",
        path,
        case.token,
        json={"ciphertext": client_ciphertext(client, case, "status_note", "A lawyer will call.")},
    )
    second_blob = second.get_json()["status_note"]["blob"]
    assert second_blob != first_blob and not store.path(first_blob).exists()
    page = reporter_page(app, case.codename)
    assert "A lawyer will call." in page and "We are on it." not in page
    detail = call(client, "GET", f"/reports/{case.report_id}", case.token).get_json()
    assert detail["status_note"]["blob"] == second_blob
    download = call(client, "GET", f"/reports/{case.report_id}/blobs/{second_blob}", case.token)
    assert download.status_code == 200 and download.data == store.path(second_blob).read_bytes()
    download.close()

    removed = call(client, "DELETE", path, case.token)
    assert removed.status_code == 200 and removed.get_json() == {"status_note": None}
    assert not store.path(second_blob).exists()
    with app.app_context():
        assert db.session().get(Blob, second_blob) is None
        assert db.session().get_one(Report, case.report_id).status_note_blob_id is None
    assert "A lawyer will call." not in reporter_page(app, case.codename)
    notes = [d for a, _, d in audit_actions(app) if d.startswith("status_note")]
    assert notes == ["status_note=set", "status_note=set", "status_note=removed"]


def _truncated_armor(client: FlaskClient, case: Case) -> str:
    armored = client_ciphertext(client, case, "reply", "x" * 3000)
    return "\n".join(armored.splitlines()[:-3]) + "\n"


def _cut_payload(client: FlaskClient, case: Case) -> str:
    armored = client_ciphertext(client, case, "reply", "cut short")
    binary = binary_age_file(armored)
    # Cut inside the first chunk's tag: a length no whole age file has.
    return armor(binary[: check_age_file(binary).header_size + 16 + 10]).decode("ascii")


def _passphrase(client: FlaskClient, case: Case) -> str:
    recipient = crypto.ScryptRecipient("a passphrase", work_factor=10)
    return crypto.encrypt(b"{}", [recipient], armor=True).decode("ascii")


BAD_CIPHERTEXT = {
    "plaintext": lambda client, case: "Dear reporter, we have read your report.",
    "truncated armor": _truncated_armor,
    "cut-off payload": _cut_payload,
    "passphrase": _passphrase,
    "empty": lambda client, case: "",
}
MESSAGE_ENDPOINTS = [("POST", "replies"), ("POST", "notes"), ("PUT", "status-note")]


@pytest.mark.parametrize("bad", list(BAD_CIPHERTEXT))
def test_what_is_not_a_whole_age_file_is_refused_and_nothing_stored(
    app: Flask, client: FlaskClient, case: Case, bad: str
) -> None:
    value = BAD_CIPHERTEXT[bad](client, case)
    before = snapshot(app)
    for method, name in MESSAGE_ENDPOINTS:
        response = call(
            client,
            method,
            f"/reports/{case.report_id}/{name}",
            case.token,
            json={"ciphertext": value},
        )
        body = assert_json_error(response, 400, "bad_ciphertext")
        assert "Nothing was stored" in body["message"]
    assert snapshot(app) == before


def unpadded(client: FlaskClient, case: Case, text: str) -> str:
    """What a client that skips the padding sends: a reply at its own size."""
    organisation = call(client, "GET", "/organisation", case.token).get_json()
    recipients = [crypto.parse_recipient(r) for r in organisation["recipients"]]
    return crypto.encrypt(document("reply", text), recipients, armor=True).decode("ascii")


@pytest.mark.parametrize("length", [10, 5_000, 20_000])
def test_ciphertext_whose_plaintext_is_not_padded_is_refused(
    app: Flask, client: FlaskClient, case: Case, length: int
) -> None:
    value = unpadded(client, case, "x" * length)
    before = snapshot(app)
    for method, name in MESSAGE_ENDPOINTS:
        response = call(
            client,
            method,
            f"/reports/{case.report_id}/{name}",
            case.token,
            json={"ciphertext": value},
        )
        body = assert_json_error(response, 400, "bad_ciphertext")
        assert "not padded" in body["message"] and "Nothing was stored" in body["message"]
    assert snapshot(app) == before


def test_every_stored_client_message_is_at_a_padded_size(
    app: Flask, client: FlaskClient, case: Case
) -> None:
    for method, name, kind in [
        ("POST", "replies", "reply"),
        ("POST", "notes", "note"),
        ("PUT", "status-note", "status_note"),
    ]:
        value = client_ciphertext(client, case, kind, "We read it. " * 700)
        response = call(
            client,
            method,
            f"/reports/{case.report_id}/{name}",
            case.token,
            json={"ciphertext": value},
        )
        assert response.status_code in (200, 201), response.text
    store = app.extensions["blobs"]
    sizes = [check_age_file(store.path(i).read_bytes()).plaintext_size for i in store.ids()]
    assert sizes and all(is_padded(size) for size in sizes)


@pytest.mark.parametrize(
    ("send", "status", "code"),
    [
        (
            {"data": "ciphertext=x", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"data": "-----BEGIN AGE", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"json": ["ciphertext"]}, 400, "bad_request"),
        ({"json": {}}, 400, "bad_request"),
        ({"json": {"ciphertext": 42}}, 400, "bad_request"),
        ({"json": {"ciphertext": "-" * (1024 * 1024 + 1)}}, 413, "too_large"),
    ],
    ids=["form", "text", "bad json", "array", "missing", "number", "too large"],
)
def test_bodies_that_are_not_a_ciphertext_object_are_refused(
    app: Flask, client: FlaskClient, case: Case, send: dict[str, Any], status: int, code: str
) -> None:
    before = snapshot(app)
    for method, name in MESSAGE_ENDPOINTS:
        response = call(client, method, f"/reports/{case.report_id}/{name}", case.token, **send)
        assert_json_error(response, status, code)
    assert snapshot(app) == before


def test_a_message_just_under_the_limit_is_accepted(
    app: Flask, client: FlaskClient, case: Case
) -> None:
    limit = app.config["SETTINGS"].limits.max_message_bytes
    text = "x" * (limit // 2)
    ciphertext = client_ciphertext(client, case, "note", text, to_reporter=False)
    assert len(ciphertext) < limit
    response = call(
        client,
        "POST",
        f"/reports/{case.report_id}/notes",
        case.token,
        json={"ciphertext": ciphertext},
    )
    assert response.status_code == 201

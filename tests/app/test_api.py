"""The caseworker API (docs/caseworker-api.md): log in and out, who am I, keys, the
organisation, reports, downloads and triage; every refusal is JSON and changes nothing."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

import crypto
from reporting.infra import db
from reporting.models import (
    ApiToken,
    Caseworker,
    ChannelKind,
    Consent,
    DeliveryChannel,
    Message,
    OrganisationRecipient,
    Partner,
    Report,
    Role,
    TriageTag,
)
from tests.support.api import (
    API,
    World,
    assert_json_error,
    audit_actions,
    call,
    count,
    file_report,
    make_world,
    snapshot,
)
from tests.support.casework import Account, api_app, api_token, make_account, sign_in


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return api_app(tmp_path, database_url)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


# Logging in and out.


def login(client: FlaskClient, account: Account, code: str | None = None, **kw: str) -> Any:
    body = {"username": account.username, "password": account.password, "code": code}
    body["code"] = code or account.code()
    body.update(kw)
    return client.post(f"{API}/login", json=body)


def test_login_issues_a_token_that_opens_the_api(app: Flask, client: FlaskClient) -> None:
    alice = make_account(app, "alice")
    response = login(client, alice)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["token"].startswith("rcw_") and body["expires_at"].endswith("Z")
    assert body["caseworker"]["username"] == "alice"
    me = call(client, "GET", "/me", body["token"])
    assert me.status_code == 200 and me.get_json()["id"] == alice.id
    actions = [a for a, actor, _ in audit_actions(app) if actor == alice.id]
    assert actions == ["login", "token_issued"]
    with app.app_context():
        stored = db.session().scalars(select(ApiToken.token_hash)).all()
    assert body["token"] not in str(stored)  # only its digest is kept


@pytest.mark.slow
def test_a_refused_login_says_the_same_whether_or_not_the_account_exists(
    app: Flask, client: FlaskClient
) -> None:
    alice = make_account(app, "alice")
    wrong = assert_json_error(
        login(client, alice, password="not the password"), 401, "login_failed"
    )
    nobody = assert_json_error(
        client.post(f"{API}/login", json={"username": "nobody", "password": "x" * 12, "code": "1"}),
        401,
        "login_failed",
    )
    assert wrong["message"] == nobody["message"]
    code = alice.code()
    assert login(client, alice, code).status_code == 200
    assert_json_error(login(client, alice, code), 401, "login_failed")  # a code counts once
    failed = [
        (actor, detail) for action, actor, detail in audit_actions(app) if action == "login_failed"
    ]
    assert failed == [(alice.id, "api"), (None, "api"), (alice.id, "api")]
    assert count(app, ApiToken) == 1


@pytest.mark.slow
def test_too_many_failures_lock_the_name(app: Flask, client: FlaskClient) -> None:
    alice = make_account(app, "alice")
    for _ in range(app.config["SETTINGS"].limits.login_failures):
        assert_json_error(login(client, alice, password="wrong wrong wrong"), 401, "login_failed")
    assert_json_error(login(client, alice), 429, "locked")
    assert count(app, ApiToken) == 0


@pytest.mark.slow
def test_a_disabled_account_cannot_log_in_and_its_tokens_stop(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert call(client, "GET", "/me", world.token).status_code == 200
    with app.app_context(), db.database().transaction() as dbs:
        dbs.get_one(Caseworker, world.alice.id).active = False
    assert_json_error(call(client, "GET", "/me", world.token), 401, "unauthorized")
    assert_json_error(login(client, world.alice), 401, "login_failed")


@pytest.mark.parametrize(
    "body",
    [{"username": "alice"}, {"username": "alice", "password": 5, "code": "1"}, ["alice"]],
    ids=["missing", "wrong type", "not an object"],
)
def test_a_malformed_login_is_a_bad_request(client: FlaskClient, body: Any) -> None:
    assert_json_error(client.post(f"{API}/login", json=body), 400, "bad_request")


@pytest.mark.slow
def test_logout_revokes_the_token_used(app: Flask, client: FlaskClient, world: World) -> None:
    other = api_token(app, world.alice)
    response = call(client, "POST", "/logout", world.token)
    assert response.status_code == 200
    assert_json_error(call(client, "GET", "/me", world.token), 401, "unauthorized")
    assert call(client, "GET", "/me", other).status_code == 200  # only this token ends
    assert ("logout", world.alice.id, "api") in audit_actions(app)


# Who am I, my key, my organisation.


@pytest.mark.slow
def test_me(client: FlaskClient, world: World) -> None:
    body = call(client, "GET", "/me", world.token).get_json()
    assert body == {
        "id": world.alice.id,
        "username": "alice",
        "display_name": "",
        "role": "caseworker",
        "organisation": {"id": world.alice.organisation_id, "name": "Test organisation"},
        "recipient": str(world.alice.identity.recipient),
    }


@pytest.mark.slow
def test_registering_a_key_replaces_the_old_one_for_new_reports(
    app: Flask, client: FlaskClient, world: World
) -> None:
    new = crypto.generate_identity()
    response = call(
        client, "PUT", "/me/recipient", world.token, json={"recipient": f" {new.recipient}\n"}
    )
    assert response.status_code == 200, response.text
    assert response.get_json()["recipient"] == str(new.recipient)
    with app.app_context():
        mine = db.session().scalars(
            select(OrganisationRecipient.recipient).where(
                OrganisationRecipient.caseworker_id == world.alice.id
            )
        )
        assert list(mine) == [str(new.recipient)]
    assert ("key_change", world.alice.id, "recipient=set") in audit_actions(app)
    organisation = call(client, "GET", "/organisation", world.token).get_json()
    assert str(new.recipient) in organisation["recipients"]
    assert str(world.alice.identity.recipient) not in organisation["recipients"]
    # A report filed now opens with the new key, not the old one.
    receipt = file_report(app, "Test organisation")
    with app.app_context():
        blob_id = (
            db.session()
            .scalars(select(Message.document_blob_id).where(Message.report_id == receipt.report_id))
            .one()
        )
    ciphertext = app.extensions["blobs"].path(blob_id).read_bytes()
    assert b"They called my mother" in crypto.decrypt(ciphertext, [new])
    with pytest.raises(crypto.NoIdentityMatchError):
        crypto.decrypt(ciphertext, [world.alice.identity])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make_value", "status", "code", "words"),
    [
        (lambda: str(crypto.generate_identity()), 400, "bad_request", "public key"),
        (lambda: str(crypto.generate_identity()).lower(), 400, "bad_request", "public key"),
        (lambda: "age1notakey", 400, "bad_request", "age public key"),
        (
            lambda: str(crypto.generate_identity(post_quantum=False).recipient),
            409,
            "conflict",
            "kind",
        ),
    ],
    ids=["secret key", "secret key lower case", "garbage", "classic key in a post-quantum org"],
)
def test_a_key_that_cannot_be_used_is_refused(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_value: Any,
    status: int,
    code: str,
    words: str,
) -> None:
    before = snapshot(app)
    value = make_value()
    response = call(client, "PUT", "/me/recipient", world.token, json={"recipient": value})
    body = assert_json_error(response, status, code)
    assert words in body["message"]
    assert value not in body["message"]
    assert snapshot(app) == before


@pytest.mark.slow
def test_a_colleagues_key_is_refused(app: Flask, client: FlaskClient, world: World) -> None:
    before = snapshot(app)
    response = call(
        client,
        "PUT",
        "/me/recipient",
        world.token,
        json={"recipient": str(world.bob.identity.recipient)},
    )
    assert_json_error(response, 409, "conflict")
    assert snapshot(app) == before


@pytest.mark.slow
def test_the_organisation_lists_keys_tags_colleagues_and_partners(
    app: Flask, client: FlaskClient, world: World
) -> None:
    partner_key = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as dbs:
        ours, theirs = world.alice.organisation_id, world.mallory.organisation_id
        dbs.add_all(
            [
                TriageTag(organisation_id=ours, name="police station"),
                TriageTag(organisation_id=theirs, name="secret"),
            ]
        )
        reachable = Partner(
            organisation_id=ours, name="Legal aid", recipients=f"{partner_key.recipient}\n"
        )
        silent = Partner(organisation_id=ours, name="Press", recipients="")
        elsewhere = Partner(organisation_id=theirs, name="Their partner", recipients="")
        dbs.add_all([reachable, silent, elsewhere])
        dbs.flush()
        dbs.add(
            DeliveryChannel(
                organisation_id=ours,
                kind=ChannelKind.EMAIL,
                target="a@legal.example",
                partner_id=reachable.id,
            )
        )
        dbs.add(
            DeliveryChannel(
                organisation_id=ours,
                kind=ChannelKind.EMAIL,
                target="p@press.example",
                partner_id=silent.id,
                enabled=False,
            )
        )
        reachable_id, silent_id = reachable.id, silent.id
    body = call(client, "GET", "/organisation", world.token).get_json()
    assert body["id"] == world.alice.organisation_id and body["name"] == "Test organisation"
    assert sorted(body["recipients"]) == sorted(
        [str(world.alice.identity.recipient), str(world.bob.identity.recipient)]
    )
    assert body["tags"] == ["police station"]
    assert [c["username"] for c in body["caseworkers"]] == ["alice", "bob"]
    assert body["partners"] == [
        {
            "id": reachable_id,
            "name": "Legal aid",
            "recipients": [str(partner_key.recipient)],
            "deliverable": True,
        },
        {"id": silent_id, "name": "Press", "recipients": [], "deliverable": False},
    ]


# Reports.


@pytest.mark.slow
def test_the_list_shows_only_the_organisations_reports(client: FlaskClient, world: World) -> None:
    body = call(client, "GET", "/reports", world.token).get_json()
    assert [r["id"] for r in body["reports"]] == [world.report.report_id]
    [row] = body["reports"]
    assert row["status"] == "new" and row["unread"] is True and row["consent"] == "none"
    assert row["received_on"] == time.strftime("%Y-%m-%d", time.gmtime())
    assert row["delivery"] == "none" and row["messages"] == 1
    assert body["counts"]["total"] == 1 and body["counts"]["unread"] == 1
    assert body["counts"]["status"]["new"] == 1
    mallory = call(
        client, "GET", "/reports", api_token(client.application, world.mallory)
    ).get_json()
    assert [r["id"] for r in mallory["reports"]] == [world.other_report.report_id]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=new", 1),
        ("status=closed", 0),
        ("unread=1", 1),
        ("assignee=none", 1),
        ("severity=high", 0),
        ("tag=nothing", 0),
    ],
)
def test_filters(client: FlaskClient, world: World, query: str, expected: int) -> None:
    body = call(client, "GET", f"/reports?{query}", world.token).get_json()
    assert len(body["reports"]) == expected
    assert body["counts"]["total"] == 1  # counts are the organisation's, whatever the filter


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "field"), [("status=open", "status"), ("severity=urgent", "severity")]
)
def test_an_invalid_filter_names_its_field(
    client: FlaskClient, world: World, query: str, field: str
) -> None:
    body = assert_json_error(call(client, "GET", f"/reports?{query}", world.token), 422, "invalid")
    assert body["fields"] == [field]


@pytest.mark.slow
def test_fetching_a_report_marks_it_read_for_this_caseworker_only(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = call(client, "GET", f"/reports/{world.report.report_id}", world.token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == world.report.report_id and body["unread"] is False
    assert body["reporter_recipient"].startswith("age1pq1") and body["status_note"] is None
    [message] = body["messages"]
    assert message["kind"] == "report" and message["seq"] == 0 and message["author"] is None
    assert message["document"]["size"] > 0 and len(message["attachments"]) == 1
    assert ("view", world.alice.id, "") in audit_actions(app)
    listed = call(client, "GET", "/reports", world.token).get_json()["reports"][0]
    assert listed["unread"] is False
    bobs = call(client, "GET", "/reports", api_token(app, world.bob)).get_json()["reports"][0]
    assert bobs["unread"] is True


@pytest.mark.slow
def test_a_blob_downloads_as_the_stored_age_file_and_is_audited(
    app: Flask, client: FlaskClient, world: World
) -> None:
    detail = call(client, "GET", f"/reports/{world.report.report_id}", world.token).get_json()
    blobs = [
        detail["messages"][0]["document"]["blob"],
        detail["messages"][0]["attachments"][0]["blob"],
    ]
    store = app.extensions["blobs"]
    for blob_id in blobs:
        response = call(
            client, "GET", f"/reports/{world.report.report_id}/blobs/{blob_id}", world.token
        )
        assert response.status_code == 200
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.data == store.path(blob_id).read_bytes()
        assert crypto.decrypt(response.data, [world.alice.identity])
        response.close()
    downloads = [
        d for a, actor, d in audit_actions(app) if a == "download" and actor == world.alice.id
    ]
    assert downloads == [f"blob={b}" for b in blobs]


@pytest.mark.slow
def test_triage_fields_are_set_and_audited(app: Flask, client: FlaskClient, world: World) -> None:
    with app.app_context(), db.database().transaction() as dbs:
        dbs.add(TriageTag(organisation_id=world.alice.organisation_id, name="family"))
    change = {
        "status": "in_progress",
        "severity": "high",
        "assignee": world.bob.id,
        "tags": ["family"],
    }
    response = call(client, "PATCH", f"/reports/{world.report.report_id}", world.token, json=change)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert (body["status"], body["severity"], body["assignee"], body["tags"]) == (
        "in_progress",
        "high",
        world.bob.id,
        ["family"],
    )
    details = [d for a, _, d in audit_actions(app) if a in ("status_change", "triage_change")]
    assert details == [
        "status=in_progress",
        "severity=high",
        f"assignee={world.bob.id}",
        "tags=family",
    ]
    cleared = call(
        client,
        "PATCH",
        f"/reports/{world.report.report_id}",
        world.token,
        json={"severity": None, "assignee": None, "tags": []},
    )
    assert cleared.status_code == 200
    assert (
        cleared.get_json()["severity"],
        cleared.get_json()["assignee"],
        cleared.get_json()["tags"],
    ) == (None, None, [])
    listed = call(client, "GET", "/reports?status=in_progress", world.token).get_json()
    assert [r["id"] for r in listed["reports"]] == [world.report.report_id]


def test_the_history_lists_who_did_what_to_this_report_only(
    app: Flask, client: FlaskClient, world: World
) -> None:
    report_id = world.report.report_id
    assert call(client, "GET", f"/reports/{report_id}", world.token).status_code == 200
    change = {"status": "in_progress", "assignee": world.bob.id}
    assert (
        call(client, "PATCH", f"/reports/{report_id}", world.token, json=change).status_code == 200
    )
    mallory = api_token(app, world.mallory)
    other = world.other_report.report_id
    assert (
        call(client, "PATCH", f"/reports/{other}", mallory, json={"status": "closed"}).status_code
        == 200
    )

    response = call(client, "GET", f"/reports/{report_id}/history", world.token)
    assert response.status_code == 200, response.text
    history = response.get_json()["history"]
    assert [(e["actor"], e["action"], e["detail"]) for e in history] == [
        (world.alice.id, "view", ""),
        (world.alice.id, "status_change", "status=in_progress"),
        (world.alice.id, "triage_change", f"assignee={world.bob.id}"),
    ]
    # To the hour, as the log keeps it.
    assert all(e["at"].endswith(":00") and len(e["at"]) == 16 for e in history)
    # Fetching the history is not itself an action on the report.
    again = call(client, "GET", f"/reports/{report_id}/history", world.token).get_json()
    assert again == {"history": history}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "open"}, "status"),
        ({"status": None}, "status"),
        ({"severity": "urgent"}, "severity"),
        ({"severity": 3}, "severity"),
        ({"assignee": "0" * 32}, "assignee"),
        ({"tags": ["no such tag"]}, "tags"),
        ({"tags": "family"}, "tags"),
        ({"status": "closed", "tags": ["no such tag"]}, "tags"),  # one bad field: no change
    ],
)
def test_a_bad_triage_value_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, world: World, change: dict[str, Any], field: str
) -> None:
    before = snapshot(app)
    response = call(client, "PATCH", f"/reports/{world.report.report_id}", world.token, json=change)
    assert assert_json_error(response, 422, "invalid")["fields"] == [field]
    assert snapshot(app) == before


def test_another_organisations_caseworker_cannot_be_assigned(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = snapshot(app)
    response = call(
        client,
        "PATCH",
        f"/reports/{world.report.report_id}",
        world.token,
        json={"assignee": world.mallory.id},
    )
    assert_json_error(response, 422, "invalid")
    assert snapshot(app) == before


def test_unknown_triage_fields_are_a_bad_request(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = snapshot(app)
    response = call(
        client, "PATCH", f"/reports/{world.report.report_id}", world.token, json={"consent": "full"}
    )
    assert assert_json_error(response, 400, "bad_request")["fields"] == ["consent"]
    assert snapshot(app) == before


# Refusals on every endpoint.

ENDPOINTS = [
    ("POST", "/logout"),
    ("GET", "/me"),
    ("PUT", "/me/recipient"),
    ("GET", "/organisation"),
    ("GET", "/reports"),
    ("GET", "/reports/{report}"),
    ("GET", "/reports/{report}/blobs/{blob}"),
    ("GET", "/reports/{report}/history"),
    ("PATCH", "/reports/{report}"),
    ("POST", "/reports/{report}/replies"),
    ("POST", "/reports/{report}/notes"),
    ("PUT", "/reports/{report}/status-note"),
    ("DELETE", "/reports/{report}/status-note"),
    ("POST", "/reports/{report}/escalations"),
]


def _path(app: Flask, world: World, template: str, report_id: str | None = None) -> str:
    report_id = report_id or world.report.report_id
    with app.app_context():
        blob = (
            db.session()
            .scalars(select(Message.document_blob_id).where(Message.report_id == report_id))
            .first()
        )
    return template.format(report=report_id, blob=blob)


def _spoil(app: Flask, world: World, how: str) -> None:
    """End alice's token: by time, by revocation, by disabling her, by a new password."""
    from reporting.accounts import caseworkers

    with app.app_context(), db.database().transaction() as dbs:
        alice = dbs.get_one(Caseworker, world.alice.id)
        if how == "expired":
            for row in dbs.scalars(select(ApiToken)):
                row.expires_at = row.created_at - timedelta(seconds=1)
        elif how == "revoked":
            dbs.execute(update(ApiToken).values(revoked=True))
        elif how == "disabled":
            alice.active = False
        elif how == "password":
            caseworkers.set_password(dbs, alice, "another long passphrase")


@pytest.mark.slow
@pytest.mark.parametrize(
    "spoil", ["none", "garbage", "expired", "revoked", "disabled", "password", "cookie"]
)
def test_every_endpoint_needs_a_live_token(
    app: Flask, client: FlaskClient, world: World, spoil: str
) -> None:
    token: str | None = world.token
    if spoil == "none":
        token = None
    elif spoil == "garbage":
        token = "rcw_" + "A" * 43
    elif spoil == "cookie":
        token = None
        sign_in(client, world.alice)  # a web session opens nothing in the API
    else:
        _spoil(app, world, spoil)
    before = snapshot(app)
    for method, template in ENDPOINTS:
        response = call(client, method, _path(app, world, template), token, json={})
        body = assert_json_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in body["message"]
    assert snapshot(app) == before


@pytest.mark.slow
def test_another_organisations_report_is_not_found(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with app.app_context(), db.database().transaction() as dbs:
        dbs.get_one(Report, world.other_report.report_id).consent = Consent.FULL
    before = snapshot(app)
    for method, template in [e for e in ENDPOINTS if "{report}" in e[1]]:
        for report_id in (world.other_report.report_id, "0" * 32, "not-an-id"):
            path = _path(app, world, template, report_id)
            body = {"ciphertext": "x", "status": "closed"}
            response = call(client, method, path, world.token, json=body)
            assert_json_error(response, 404, "not_found")
    assert snapshot(app) == before


@pytest.mark.slow
def test_a_blob_of_another_report_is_not_found(
    app: Flask, client: FlaskClient, world: World
) -> None:
    own = file_report(app, "Test organisation")
    with app.app_context():
        theirs = (
            db.session()
            .scalars(
                select(Message.document_blob_id).where(
                    Message.report_id == world.other_report.report_id
                )
            )
            .one()
        )
        second = (
            db.session()
            .scalars(select(Message.document_blob_id).where(Message.report_id == own.report_id))
            .one()
        )
    before = snapshot(app)
    for blob_id in (theirs, second, "0" * 32, "../../etc/passwd"):
        response = call(
            client, "GET", f"/reports/{world.report.report_id}/blobs/{blob_id}", world.token
        )
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert snapshot(app) == before


# Errors are JSON everywhere under /api/.


@pytest.mark.slow
def test_unknown_urls_and_methods_answer_in_json(client: FlaskClient, world: World) -> None:
    assert_json_error(client.get(f"{API}/nothing-here"), 404, "not_found")
    assert_json_error(client.get("/api/v2/reports"), 404, "not_found")
    response = call(client, "DELETE", "/me", world.token)
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_json_error(client.get(f"{API}/login"), 405, "method_not_allowed")
    assert client.get("/no-such-page").mimetype == "text/html"  # the rest of the site is pages


def test_login_bodies_must_be_json_objects_of_bounded_size(client: FlaskClient) -> None:
    assert_json_error(
        client.post(f"{API}/login", data={"username": "a"}), 415, "unsupported_media_type"
    )
    assert_json_error(
        client.post(f"{API}/login", data="{nope", content_type="application/json"),
        400,
        "bad_request",
    )
    assert_json_error(
        client.post(f"{API}/login", data=b"\xff\xfe", content_type="application/json"),
        400,
        "bad_request",
    )
    huge = b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert_json_error(
        client.post(f"{API}/login", data=huge, content_type="application/json"), 413, "too_large"
    )


def test_an_admin_is_a_caseworker_here_too(app: Flask, client: FlaskClient) -> None:
    admin = make_account(app, "root", role=Role.ADMIN)
    body = call(client, "GET", "/me", api_token(app, admin)).get_json()
    assert body["role"] == "admin"

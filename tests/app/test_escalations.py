"""Escalations: ciphertext the client made for a partner, stored as given, delivered only
through the partner's channels, refused when the reporter did not allow sharing; and a
canary through replies, notes and escalations that never shows in clear on the server."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from crypto.inspect import check_age_file
from protocol import SCHEMA, encode, note_document, reply_document, status_note_document
from protocol.padding import pad
from reporting.infra import db
from reporting.models import (
    ChannelKind,
    Consent,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    Report,
)
from tests.support import tools
from tests.support.api import (
    World,
    add_partner,
    assert_json_error,
    audit_actions,
    call,
    file_report,
    make_world,
    reporter_page,
    shown_messages,
    snapshot,
)
from tests.support.casework import api_app
from tests.support.delivery_fixtures import TEST_DELIVERY, running_receiver
from tests.support.portal import file_part, multipart
from tests.support.scans import (
    REDIS_TEST_URL,
    assert_absent,
    scan_database,
    scan_files,
    scan_redis,
)
from worker import delivery


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return api_app(tmp_path, database_url, DELIVERY=TEST_DELIVERY)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app, consent="full")


def package(key: Any, text: str = "Escalation: a police station at 12 Example Road.") -> bytes:
    """The escalation package as the client makes it: encrypted to the partner's keys only."""
    document = {"schema": SCHEMA, "kind": "escalation", "text": text}
    return crypto.encrypt(pad(encode(document), b" "), [key.recipient])


def escalate(
    client: FlaskClient,
    world: World,
    partner: Any,
    document: bytes | None,
    attachments: list[bytes] = (),  # type: ignore[assignment]
    report_id: str | None = None,
    **extra: Any,
) -> Any:
    data: dict[str, Any] = {"partner": str(partner), **extra}
    if document is not None:
        data["document"] = file_part(document, "escalation.age", "application/octet-stream")
    if attachments:
        data["attachment"] = [file_part(a, f"file-{i}.age") for i, a in enumerate(attachments)]
    body, content_type = multipart(data)
    path = f"/reports/{report_id or world.report.report_id}/escalations"
    return call(client, "POST", path, world.token, data=body, content_type=content_type)


@pytest.fixture
def partner_key() -> Any:
    return crypto.generate_identity()


@pytest.fixture
def legal_aid(app: Flask, world: World, partner_key: Any) -> int:
    return add_partner(
        app,
        world.alice.organisation_id,
        "Legal aid",
        partner_key,
        (
            (ChannelKind.WEBHOOK, "https://legal.example/hook", True),
            (ChannelKind.EMAIL, "cases@legal.example", True),
            (ChannelKind.EMAIL, "old@legal.example", False),
        ),
    )


def channels_of(app: Flask, partner_id: int | None, enabled: bool = True) -> set[int]:
    with app.app_context():
        return set(
            db.session().scalars(
                select(DeliveryChannel.id).where(
                    DeliveryChannel.partner_id == partner_id
                    if partner_id is not None
                    else DeliveryChannel.partner_id.is_(None),
                    DeliveryChannel.enabled.is_(enabled),
                )
            )
        )


@pytest.mark.slow
@pytest.mark.parametrize("consent", ["anonymised", "full"])
def test_an_escalation_goes_to_the_partners_channels_only(
    app: Flask, client: FlaskClient, partner_key: Any, consent: str
) -> None:
    world = make_world(app, consent=consent)
    partner = add_partner(
        app,
        world.alice.organisation_id,
        "Legal aid",
        partner_key,
        (
            (ChannelKind.WEBHOOK, "https://legal.example/hook", True),
            (ChannelKind.EMAIL, "cases@legal.example", True),
            (ChannelKind.EMAIL, "old@legal.example", False),
        ),
    )
    add_partner(
        app,
        world.alice.organisation_id,
        "Press",
        crypto.generate_identity(),
        ((ChannelKind.EMAIL, "desk@press.example", True),),
    )
    with app.app_context(), db.database().transaction() as dbs:  # the NGO's own channel
        dbs.add(
            DeliveryChannel(
                organisation_id=world.alice.organisation_id,
                kind=ChannelKind.EMAIL,
                target="inbox@ngo.example",
            )
        )
    document = package(partner_key)
    files = [
        crypto.encrypt(pad(b"photo " * 5000), [partner_key.recipient]),
        crypto.encrypt(pad(b""), [partner_key.recipient]),
    ]

    response = escalate(client, world, partner, document, files)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["deliveries"] == 2 * 3  # two enabled channels, a document and two files
    message = body["message"]
    assert (message["kind"], message["partner"], message["author"]) == (
        "escalation",
        partner,
        world.alice.id,
    )
    assert [a["position"] for a in message["attachments"]] == [0, 1]

    with app.app_context():
        rows = db.session().scalars(select(Delivery)).all()
        report = db.session().get_one(Report, world.report.report_id)
        assert report.status == "escalated"
    assert {r.channel_id for r in rows} == channels_of(app, partner)
    assert sorted((r.channel_id, r.part) for r in rows) == sorted(
        (c, p) for c in channels_of(app, partner) for p in range(3)
    )
    assert all(r.message_id == message["id"] and r.state is DeliveryState.PENDING for r in rows)

    # Stored as the client made it: the partner's key opens it, the organisation's do not.
    store = app.extensions["blobs"]
    blobs = [message["document"]["blob"], *(a["blob"] for a in message["attachments"])]
    for blob_id, sent in zip(blobs, [document, *files], strict=True):
        stored = store.path(blob_id).read_bytes()
        assert stored == sent
        crypto.decrypt(stored, [partner_key])
        for caseworker in (world.alice, world.bob):
            with pytest.raises(crypto.NoIdentityMatchError):
                crypto.decrypt(stored, [caseworker.identity])

    actions = [(a, d) for a, actor, d in audit_actions(app) if actor == world.alice.id]
    assert ("escalation", f"partner={partner} message={message['id']}") in actions
    assert ("status_change", "status=escalated") in actions
    listed = call(client, "GET", "/reports", world.token).get_json()["reports"][0]
    assert listed["status"] == "escalated" and listed["delivery"] == "pending"

    # The reporter sees the status, not the escalation.
    page = reporter_page(app, world.report.codename)
    assert shown_messages(page) == ["report"]

    # A second escalation (to the same partner) changes no status again.
    again = escalate(client, world, partner, package(partner_key, "more"))
    assert again.status_code == 201 and again.get_json()["deliveries"] == 2
    changes = [a for a, _, d in audit_actions(app) if a == "status_change"]
    assert changes == ["status_change"]


@pytest.mark.slow
def test_new_reports_are_never_delivered_to_partner_channels(
    app: Flask, world: World, legal_aid: int
) -> None:
    with app.app_context(), db.database().transaction() as dbs:
        dbs.add(
            DeliveryChannel(
                organisation_id=world.alice.organisation_id,
                kind=ChannelKind.EMAIL,
                target="inbox@ngo.example",
            )
        )
    receipt = file_report(app, "Test organisation", "full", files=1)
    with app.app_context():
        rows = (
            db.session()
            .scalars(select(Delivery).where(Delivery.report_id == receipt.report_id))
            .all()
        )
    assert len(rows) == 2 and {r.channel_id for r in rows} == channels_of(app, None)
    assert not {r.channel_id for r in rows} & channels_of(app, legal_aid)


@pytest.mark.slow
def test_the_portal_keeps_the_reporters_consent_in_clear(app: Flask) -> None:
    from tests.support.casework import make_account
    from tests.support.portal import submit_report

    make_account(app, "alice")
    for choice in ("none", "anonymised", "full"):
        assert submit_report(app.test_client(), consent=choice).status_code == 200
    with app.app_context():
        kept = db.session().scalars(select(Report.consent)).all()
    assert sorted(str(c) for c in kept) == ["anonymised", "full", "none"]


@pytest.mark.slow
@pytest.mark.parametrize("consent", ["none", None])
def test_do_not_share_blocks_the_escalation(
    app: Flask, client: FlaskClient, partner_key: Any, consent: str | None
) -> None:
    world = make_world(app, consent=consent or "full")
    partner = add_partner(
        app,
        world.alice.organisation_id,
        "Legal aid",
        partner_key,
        ((ChannelKind.EMAIL, "cases@legal.example", True),),
    )
    with app.app_context(), db.database().transaction() as dbs:
        report = dbs.get_one(Report, world.report.report_id)
        assert report.consent == Consent(consent or "full")  # as the reporter chose
        if consent is None:  # a report stored before consent was kept in clear
            report.consent = None
    before = snapshot(app)
    response = escalate(client, world, partner, package(partner_key), [b"age-encryption.org/v1\n"])
    body = assert_json_error(response, 409, "consent_refused")
    assert "did not allow" in body["message"]
    assert snapshot(app) == before


@pytest.mark.slow
def test_a_partner_without_a_channel_is_refused(
    app: Flask, client: FlaskClient, world: World, partner_key: Any
) -> None:
    silent = add_partner(
        app,
        world.alice.organisation_id,
        "Press",
        partner_key,
        ((ChannelKind.EMAIL, "off@press.example", False),),
    )
    before = snapshot(app)
    response = escalate(client, world, silent, package(partner_key))
    assert assert_json_error(response, 422, "invalid")["fields"] == ["partner"]
    assert snapshot(app) == before


@pytest.mark.slow
def test_another_organisations_partner_is_not_found(
    app: Flask, client: FlaskClient, world: World, partner_key: Any
) -> None:
    theirs = add_partner(
        app,
        world.mallory.organisation_id,
        "Their partner",
        partner_key,
        ((ChannelKind.EMAIL, "x@their.example", True),),
    )
    before = snapshot(app)
    for partner in (theirs, theirs + 1000, "abc", "1.5", "-1"):
        assert_json_error(escalate(client, world, partner, package(partner_key)), 404, "not_found")
    assert snapshot(app) == before


@pytest.mark.slow
def test_another_organisations_report_cannot_be_escalated(
    app: Flask, client: FlaskClient, world: World, legal_aid: int, partner_key: Any
) -> None:
    before = snapshot(app)
    response = escalate(
        client, world, legal_aid, package(partner_key), report_id=world.other_report.report_id
    )
    assert_json_error(response, 404, "not_found")
    assert snapshot(app) == before


def _cut(data: bytes) -> bytes:
    return data[: check_age_file(data).header_size + 20]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("document", "attachments"),
    [
        (lambda key: b"Escalation in clear: the reporter's name is ...", []),
        (lambda key: package(key), [lambda key: b"not encrypted either"]),
        (lambda key: _cut(package(key)), []),
        (lambda key: package(key), [lambda key: _cut(package(key))]),
        (lambda key: crypto.encrypt(b"{}", [key.recipient], armor=True), []),
        (lambda key: b"", []),
    ],
    ids=["plaintext", "plaintext file", "cut document", "cut file", "armored", "empty"],
)
def test_what_is_not_a_binary_age_file_is_refused_and_nothing_stored(
    app: Flask,
    client: FlaskClient,
    world: World,
    legal_aid: int,
    partner_key: Any,
    document: Any,
    attachments: list[Any],
) -> None:
    before = snapshot(app)
    response = escalate(
        client, world, legal_aid, document(partner_key), [a(partner_key) for a in attachments]
    )
    assert_json_error(response, 400, "bad_ciphertext")
    assert snapshot(app) == before


@pytest.mark.slow
def test_malformed_escalation_requests_are_refused(
    app: Flask, client: FlaskClient, world: World, legal_aid: int, partner_key: Any
) -> None:
    before = snapshot(app)
    path = f"/reports/{world.report.report_id}/escalations"
    assert_json_error(escalate(client, world, legal_aid, None), 400, "bad_request")
    assert_json_error(escalate(client, world, "", package(partner_key)), 400, "bad_request")
    twice, content_type = multipart(
        {
            "partner": str(legal_aid),
            "document": [file_part(package(partner_key)), file_part(package(partner_key))],
        }
    )
    assert_json_error(
        call(client, "POST", path, world.token, data=twice, content_type=content_type),
        400,
        "bad_request",
    )
    as_json = call(client, "POST", path, world.token, json={"partner": legal_aid})
    assert_json_error(as_json, 415, "unsupported_media_type")
    many = [package(partner_key)] * (app.config["SETTINGS"].limits.max_files + 1)
    assert_json_error(
        escalate(client, world, legal_aid, package(partner_key), many), 413, "too_large"
    )
    assert snapshot(app) == before


@pytest.mark.slow
def test_an_escalation_over_the_request_limit_is_refused(
    tmp_path: Path, database_url: str, partner_key: Any
) -> None:
    from dataclasses import replace

    from reporting.infra.config import Limits

    app = api_app(tmp_path, database_url, LIMITS=replace(Limits(), max_submission_bytes=300_000))
    world = make_world(app, consent="full")
    partner = add_partner(
        app,
        world.alice.organisation_id,
        "Legal aid",
        partner_key,
        ((ChannelKind.EMAIL, "cases@legal.example", True),),
    )
    client = app.test_client()
    before = snapshot(app)
    big = crypto.encrypt(pad(b"x" * 400_000), [partner_key.recipient])
    assert_json_error(escalate(client, world, partner, big), 413, "too_large")
    assert snapshot(app) == before
    assert escalate(client, world, partner, package(partner_key)).status_code == 201


@pytest.mark.slow
def test_the_worker_delivers_an_escalation_to_the_partner(
    app: Flask, client: FlaskClient, world: World, partner_key: Any, tmp_path: Path
) -> None:
    with running_receiver(tmp_path / "partner") as receiver:
        partner = add_partner(app, world.alice.organisation_id, "Legal aid", partner_key)
        with app.app_context(), db.database().transaction() as dbs:
            dbs.add(
                DeliveryChannel(
                    organisation_id=world.alice.organisation_id,
                    kind=ChannelKind.WEBHOOK,
                    target=receiver.url,
                    secret=receiver.secret,
                    partner_id=partner,
                )
            )
        response = escalate(
            client,
            world,
            partner,
            package(partner_key, "for the lawyers"),
            [crypto.encrypt(pad(b"scan"), [partner_key.recipient])],
        )
        assert response.status_code == 201, response.text
        with app.app_context():
            ids = db.session().scalars(select(Delivery.id).order_by(Delivery.part)).all()
            settings = app.config["SETTINGS"].delivery
            outcomes = [
                delivery.attempt(db.database(), app.extensions["blobs"], settings, i) for i in ids
            ]
        assert outcomes == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
        stored = receiver.stored()
    assert len(stored) == 2
    texts = []
    for webhook_id, body in stored.items():
        metadata = json.loads((receiver.store / f"{webhook_id}.json").read_text())
        assert metadata["x-reporting-kind"] == "escalation"
        assert metadata["x-reporting-organisation"] == "Test organisation"  # who sent it
        plain = crypto.decrypt(body, [partner_key])
        texts.append(plain)
        with pytest.raises(crypto.NoIdentityMatchError):
            crypto.decrypt(body, [world.alice.identity, world.bob.identity])
    assert any(b"for the lawyers" in t for t in texts) and pad(b"scan") in texts


# The canary: what caseworkers write through the client is nowhere in clear.


@pytest.fixture
def redis_db(require_tool: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    tools.require_redis(REDIS_TEST_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.mark.slow
def test_canary_in_replies_notes_and_escalations_is_never_in_clear(
    tmp_path: Path,
    database_url: str,
    redis_db: redis.Redis,
    partner_key: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY-{uuid.uuid4().hex}-金丝雀"
    app = api_app(tmp_path, database_url, REDIS_URL=REDIS_TEST_URL)
    world = make_world(app, consent="anonymised")
    partner = add_partner(
        app,
        world.alice.organisation_id,
        "Legal aid",
        partner_key,
        ((ChannelKind.WEBHOOK, "https://legal.example/hook", True),),
    )
    client = app.test_client()
    organisation = call(client, "GET", "/organisation", world.token).get_json()
    ours = [crypto.parse_recipient(r) for r in organisation["recipients"]]
    detail = call(client, "GET", f"/reports/{world.report.report_id}", world.token).get_json()
    reporter = crypto.parse_recipient(detail["reporter_recipient"])

    def armored(kind: str, recipients: list[Any]) -> str:
        builders = {"reply": reply_document, "note": note_document}
        document = encode(builders.get(kind, status_note_document)(f"{canary} {kind}"))
        return crypto.encrypt(pad(document, b" "), recipients, armor=True).decode("ascii")

    base = f"/reports/{world.report.report_id}"
    assert (
        call(
            client,
            "POST",
            f"{base}/replies",
            world.token,
            json={"ciphertext": armored("reply", [reporter, *ours])},
        ).status_code
        == 201
    )
    assert (
        call(
            client, "POST", f"{base}/notes", world.token, json={"ciphertext": armored("note", ours)}
        ).status_code
        == 201
    )
    assert (
        call(
            client,
            "PUT",
            f"{base}/status-note",
            world.token,
            json={"ciphertext": armored("status_note", [reporter, *ours])},
        ).status_code
        == 200
    )
    attachment = crypto.encrypt(pad(canary.encode() * 1000), [partner_key.recipient])
    response = escalate(
        client, world, partner, package(partner_key, f"{canary} escalation"), [attachment]
    )
    assert response.status_code == 201, response.text

    assert_absent(response.data, canary, "the API's answer")
    assert scan_files(Path(app.instance_path), canary) >= 7
    assert scan_database(app, canary) > 0
    assert scan_redis(redis_db, canary) >= 1
    queued = redis_db.lrange("reporting", 0, -1)
    assert len(queued) == 2  # the escalation's document and file, by delivery id only
    captured = capfd.readouterr()
    assert_absent((captured.out + captured.err).encode("utf-8"), canary, "stdout/stderr")
    assert_absent(caplog.text.encode("utf-8"), canary, "the logs")

    # Only the right keys: the reporter reads the reply and status note; the organisation
    # reads those and the note; only the partner reads the escalation; a stranger nothing.
    reporter_key = crypto.parse_identity(world.report.reply_identity)

    def readable(identity: Any) -> set[str]:
        opened = set()
        store = app.extensions["blobs"]
        for blob_id in store.ids():
            try:
                plain = crypto.decrypt(store.path(blob_id).read_bytes(), [identity])
            except crypto.NoIdentityMatchError:
                continue
            if plain.startswith(b"{") and canary.encode() in plain:
                opened.add(json.loads(plain)["kind"])
            elif canary.encode() in plain:
                opened.add("file")
        return opened

    assert readable(reporter_key) == {"reply", "status_note"}
    assert readable(world.alice.identity) == {"reply", "note", "status_note"}
    assert readable(world.bob.identity) == {"reply", "note", "status_note"}
    assert readable(partner_key) == {"escalation", "file"}
    assert readable(crypto.generate_identity()) == set()
    with app.app_context():
        kinds = db.session().scalars(
            select(Message.kind)
            .where(Message.report_id == world.report.report_id)
            .order_by(Message.seq)
        )
    assert [str(k) for k in kinds] == ["report", "reply", "note", "escalation"]

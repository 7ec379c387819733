"""Reports, follow-ups and replies: what is stored, who can read it, and all-or-nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import crypto
from protocol import encode, status_note_document
from reporting.infra import db
from reporting.intake.return_visit import case_view
from reporting.intake.submissions import Upload, store_report
from reporting.models import Attachment, Blob, Message, Report, ReportStatus
from reporting.organisations.recipients import find_organisation, recipients_of
from tests.support.casework import store_client_reply
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    codename_from,
    csrf_token,
    file_part,
    post_form,
    submit_report,
)


def _plaintexts(app: Flask, identity: Any) -> dict[str, bytes]:
    store = app.extensions["blobs"]
    found = {}
    for blob_id in store.ids():
        with contextlib.suppress(crypto.NoIdentityMatchError):
            found[blob_id] = crypto.decrypt(store.path(blob_id).read_bytes(), [identity])
    return found


def _documents(app: Flask, identity: Any, kind: str) -> list[dict[str, Any]]:
    docs = [_document(p) for p in _plaintexts(app, identity).values()]
    return [d for d in docs if d is not None and d["kind"] == kind]


def _document(plaintext: bytes) -> dict[str, Any] | None:
    """A JSON document of ours, or None for an attachment (which may start with "{" too)."""
    try:
        document = json.loads(plaintext)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "schema" in document else None


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)))


@pytest.mark.slow
def test_a_report_with_several_files_is_stored_encrypted_and_complete(
    app: Flask, caseworker: Caseworker
) -> None:
    files = [os.urandom(1), os.urandom(1024 * 1024 + 17), os.urandom(3 * 1024 * 1024)]
    narrative = "他们打电话给我在老家的母亲，说如果我不回国就会有麻烦。" * 2  # noqa: RUF001
    response = submit_report(
        app.test_client(),
        narrative=narrative,
        methods=["threats_to_relatives", "association_or_station"],
        actors=["service_station", "relatives_under_pressure"],
        contact="video_call",
        contact_app="WeChat",
        demands=["return_home", "inform"],
        deadline="2025-04-01",
        country="CA",
        city="Toronto",
        **{"family-1-relation": "brother", "family-1-location": "Urumqi"},
        attachments=[file_part(f, f"photo-{i}.jpg", "image/jpeg") for i, f in enumerate(files)],
    )
    assert response.status_code == 200
    assert len(codename_from(response).split()) == 7

    [document] = _documents(app, caseworker.identity, "report")
    assert document["schema"] == "reporting/v2"
    assert document["narrative"] == narrative
    assert document["methods"] == ["threats_to_relatives", "association_or_station"]
    assert document["actors"] == ["service_station", "relatives_under_pressure"]
    assert document["contact"] == ["video_call"] and document["contact_app"] == "WeChat"
    assert document["demands"] == ["return_home", "inform"]
    assert document["deadline"] == "2025-04-01" and document["police_place"] == ""
    assert "categories" not in document  # reporting/v1's, no longer asked
    assert document["where"] == {"country": "CA", "city": "Toronto", "place": {}}
    assert document["family"] == [
        {"relation": "brother", "country": "", "location": "Urumqi", "harms": [],
         "what_happened": "", "may_share": False, "do_not_contact": False}
    ]  # fmt: skip  # empty entries are left out
    assert document["consent"] == "none" and document["reply_language"] == "zh_Hans"
    plaintexts = _plaintexts(app, caseworker.identity)
    for content, info in zip(files, document["attachments"], strict=True):
        assert info["content_type"] == "image/jpeg" and info["size"] == len(content)
        assert info["sha256"] == hashlib.sha256(content).hexdigest()
        assert plaintexts[info["blob"]][: len(content)] == content

    with app.app_context():
        report = db.session().scalars(select(Report)).one()
        assert report.status == ReportStatus.NEW
        [message] = report.messages
        assert [a.position for a in message.attachments] == [0, 1, 2]
    assert _count(app, Blob) == 4 == len(list(app.extensions["blobs"].ids()))


@pytest.mark.slow
def test_a_failed_transaction_deletes_the_blobs_it_wrote(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reports with one lookup id: the second fails at commit and leaves nothing."""
    fixed = crypto.derive_keys(crypto.generate_codename(), b"s" * 16)
    monkeypatch.setattr("reporting.intake.submissions.derive_keys", lambda *_: fixed)
    store = app.extensions["blobs"]
    settings = app.config["SETTINGS"]
    fields = {"narrative": "x" * 50, "consent": "none", "reply_language": "en"}

    def submit() -> None:
        with app.test_request_context():
            organisation = find_organisation(db.session(), caseworker.organisation_name)
            upload = store.writer(recipients_of(organisation))
            upload.write(b"evidence")
            store_report(
                db.database(),
                store,
                organisation,
                recipients_of(organisation),
                fields,
                [Upload(upload, "e.txt", "text/plain")],
                settings.codename_salt,
                "en",
            )

    submit()
    before = set(store.ids())
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        submit()
    assert set(store.ids()) == before and store.temporary_files() == []
    assert _count(app, Report) == 1 and _count(app, Attachment) == 1


@pytest.mark.slow
def test_followups_go_to_the_organisations_current_keys(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    submit_report(client)
    # A second caseworker joins; later follow-ups are encrypted to both.
    second = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        from reporting.organisations.recipients import add_recipient

        organisation = find_organisation(session, caseworker.organisation_name)
        add_recipient(session, organisation, str(second.recipient))
    data = {
        "csrf_token": csrf_token(client, "/case"),
        "message": "They came back on Tuesday.",
        "attachments": [file_part(b"second photo", "p.png", "image/png")],
    }
    assert post_form(client, "/case/followup", data).status_code == 302
    for identity in (caseworker.identity, second):
        [followup] = _documents(app, identity, "followup")
        assert followup["text"] == "They came back on Tuesday."
        assert followup["attachments"][0]["filename"] == "p.png"
    assert _documents(app, second, "report") == []  # earlier reports are not re-encrypted
    assert "Your information was sent securely" in client.get("/case").text


@pytest.mark.slow
def test_the_case_page_shows_status_note_and_replies_in_order(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    codename = codename_from(submit_report(client))
    reporter = crypto.derive_keys(codename, app.config["SETTINGS"].codename_salt).identity
    with app.app_context():
        store = app.extensions["blobs"]
        report = db.session().scalars(select(Report)).one()
    store_client_reply(app, report.id, "First reply: are you safe?")
    store_client_reply(app, report.id, "Second reply:\n<b>not bold</b>")
    with app.app_context():
        note = store.writer([reporter.recipient], pad_byte=b" ")
        note.write(encode(status_note_document("We contacted a lawyer.")))
        note.commit()
        with db.database().transaction() as session:
            row = session.get(Report, report.id)
            session.add(Blob(id=note.id, size=note.stored_size))
            session.flush()
            row.status = ReportStatus.IN_PROGRESS
            row.status_note_blob_id = note.id

    page = client.get("/case").text
    assert "Being worked on" in page and "We contacted a lawyer." in page
    assert page.index("First reply") < page.index("Second reply")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>not bold" not in page

    # The reporter's own words are encrypted to the caseworkers only.
    with app.app_context():
        report = db.session().scalars(select(Report)).one()
        view = case_view(app.extensions["blobs"], report, reporter)
    assert [m.kind for m in view.messages] == ["report", "reply", "reply"]
    assert view.messages[0].text is None


@pytest.mark.slow
def test_a_reply_the_reporter_cannot_read_is_shown_as_unreadable(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    submit_report(client)
    with app.app_context():
        report_id = db.session().scalars(select(Report.id)).one()
    stranger = crypto.generate_identity()  # as if encrypted to another key
    store_client_reply(app, report_id, "not for you", recipients=[stranger.recipient])
    response = client.get("/case")
    assert response.status_code == 200 and "not for you" not in response.text
    assert _count(app, Message) == 2


@pytest.mark.slow
def test_the_codename_is_shown_once_and_stored_nowhere(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    codename = codename_from(submit_report(client))
    assert codename not in client.get("/case").text
    with app.app_context():
        report = db.session().scalars(select(Report)).one()
        keys = crypto.derive_keys(codename, app.config["SETTINGS"].codename_salt)
        assert report.lookup_id == keys.lookup_id
        assert report.reporter_recipient == str(keys.identity.recipient)
        assert codename not in repr(report.__dict__)
    for path in app.extensions["blobs"].root.rglob("*"):
        if path.is_file():
            assert codename.encode() not in path.read_bytes()


def test_add_caseworker_helper_makes_distinct_organisations(app: Flask) -> None:
    first = add_caseworker(app, "One")
    second = add_caseworker(app, "Two")
    assert str(first.identity) != str(second.identity)


@pytest.mark.slow
def test_a_followup_goes_to_the_organisation_that_holds_its_report(
    app: Flask, database_url: str, tmp_path
) -> None:
    """If the portal later files with another organisation, a reporter's follow-up (text
    and files) still goes to the caseworkers who have the report."""
    from reporting import create_app

    first = add_caseworker(app, "First")
    first_app = create_app(
        {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": database_url,
         "ORGANISATION": "First"}
    )  # fmt: skip
    client = first_app.test_client()
    submit_report(client)
    second = add_caseworker(app, "Second")
    later = create_app(
        {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": database_url,
         "ORGANISATION": "Second"}
    )  # fmt: skip
    later_client = later.test_client()
    later_client.set_cookie("session", client.get_cookie("session").value)
    data = {
        "csrf_token": csrf_token(later_client, "/case"),
        "message": "They called again.",
        "attachments": [file_part(b"recording", "call.m4a", "audio/mp4")],
    }
    assert post_form(later_client, "/case/followup", data).status_code == 302
    [followup] = _documents(later, first.identity, "followup")
    plaintexts = _plaintexts(later, first.identity)
    assert plaintexts[followup["attachments"][0]["blob"]].startswith(b"recording")
    assert _documents(later, second.identity, "followup") == []
    # A new report on the later portal goes to the second organisation.
    submit_report(later.test_client())
    assert len(_documents(later, second.identity, "report")) == 1

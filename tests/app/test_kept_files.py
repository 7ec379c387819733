"""Files already sent are kept when a form comes back (issue 14; reporting/intake/kept_files.py).

A form that comes back with an error, or in another language, keeps the files it brought
for the session: the page lists them (size, description, a box to remove each), and the
form that is finally sent attaches them. A removed file is deleted at once; a removal that
names a file this session never kept is refused and stores nothing; files nobody claims
are deleted by the sweep after their hour.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import crypto
import protocol
from reporting.infra import db
from reporting.intake import kept_files
from reporting.models import Attachment, KeptUpload, Message, Report
from tests.support.kept_files import kept_ids, send
from tests.support.portal import (
    Caseworker,
    codename_from,
    come_back,
    csrf_token,
    file_part,
    post_form,
    report_fields,
)

PHOTO = b"a photo of the summons " * 100  # 2,300 bytes: "3 KB"
LETTER = b"the letter they sent my mother"


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model)) or 0


def blob_ids(app: Flask) -> set[str]:
    with app.app_context():
        return set(app.extensions["blobs"].ids())


def attachments(app: Flask, caseworker: Caseworker) -> list[dict[str, Any]]:
    """The stored report's attachments as its document lists them, with their plaintext."""
    store = app.extensions["blobs"]
    with app.app_context():
        message = db.session().scalars(select(Message).where(Message.seq == 0)).one()
        document = protocol.read_report(
            crypto.decrypt(store.read(message.document_blob_id), [caseworker.identity])
        )
    files = document["attachments"]
    for entry in files:
        plaintext = crypto.decrypt(store.read(entry["blob"]), [caseworker.identity])
        entry["content"] = plaintext[: entry["size"]]
    return files


def with_error(**extra: Any) -> dict[str, Any]:
    """A report form that comes back: the description is missing."""
    return {**report_fields(narrative=""), **extra}


def test_files_kept_after_an_error_are_listed_and_sent_with_the_report(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    refused = send(
        client,
        **with_error(
            attachments=[file_part(PHOTO, "summons.jpg", "image/jpeg"), file_part(LETTER)],
            **{"attachments_rows-0-description": "the summons, page 1"},
        ),
    )
    assert refused.status_code == 400
    assert "Already received: 2 files" in refused.text
    assert "3 KB" in refused.text and "the summons, page 1" in refused.text
    assert len(kept_ids(refused)) == 2
    # The row's description went with its file: the row is drawn empty again.
    assert 'name="attachments_rows-0-description" type="text" value=""' in refused.text
    assert count(app, Report) == 0 and count(app, KeptUpload) == 2

    sent = send(client, **report_fields())
    assert sent.status_code == 200
    photo, letter = attachments(app, caseworker)
    assert (photo["filename"], photo["description"], photo["content"]) == (
        "summons.jpg",
        "the summons, page 1",
        PHOTO,
    )
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert (letter["filename"], letter["content"]) == ("evidence.txt", LETTER)
    assert "description" not in letter
    assert count(app, KeptUpload) == 0  # claimed: nothing left for the sweep
    assert come_back(app.test_client(), codename_from(sent)).status_code == 302


def test_a_switch_keeps_the_file_and_the_next_send_adds_its_own(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    switched = send(
        client, **report_fields(), attachments=[file_part(PHOTO, "a.jpg")], language="bo"
    )
    assert switched.status_code == 200 and len(kept_ids(switched)) == 1
    again = send(client, **with_error(), attachments=[file_part(LETTER, "b.txt")], language="en")
    assert len(kept_ids(again)) == 2
    sent = send(client, **report_fields(), attachments=[file_part(b"third", "c.txt")])
    assert sent.status_code == 200
    assert [a["filename"] for a in attachments(app, caseworker)] == ["a.jpg", "b.txt", "c.txt"]


def test_a_removed_file_is_deleted_and_not_sent(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    refused = send(client, **with_error(attachments=[file_part(PHOTO, "a.jpg"), file_part(LETTER)]))
    photo, letter = kept_ids(refused)
    assert {photo, letter} <= blob_ids(app)
    page = send(client, **with_error(remove_kept=[photo]))
    assert kept_ids(page) == [letter]
    assert photo not in blob_ids(app)  # deleted, not only forgotten
    # A reload sends the same removal again: nothing more happens.
    assert kept_ids(send(client, **with_error(remove_kept=[photo]))) == [letter]
    sent = send(client, **report_fields())
    assert sent.status_code == 200
    assert [a["content"] for a in attachments(app, caseworker)] == [LETTER]
    assert photo not in blob_ids(app)


def test_removing_the_last_file_as_the_report_is_sent(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    (only,) = kept_ids(send(client, **with_error(attachments=[file_part(PHOTO)])))
    assert send(client, **report_fields(remove_kept=only)).status_code == 200
    assert attachments(app, caseworker) == []
    assert only not in blob_ids(app) and count(app, KeptUpload) == 0


@pytest.mark.parametrize("forged", ["other", "0" * 32, "not an id"])
def test_a_reference_to_another_sessions_file_is_refused_and_nothing_stored(
    app: Flask, caseworker: Caseworker, forged: str
) -> None:
    owner = app.test_client()
    (theirs,) = kept_ids(send(owner, **with_error(attachments=[file_part(PHOTO)])))
    before = blob_ids(app)
    stranger = app.test_client()
    reference = theirs if forged == "other" else forged
    for fields in (with_error(), report_fields()):  # a form that comes back, or is sent
        response = send(stranger, **fields, attachments=[file_part(LETTER)], remove_kept=reference)
        assert response.status_code == 400
        assert "This form was not sent the way the page sends it. Nothing was stored." in (
            response.text
        )
    assert blob_ids(app) == before  # theirs is still there, and the stranger's file is not
    assert count(app, KeptUpload) == 1 and count(app, Report) == 0
    with app.app_context():
        assert not list(app.extensions["blobs"].temporary_files())
    # The owner still has it, and sends it.
    assert send(owner, **report_fields()).status_code == 200
    assert [a["content"] for a in attachments(app, caseworker)] == [PHOTO]


def test_the_follow_up_form_keeps_its_files_too(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    assert send(client, **report_fields()).status_code == 200
    refused = send(client, "/case/followup", message="", attachments=[file_part(LETTER, "l.txt")])
    assert refused.status_code == 400 and len(kept_ids(refused)) == 1
    # The case page lists it too, and the report form (another form) does not take it.
    assert len(kept_ids(client.get("/case"))) == 1
    assert kept_ids(client.get("/report")) == []
    sent = send(client, "/case/followup", message="More about the letter.")
    assert sent.status_code == 302
    with app.app_context():
        message = db.session().scalars(select(Message).where(Message.seq == 1)).one()
        (attachment,) = message.attachments
        assert crypto.decrypt(
            app.extensions["blobs"].read(attachment.blob_id), [caseworker.identity]
        ).startswith(LETTER)
    assert count(app, KeptUpload) == 0


def test_the_sweep_deletes_unclaimed_files_after_their_hour_and_keeps_claimed_ones(
    app: Flask, caseworker: Caseworker
) -> None:
    claimed = app.test_client()
    send(claimed, **with_error(attachments=[file_part(PHOTO)]))
    assert send(claimed, **report_fields()).status_code == 200
    abandoned = app.test_client()
    (unclaimed,) = kept_ids(send(abandoned, **with_error(attachments=[file_part(LETTER)])))
    token = csrf_token(abandoned, "/report")  # the form stays open while the hours pass
    store = app.extensions["blobs"]
    with app.app_context():
        (kept_for_report,) = db.session().scalars(select(Attachment.blob_id))
        now = time.time()
        assert kept_files.sweep_expired(db.database(), store, now) == 0  # not yet its hour
        assert kept_files.sweep_expired(db.database(), store, now + 3600 - 1) == 0
        assert kept_files.sweep_expired(db.database(), store, now + 2 * 3600) == 1
    assert unclaimed not in blob_ids(app) and kept_for_report in blob_ids(app)
    assert count(app, KeptUpload) == 0
    # The reporter who left is told plainly, and nothing is stored without the file.
    page = post_form(abandoned, "/report", {"csrf_token": token, **report_fields()})
    assert page.status_code == 400 and "1 file you sent earlier was deleted" in page.text
    assert count(app, Report) == 1


def test_flask_blobs_sweep_deletes_unclaimed_kept_files(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_files, "MAX_AGE_HOURS", -2)  # kept already past its hour
    (old,) = kept_ids(send(app.test_client(), **with_error(attachments=[file_part(PHOTO)])))
    result = app.test_cli_runner().invoke(args=["blobs", "sweep"])
    assert "and 1 unclaimed kept files." in result.output, result.output
    assert old not in blob_ids(app) and count(app, KeptUpload) == 0


def test_kept_files_count_towards_the_file_limit(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    limit = app.config["SETTINGS"].limits.max_files
    first = [file_part(b"%d" % i, f"{i}.txt") for i in range(limit)]
    assert len(kept_ids(send(client, **with_error(attachments=first)))) == limit
    too_many = send(client, **report_fields(), attachments=[file_part(b"one more")])
    assert too_many.status_code == 413
    assert count(app, Report) == 0 and count(app, KeptUpload) == limit


def test_the_beats_upload_sweep_deletes_unclaimed_kept_files(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reporting.infra.queue import SWEEP_UPLOADS_TASK, celery_config
    from worker.app import create_celery

    [entry] = [
        e
        for e in celery_config(app.config["SETTINGS"])["beat_schedule"].values()
        if e["task"] == SWEEP_UPLOADS_TASK
    ]
    assert entry["schedule"] <= 15 * 60  # so a kept file is gone within two and a quarter hours
    monkeypatch.setattr(kept_files, "MAX_AGE_HOURS", -2)  # kept already past its hour
    (old,) = kept_ids(send(app.test_client(), **with_error(attachments=[file_part(PHOTO)])))
    monkeypatch.setattr(kept_files, "MAX_AGE_HOURS", 1)
    (young,) = kept_ids(send(app.test_client(), **with_error(attachments=[file_part(LETTER)])))

    create_celery(app).tasks[SWEEP_UPLOADS_TASK].apply()

    assert old not in blob_ids(app) and young in blob_ids(app)
    assert count(app, KeptUpload) == 1


def test_a_kept_file_swept_just_before_the_commit_stores_nothing(
    app: Flask, caseworker: Caseworker
) -> None:
    """The sweep may take a kept file between reading the form and storing the report: the
    report is then refused whole (409), and the file that came with it is deleted again."""
    from reporting.intake.submissions import KeptFile, KeptFileGone, Upload, store_report
    from reporting.organisations.recipients import find_organisation, recipients_of

    (swept,) = kept_ids(send(app.test_client(), **with_error(attachments=[file_part(PHOTO)])))
    store = app.extensions["blobs"]
    with app.test_request_context():
        assert kept_files.sweep_expired(db.database(), store, time.time() + 3 * 3600) == 1
        before = set(store.ids())
        organisation = find_organisation(db.session(), caseworker.organisation_name)
        upload = store.writer(recipients_of(organisation))
        upload.write(LETTER)
        gone = KeptFile(swept, 16384, "a.jpg", "image/jpeg", len(PHOTO), "0" * 64, "")
        with pytest.raises(KeptFileGone) as refused:
            store_report(
                db.database(),
                store,
                organisation,
                recipients_of(organisation),
                report_fields(),
                [Upload(upload, "l.txt", "text/plain")],
                app.config["SETTINGS"].codename_salt,
                "en",
                kept=[gone],
            )
    assert refused.value.code == 409
    assert set(store.ids()) == before and store.temporary_files() == []
    assert count(app, Report) == 0 and count(app, Attachment) == 0

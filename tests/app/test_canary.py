"""Canary: what a reporter writes never exists in clear on the server (invariant 1).

A unique string goes into every field of a report, a 5 MB attachment, a
follow-up and a caseworker's reply. Afterwards it must not appear in any file
under the instance folder, in any database row, in Redis, in the logs or in a
temporary file, and no temporary file may even be opened for an upload; while
the right key (and only the right key) decrypts each blob back to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, request
from sqlalchemy import select

import crypto
from crypto.webhooks import new_secret
from reporting import create_app
from reporting.infra import db
from reporting.infra.operator_commands import DEMO_ORGANISATION, bootstrap_demo
from reporting.infra.queue import NOTIFY_URGENT_TASK
from reporting.models import Delivery, Report
from tests.support import databases, tools
from tests.support.casework import store_client_reply
from tests.support.delivery_fixtures import RunningReceiver, add_webhook
from tests.support.portal import (
    codename_from,
    come_back,
    csrf_token,
    file_part,
    multipart,
    post_form,
    report_fields,
    text_inputs,
)
from tests.support.scans import (
    IDENTIFYING,
    REDIS_TEST_URL,
    assert_absent,
    scan_database,
    scan_files,
    scan_redis,
)
from tests.support.temp_files import private_temp_dir, record_temp_files

ATTACHMENT_BYTES = 5 * 1024 * 1024


@pytest.fixture
def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}-金丝雀"


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return private_temp_dir(tmp_path, monkeypatch)


@pytest.fixture
def opened_temp_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_temp_files(monkeypatch)


def test_the_temp_file_spy_sees_werkzeugs_default_spooling(
    tmp_path: Path, opened_temp_files: list[str]
) -> None:
    """Without our request class, a 600 KB upload is spooled: the spy must notice."""
    plain = Flask(__name__)

    @plain.post("/")
    def upload() -> str:
        return str(len(request.files["f"].read()))

    body, content_type = multipart({"f": file_part(b"x" * 600_000)})
    response = plain.test_client().post("/", data=body, content_type=content_type)
    assert response.text == "600000"
    assert "SpooledTemporaryFile" in opened_temp_files


@pytest.fixture
def redis_db(require_tool: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    tools.require_redis(REDIS_TEST_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def canary_app(tmp_path: Path, database_url: str, redis_db: redis.Redis, temp_dir: Path) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_TEST_URL,
        }
    )
    databases.migrate_fresh(database_url)
    return app


def answer(document: dict[str, Any], path: str) -> str:
    """The stored answer at a catalogue path (a repeated group's first entry)."""
    value: Any = document
    for key in path.split("."):
        value = value[0] if isinstance(value, list) else value
        value = value[key]
    return str(value)


@pytest.mark.slow
def test_canary_never_stored_in_clear(
    canary_app: Flask,
    canary: str,
    temp_dir: Path,
    opened_temp_files: list[str],
    redis_db: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    app = canary_app
    # The demo set-up of `make run`: its caseworker key is what must read everything back.
    demo_key_path = bootstrap_demo(app)
    assert demo_key_path is not None
    [demo_key] = crypto.parse_identities(demo_key_path.read_text())
    # A webhook channel, so delivery tasks are queued in Redis (no worker takes them here).
    add_webhook(
        app, DEMO_ORGANISATION, RunningReceiver("https://ngo.example/", new_secret(), temp_dir)
    )
    client = app.test_client()
    client.environ_base.update(IDENTIFYING)
    attachment = (canary.encode("utf-8") + os.urandom(4096)) * (ATTACHMENT_BYTES // 4200)

    # A report with the canary in every text field of the catalogue and in a 5 MB attachment.
    typed = {name: canary for name in text_inputs()}
    # Urgent too: its immediate notice is a task message of its own, which must carry nothing.
    fields = report_fields(
        **{**typed, "narrative": f"{canary} They told my father I must come back. " * 3},
        urgent="y",
    )
    fields["attachments"] = [file_part(attachment, f"{canary}.bin", "application/octet-stream")]
    fields["attachments_rows-0-description"] = f"{canary} the summons"
    response = post_form(client, "/report", {"csrf_token": csrf_token(client, "/report"), **fields})
    assert response.status_code == 200, response.text[:500]
    codename = codename_from(response)

    # A follow-up with the canary and a file, after coming back with the codename.
    client = app.test_client()
    client.environ_base.update(IDENTIFYING)
    assert come_back(client, codename).status_code == 302
    followup = {
        "csrf_token": csrf_token(client, "/case"),
        "message": f"{canary} and they came again to my parents' home last week.",
        "attachments": [file_part(canary.encode() * 100, "more.txt")],
    }
    assert post_form(client, "/case/followup", followup).status_code == 302

    # The reporter's address, forwarded address and browser are nowhere, even in the logs.
    # A caseworker's reply with the canary, which the reporter reads on the case page.
    with app.app_context():
        report_id = db.session().query(Report).one().id
    store_client_reply(app, report_id, f"{canary} reply")
    assert f"{canary} reply" in client.get("/case").text

    # Nothing in clear anywhere, and no temporary file was even opened for an upload.
    assert opened_temp_files == []
    assert scan_files(Path(app.instance_path), canary) >= 6
    assert scan_files(temp_dir, canary) == 0
    assert scan_database(app, canary) >= 6
    scanned = scan_redis(redis_db, canary)
    assert scanned >= 2  # the rate-limit counters, and the queue of delivery tasks
    queued = redis_db.lrange("reporting", 0, -1)
    # report document and file, follow-up document and file, and the urgent notice
    assert len(queued) == 2 + 2 + 1
    with app.app_context():
        delivery_ids = set(db.session().scalars(select(Delivery.id)))
        assert db.session().query(Report).one().urgent is True
    tasks = []
    for raw in queued:  # a task message holds a delivery id and nothing else
        envelope = json.loads(raw)
        tasks.append(envelope["headers"]["task"])
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        if envelope["headers"]["task"] == NOTIFY_URGENT_TASK:
            assert args == [] and kwargs == {}  # not even the organisation
        else:
            assert len(args) == 1 and args[0] in delivery_ids and kwargs == {}
    assert tasks.count(NOTIFY_URGENT_TASK) == 1
    captured = capfd.readouterr()
    assert_absent((captured.out + captured.err).encode("utf-8"), canary, "stdout/stderr")
    assert_absent(caplog.text.encode("utf-8"), canary, "the logs")

    # The caseworker's key opens the report, follow-up, files and reply; the reporter's key
    # only the reply.
    plaintexts = _decrypt_all_readable(app, demo_key)
    documents = [json.loads(p) for p in plaintexts.values() if p.startswith(b"{")]
    report_doc = next(d for d in documents if d["kind"] == "report")
    for path in text_inputs().values():
        assert canary in answer(report_doc, path), path
    assert report_doc["urgent"] is True
    info = report_doc["attachments"][0]
    assert info["filename"] == f"{canary}.bin" and info["size"] == len(attachment)
    assert info["description"] == f"{canary} the summons"
    assert info["sha256"] == hashlib.sha256(attachment).hexdigest()
    stored = plaintexts[info["blob"]]
    assert stored[: info["size"]] == attachment and set(stored[info["size"] :]) <= {0}
    assert any(d["kind"] == "followup" and canary in d["text"] for d in documents)
    # The reply is encrypted to the reporter and to the organisation's keys.
    assert [d["text"] for d in documents if d["kind"] == "reply"] == [f"{canary} reply"]

    reporter = crypto.parse_identity(_reporter_identity(app, codename))
    replies = _decrypt_all_readable(app, reporter)
    assert [json.loads(p)["text"] for p in replies.values()] == [f"{canary} reply"]

    # Only the right keys: a stranger's key opens nothing.
    assert _decrypt_all_readable(app, crypto.generate_identity()) == {}


def _decrypt_all_readable(app: Flask, identity: Any) -> dict[str, bytes]:
    store = app.extensions["blobs"]
    opened = {}
    for blob_id in store.ids():
        try:
            opened[blob_id] = crypto.decrypt(store.path(blob_id).read_bytes(), [identity])
        except crypto.NoIdentityMatchError:
            continue
    return opened


def _reporter_identity(app: Flask, codename: str) -> str:
    return str(crypto.derive_keys(codename, app.config["SETTINGS"].codename_salt).identity)

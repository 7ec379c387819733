"""Canary: a language switch keeps what was typed and the codename on the page, and
nowhere else (invariant 1).

A unique string goes into the report form's text fields and a file; the reporter switches
language on the form (with the file), then sends, then switches language twice on the
codename page. Neither the canary nor the codename may then be found in clear in any
database row, any file under the instance folder (blobs, their temporary folder), Redis
or the logs. Files kept across a form that came back are in clear nowhere either.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

import crypto
from reporting import create_app
from reporting.infra import db
from reporting.models import Attachment, KeptUpload
from tests.support import databases, tools
from tests.support.kept_files import kept_ids, send
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    codename_from,
    csrf_token,
    file_part,
    post_form,
    report_fields,
)
from tests.support.scans import assert_absent, scan_database, scan_files, scan_redis
from tests.support.temp_files import private_temp_dir, record_temp_files

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    tools.require_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return private_temp_dir(tmp_path, monkeypatch)


@pytest.fixture
def opened_temp_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_temp_files(monkeypatch)


@pytest.fixture
def redis_app(tmp_path: Path, database_url: str, redis_db: redis.Redis) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
        }
    )
    databases.migrate_fresh(database_url)
    return app


def test_language_switches_leave_nothing_in_clear(
    redis_app: Flask,
    redis_db: redis.Redis,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = redis_app
    caseworker: Caseworker = add_caseworker(app)
    assert caseworker.identity
    canary = f"CANARY-{uuid.uuid4().hex}-金丝雀"
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    fields = report_fields(
        narrative=f"They called my mother again and again. {canary}",
        city=canary,
        when_note=canary,
    )
    evidence = {"attachments": [file_part(f"evidence {canary}".encode(), f"{canary}.txt")]}
    switched = post_form(
        client,
        "/report",
        {"csrf_token": csrf_token(client, "/report"), **fields, **evidence, "language": "ug"},
    )
    assert switched.status_code == 200 and canary in switched.text  # back on the page only
    sent = post_form(client, "/report", {"csrf_token": csrf_token(client, "/report"), **fields})
    assert sent.status_code == 200
    codename = codename_from(sent)
    found = re.search(r'name="csrf_token" value="([^"]+)"', sent.text)
    assert found
    token = found.group(1)  # the signed-in session's, from the codename page itself
    for language in ("zh_Hans", "bo"):
        page = post_form(
            client,
            "/report/received",
            {"csrf_token": token, "codename": codename, "language": language},
        )
        assert page.status_code == 200 and codename in page.text
    # The session cookie is sealed: neither the codename nor the canary can be read off it.
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert codename.encode() not in cookie.value.encode() and "CANARY" not in cookie.value

    logs = "\n".join(record.getMessage() for record in caplog.records).encode("utf-8")
    assert_absent(logs, canary, "the logs")
    assert codename.encode() not in logs
    assert scan_database(app, canary) > 0
    assert scan_files(tmp_path / "instance", canary) > 0
    scan_redis(redis_db, canary)
    for key in redis_db.scan_iter():
        assert codename.encode() not in key
    codename_bytes = codename.encode("utf-8")
    for path in (tmp_path / "instance").rglob("*"):
        if path.is_file():
            assert codename_bytes not in path.read_bytes(), f"the codename is in {path}"
    with app.app_context():
        from sqlalchemy import inspect, text

        from reporting.infra import db

        with db.database().engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    assert codename not in repr(tuple(row)), f"the codename is in {table}"


def test_kept_files_leave_nothing_in_clear(
    redis_app: Flask,
    redis_db: redis.Redis,
    temp_dir: Path,
    opened_temp_files: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Files kept across a form that came back (reporting/intake/kept_files.py): the canary
    in a kept file's content, name and description; one removed, one sent, one left behind
    by a reporter who gave up. No temporary file is even opened for the uploads, and the
    file sent decrypts with the organisation's key, and with no other."""
    app = redis_app
    canary = f"CANARY-{uuid.uuid4().hex}-金丝雀"
    caplog.set_level(logging.DEBUG)
    caseworker = add_caseworker(app)
    content = f"evidence {canary} ".encode() * 40_000  # about 2 MB: past any memory buffer
    files = [
        file_part(content, f"{canary}.jpg", "image/jpeg"),
        file_part(f"removed {canary}".encode(), f"removed {canary}.txt"),
    ]
    described = {"attachments_rows-0-description": f"{canary} the summons"}
    client = app.test_client()
    refused = send(client, **report_fields(narrative=""), attachments=files, **described)
    assert refused.status_code == 400 and f"{canary} the summons" in refused.text
    sent_file, removed = kept_ids(refused)
    switched = send(client, **report_fields(), remove_kept=removed, language="zh_Hans")
    assert kept_ids(switched) == [sent_file]
    cookie = client.get_cookie("session")
    assert cookie is not None and "CANARY" not in cookie.value
    # Another reporter gives up, leaving a kept file for the sweep.
    (abandoned,) = kept_ids(
        send(
            app.test_client(),
            **report_fields(narrative=""),
            attachments=[file_part(f"left {canary}".encode(), f"{canary}.pdf")],
            **{"attachments_rows-0-description": f"{canary} left behind"},
        )
    )
    assert send(client, **report_fields()).status_code == 200

    assert opened_temp_files == []
    assert scan_files(Path(app.instance_path), canary) >= 3
    assert scan_files(temp_dir, canary) == 0
    assert scan_database(app, canary) > 0
    scan_redis(redis_db, canary)
    logs = "\n".join(record.getMessage() for record in caplog.records).encode("utf-8")
    assert_absent(logs, canary, "the logs")

    store = app.extensions["blobs"]
    with app.app_context():
        assert db.session().scalars(select(Attachment.blob_id)).one() == sent_file
        assert db.session().scalars(select(KeptUpload.id)).one() == abandoned
    assert removed not in set(store.ids())
    ciphertext = store.read(sent_file)
    assert crypto.decrypt(ciphertext, [caseworker.identity]).startswith(content)
    with pytest.raises(crypto.AgeError):
        crypto.decrypt(ciphertext, [crypto.generate_identity()])

"""Canary: files kept across a form that came back are in clear nowhere (invariant 1).

A unique string goes into the content, the name and the description of files that a
report form brings back twice (an error, then a language switch); one is removed, one
is sent with the report, and one is left behind by another reporter who gives up. The
canary may then be found in clear in no database row (the kept files' rows included),
no file under the instance folder or the temp folder, no Redis key or value, no log line
and not the session cookie; no temporary file is even opened for the uploads; and the
file sent with the report decrypts with the organisation's key, and with no other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

import crypto
from reporting.infra import db
from reporting.models import Attachment, KeptUpload
from tests.app.test_canary import (  # noqa: F401  (fixtures)
    canary,
    opened_temp_files,
    temp_dir,
)
from tests.app.test_kept_files import kept_ids, send
from tests.support.portal import add_caseworker, file_part, report_fields
from tests.support.scans import (
    app_with_redis,
    assert_absent,
    flushed_redis,
    scan_database,
    scan_files,
    scan_redis,
)

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def kept_redis() -> Iterator[redis.Redis]:
    yield from flushed_redis(REDIS_URL)


@pytest.fixture
def kept_app(
    tmp_path: Path,
    database_url: str,
    kept_redis: redis.Redis,
    temp_dir: Path,  # noqa: F811
) -> Flask:
    return app_with_redis(tmp_path, database_url, REDIS_URL)


def test_kept_files_leave_nothing_in_clear(
    kept_app: Flask,
    kept_redis: redis.Redis,
    canary: str,  # noqa: F811
    temp_dir: Path,  # noqa: F811
    opened_temp_files: list[str],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = kept_app
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
    scan_redis(kept_redis, canary)
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

"""Files already sent are kept when a form comes back (an error, another language).

A file arrives encrypted to the organisation's keys (uploads.py). When the form comes back
instead of being stored, the file is committed to the blob store as it is, and a
`KeptUpload` row notes it: its padded size, the hour from which the sweep may delete it,
and what the form said of it (name, type, size, digest, description) sealed under a
random key that only the reporter's sealed session cookie holds, padded to one size. The
session lists the kept files by their random blob ids; the page lists them with a
"remove" box each, and the form that is finally sent claims them for its report or
follow-up. So the server learns nothing new in clear: without the session, a row is an
opaque blob id, a padded size and an hour.

A removal names a blob id: one this session kept is deleted at once (row and file), one
it removed already is ignored (a reload), anything else is refused and nothing is stored.
A session abandoned with files kept leaves rows nobody claims: `sweep_expired` (the beat's
upload sweep, and `flask blobs sweep`) deletes them, between one and two hours after they
arrived (deploy/THREAT-MODEL.md).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import abort, current_app, request, session
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, select

from crypto import SecretBox
from crypto.primitives import KEY_SIZE, random_bytes
from reporting.infra.blobs import BlobStore, discarded_on_failure
from reporting.infra.db import Database
from reporting.intake.submissions import KeptFile, Upload, described
from reporting.intake.uploads import UploadTooLarge
from reporting.models import KeptUpload
from reporting.web.inputs import not_as_sent

SESSION_KEY = "kept_files"
REPORT_SCOPE = "report"
REMOVE_FIELD = "remove_kept"  # the page's checkboxes: one per kept file, its blob id
# A kept file is deleted from the start of the hour after this many whole hours.
MAX_AGE_HOURS = 1
# Every sealed description is this long, so its length says nothing of the file's name.
SEALED_PLAINTEXT_BYTES = 8192  # above the longest (255-character name and type, escaped)


@dataclass(frozen=True)
class Kept:
    """This session's kept files now, and how many of those it listed were swept meanwhile."""

    files: list[KeptFile]
    gone: int = 0


def _state(scope: str) -> tuple[bytes | None, list[str], list[str]]:
    """The session's key, kept ids and removed ids for the form `scope` names (a new report,
    or a follow-up to one report: its files are encrypted to that report's organisation);
    anything else or malformed reads as nothing."""
    noted = session.get(SESSION_KEY)
    if not isinstance(noted, dict) or noted.get("scope") != scope:
        return None, [], []
    try:
        key = bytes.fromhex(noted["key"])
        ids = [i for i in noted["ids"] if isinstance(i, str)]
        removed = [i for i in noted["removed"] if isinstance(i, str)]
    except (KeyError, TypeError, ValueError):
        return None, [], []
    return (key if len(key) == KEY_SIZE else None), ids, removed


def _save(scope: str, key: bytes, ids: list[str], removed: list[str]) -> None:
    session[SESSION_KEY] = {"scope": scope, "key": key.hex(), "ids": ids, "removed": removed[-20:]}


def followup_scope(report_id: str) -> str:
    """A follow-up's files are kept for that report only (they are encrypted to its
    organisation, which may not be the portal's)."""
    return f"followup {report_id}"


def _box(key: bytes, blob_id: str) -> SecretBox:
    # The blob id is the box's purpose (its associated data): a sealed row moved under
    # another id does not open.
    return SecretBox(key, f"kept-upload {blob_id}")


def _seal(key: bytes, file: KeptFile) -> bytes:
    about = {
        "name": file.filename,
        "type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "description": file.description,
    }
    plain = json.dumps(about, ensure_ascii=False).encode("utf-8")
    return _box(key, file.blob_id).seal(plain.ljust(SEALED_PLAINTEXT_BYTES, b" "))


def _open(key: bytes, row: KeptUpload) -> KeptFile | None:
    plain = _box(key, row.id).open(row.sealed)
    if plain is None:
        return None
    about = json.loads(plain)
    return KeptFile(
        row.id,
        row.stored_size,
        str(about["name"]),
        str(about["type"]),
        int(about["size"]),
        str(about["sha256"]),
        str(about["description"]),
    )


def _store() -> BlobStore:
    store: BlobStore = current_app.extensions["blobs"]
    return store


def _delete(database: Database, store: BlobStore, where: ColumnElement[bool]) -> int:
    """Delete the rows that match, then their files: a claimed row is no longer there."""
    with database.transaction() as db:
        ids = list(db.scalars(delete(KeptUpload).where(where).returning(KeptUpload.id)))
    for blob_id in ids:
        store.remove(blob_id)
    return len(ids)


def current(database: Database, scope: str) -> Kept:
    """This session's kept files, less those the sent form ticked to remove (deleted now).

    A removal of a file this session never kept is refused (400) before anything changes.
    """
    key, ids, removed = _state(scope)
    asked = request.form.getlist(REMOVE_FIELD) if request.method == "POST" else []
    if any(blob_id not in ids and blob_id not in removed for blob_id in asked):
        abort(400, description=not_as_sent())
    removing = [blob_id for blob_id in ids if blob_id in asked]
    if removing:
        _delete(database, _store(), KeptUpload.id.in_(removing))
    ids = [blob_id for blob_id in ids if blob_id not in removing]
    if key is None or not (ids or removing):
        return Kept([])
    with database.transaction() as db:
        rows = {row.id: row for row in db.scalars(select(KeptUpload).where(KeptUpload.id.in_(ids)))}
        opened = [_open(key, rows[i]) if i in rows else None for i in ids]
    files = [f for f in opened if f is not None]
    _save(scope, key, [f.blob_id for f in files], removed + removing)
    return Kept(files, len(ids) - len(files))


def _expires_hour(now: float) -> int:
    return math.ceil(now / 3600) + MAX_AGE_HOURS


def keep(
    database: Database, scope: str, uploads: Sequence[Upload], now: float | None = None
) -> list[KeptFile]:
    """Keep the files of a form that comes back, for this session; as the page lists them."""
    if not uploads:
        return []
    key, ids, removed = _state(scope)
    key = key or random_bytes(KEY_SIZE)
    expires = _expires_hour(time.time() if now is None else now)
    with discarded_on_failure(u.sink for u in uploads):
        files = [described(upload, upload.sink.commit()) for upload in uploads]
        rows = [
            KeptUpload(
                id=f.blob_id, stored_size=f.stored_size, sealed=_seal(key, f), expires_hour=expires
            )
            for f in files
        ]
        with database.transaction() as db:
            db.add_all(rows)
    _save(scope, key, [*ids, *(f.blob_id for f in files)], removed)
    return files


def check_count(kept: Sequence[KeptFile], uploads: Sequence[Upload]) -> None:
    """Kept files count towards the limit on files sent together."""
    limit = current_app.config["SETTINGS"].limits.max_files
    if len(kept) + len(uploads) > limit:
        raise UploadTooLarge(_("Please send at most %(count)d files at a time.", count=limit))


def sweep_expired(database: Database, store: BlobStore, now: float | None = None) -> int:
    """Delete the kept files no report claimed in time (abandoned sessions); how many went."""
    hour = math.floor((time.time() if now is None else now) / 3600)
    return _delete(database, store, KeptUpload.expires_hour <= hour)

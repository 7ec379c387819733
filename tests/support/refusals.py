"""A refusal stores nothing: snapshots of rows, blobs and instance files, and the error page
the refused request gets."""

from __future__ import annotations

import html
import re

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from reporting.infra import db
from reporting.infra.blobs import BlobStore
from reporting.infra.config import CODENAME_SALT_FILE, DATABASE_FILE, SECRET_KEY_FILE
from reporting.models import Attachment, Blob, Message, Report

MODELS = {"reports": Report, "messages": Message, "attachments": Attachment, "blobs": Blob}


# What the instance folder may hold besides blobs: the secrets, and a SQLite database.
INSTANCE_FILES = {SECRET_KEY_FILE, CODENAME_SALT_FILE}


def stored_rows(app: Flask) -> dict[str, int]:
    """How many rows each table of a submission holds."""
    with app.app_context():
        session = db.session()
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in MODELS.items()
        }


def stored_state(app: Flask) -> tuple[dict[str, int], set[str]]:
    """Rows and stored blob ids, to compare before and after a refused request."""
    return stored_rows(app), set(blob_store(app).ids())


def blob_store(app: Flask) -> BlobStore:
    store: BlobStore = app.extensions["blobs"]
    return store


def unexpected_instance_files(app: Flask) -> list[str]:
    """Files under the instance folder that are neither secrets, a database nor a blob."""
    instance = app.config["SETTINGS"].instance_path
    store = blob_store(app)
    blobs = {store.path(blob_id) for blob_id in store.ids()}
    return sorted(
        str(path.relative_to(instance))
        for path in instance.rglob("*")
        if path.is_file()
        and path not in blobs
        and path.name not in INSTANCE_FILES
        and not path.name.startswith(DATABASE_FILE)
    )


def assert_no_leftovers(app: Flask) -> None:
    """No temporary (unfinished) blob and no stray file anywhere under the instance folder."""
    assert blob_store(app).temporary_files() == []
    assert unexpected_instance_files(app) == []


def assert_nothing_stored(app: Flask) -> None:
    """No row, no blob, no temporary file, no new file under the instance folder."""
    assert stored_rows(app) == dict.fromkeys(MODELS, 0)
    assert list(blob_store(app).ids()) == []
    assert_no_leftovers(app)


def assert_nothing_more_stored(app: Flask, before: tuple[dict[str, int], set[str]]) -> None:
    """Like `assert_nothing_stored`, for a test that stored a report on purpose first."""
    assert stored_state(app) == before
    assert_no_leftovers(app)


def page_text(response: TestResponse) -> str:
    """The page with entities decoded and whitespace folded, for looking for phrases."""
    return " ".join(html.unescape(response.text).split())


def assert_error_page(response: TestResponse, status: int, *phrases: str) -> None:
    """Our error page (errors.html inside the site layout), saying each of `phrases`."""
    assert response.status_code == status, page_text(response)[:2000]
    assert response.mimetype == "text/html"
    text = response.text
    assert re.search(r"<h1>[^<]+</h1>", text), "no heading"
    assert f'<p class="error-code">Error {status}</p>' in text
    # The site layout, not Werkzeug's bare "<title>400 Bad Request</title>" page.
    assert '<main id="main"' in text
    assert "site-footer" in text
    readable = page_text(response)
    for phrase in phrases:
        assert phrase in readable


def assert_refused(response: TestResponse, status: int) -> None:
    """Our error page, or the form again with an error summary; either way, our layout."""
    assert response.status_code == status, page_text(response)[:2000]
    assert response.mimetype == "text/html"
    text = response.text
    assert re.search(r"<h1>[^<]+</h1>", text), "no heading"
    assert '<main id="main"' in text
    assert (
        f'<p class="error-code">Error {status}</p>' in text
        or 'class="error-summary" role="alert"' in text
    ), "neither an error page nor a form with errors"

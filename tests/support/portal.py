"""Helpers for driving the reporter pages through the test client."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, stream_encode_multipart

import crypto
from protocol import catalogue
from protocol.catalogue import Kind
from reporting.infra import db
from reporting.organisations.recipients import add_recipient, create_organisation

BOUNDARY = "----test-boundary-7f3a9c"
NARRATIVE = (
    "Two men who said they were from the public security bureau of my home town called my "
    "mother and told her I must come back."
)


@dataclass
class Caseworker:
    organisation_name: str
    identity: Any


def add_caseworker(app: Flask, name: str = "Test organisation") -> Caseworker:
    """An organisation with one caseworker key; returns the private key for decrypting."""
    identity = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        organisation = create_organisation(session, name)
        add_recipient(session, organisation, str(identity.recipient), "test caseworker")
    return Caseworker(name, identity)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path` (it lives in the session cookie)."""
    page = client.get(path)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def report_fields(**overrides: Any) -> dict[str, Any]:
    """A valid report form, with the given fields replaced."""
    fields: dict[str, Any] = {
        "narrative": NARRATIVE,
        "consent": "none",
        "reply_language": "zh_Hans",
    }
    fields.update(overrides)
    return fields


def file_part(content: bytes, name: str = "evidence.txt", mimetype: str = "text/plain") -> Any:
    return (io.BytesIO(content), name, mimetype)


def multipart(data: dict[str, Any]) -> tuple[bytes, str]:
    """Encode a form in memory (Werkzeug's test client would spool a large body to a temp
    file, which the canary test must be able to tell apart from the server's)."""
    values = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                stream, filename, mimetype = item
                item = FileStorage(stream, filename=filename, content_type=mimetype)
            values.add(key, item)
    body = stream_encode_multipart(values, use_tempfile=False, boundary=BOUNDARY)[0]
    return body.read(), f"multipart/form-data; boundary={BOUNDARY}"


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    """POST a multipart form built in memory."""
    body, content_type = multipart(data)
    return client.post(path, data=body, content_type=content_type)


def submit_report(client: FlaskClient, **fields: Any) -> TestResponse:
    """Fetch the form for its CSRF token and send a report."""
    data = {"csrf_token": csrf_token(client, "/report"), **report_fields(**fields)}
    return post_form(client, "/report", data)


def codename_from(page: TestResponse) -> str:
    match = re.search(r'id="codename"[^>]*>\s*([^<]+?)\s*<', page.text)
    assert match, "no codename on the page"
    return match.group(1)


def come_back(client: FlaskClient, codename: str) -> TestResponse:
    data = {"csrf_token": csrf_token(client, "/return"), "codename": codename}
    return client.post("/return", data=data)


def text_inputs() -> dict[str, str]:
    """Every free-text input of the report form (its posted name) and the catalogue path its
    answer is stored under; a repeated group's first entry stands for all of them."""
    inputs = {}
    for field in catalogue.walk():
        if field.retired or not field.form_name:
            continue
        if field.kind is Kind.PLACE:  # its free text (a registry choice is not the reporter's)
            inputs[f"{field.form_name}-other"] = field.path
            continue
        if field.kind not in (Kind.TEXT, Kind.LONG_TEXT, Kind.DATE):
            continue
        parent = field.path.rpartition(".")[0]
        group = catalogue.field(parent) if parent else None
        name = (
            f"{group.form_name}-0-{field.form_name}"
            if group and group.max_entries
            else field.form_name
        )
        inputs[name] = field.path
    return inputs


def only_kept_blobs(app: Flask) -> bool:
    """No blob but the files kept for a form that came back (reporting/intake/kept_files.py):
    those are the session's until the form is sent or the sweep takes them, not a half-stored
    submission."""
    from sqlalchemy import select

    from reporting.models import KeptUpload

    with app.app_context():
        kept = set(db.session().scalars(select(KeptUpload.id)))
    return set(app.extensions["blobs"].ids()) <= kept

"""The JSON API as tests drive it: two organisations with a report each, calls with a
token, and a snapshot that shows a refused call stored nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reporting.infra import db
from reporting.intake.submissions import Receipt, Upload, store_report
from reporting.models import (
    AuditEntry,
    Blob,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    Message,
    OrganisationRecipient,
    Partner,
    Report,
    ReportRead,
)
from reporting.organisations.recipients import find_organisation, recipients_of
from tests.support.casework import Account, api_token, bearer, make_account
from tests.support.portal import come_back

API = "/api/v1"


OTHER = "Other organisation"


@dataclass
class World:
    """Two organisations: alice and bob at ours, mallory at the other; a report at each."""

    alice: Account
    bob: Account
    mallory: Account
    token: str  # alice's
    report: Receipt
    other_report: Receipt


def file_report(
    app: Flask, organisation_name: str, consent: str | None = "none", files: int = 0
) -> Receipt:
    """A report filed with an organisation as the portal would (encrypted to its keys)."""
    with app.app_context():
        dbs = db.session()
        organisation = find_organisation(dbs, organisation_name)
        assert organisation is not None
        recipients = recipients_of(organisation)
        store = app.extensions["blobs"]
        uploads = []
        for i in range(files):
            sink = store.writer(recipients)
            sink.write(f"evidence {i}".encode())
            uploads.append(Upload(sink, f"photo-{i}.jpg", "image/jpeg"))
        fields = {"narrative": "They called my mother again.", "reply_language": "en"}
        if consent is not None:
            fields["consent"] = consent
        return store_report(
            db.database(),
            store,
            organisation,
            recipients,
            fields,
            uploads,
            app.config["SETTINGS"].codename_salt,
            "en",
        )


def add_partner(
    app: Flask,
    organisation_id: str,
    name: str,
    key: Any = None,
    channels: tuple[tuple[ChannelKind, str, bool], ...] = (),
) -> int:
    """A partner of an organisation with the given (kind, target, enabled) channels."""
    with app.app_context(), db.database().transaction() as dbs:
        partner = Partner(
            organisation_id=organisation_id,
            name=name,
            recipients=f"{key.recipient}\n" if key else "",
        )
        dbs.add(partner)
        dbs.flush()
        for kind, target, enabled in channels:
            dbs.add(
                DeliveryChannel(
                    organisation_id=organisation_id,
                    kind=kind,
                    target=target,
                    secret="whsec_" + "A" * 43 if kind is ChannelKind.WEBHOOK else "",
                    enabled=enabled,
                    partner_id=partner.id,
                )
            )
        return partner.id


def make_world(app: Flask, consent: str | None = "none") -> World:
    alice = make_account(app, "alice")
    bob = make_account(app, "bob")
    mallory = make_account(app, "mallory", OTHER)
    report = file_report(app, alice.organisation_name, consent, files=1)
    other = file_report(app, OTHER, "full")
    return World(alice, bob, mallory, api_token(app, alice), report, other)


def call(client: FlaskClient, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = bearer(token) if token else {}
    return client.open(f"{API}{path}", method=method, headers=headers, **kw)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)) or 0)


def audit_actions(app: Flask) -> list[tuple[str, str | None, str]]:
    with app.app_context():
        rows = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.actor_id, r.detail) for r in rows]


def snapshot(app: Flask) -> dict[str, Any]:
    """Rows and blob files, to show that a refusal stored nothing."""
    models = (Message, Blob, Delivery, AuditEntry, OrganisationRecipient, ReportRead)
    counts: dict[str, Any] = {m.__name__: count(app, m) for m in models}
    store = app.extensions["blobs"]
    counts["files"] = sorted(store.ids())
    counts["temporary"] = store.temporary_files()
    with app.app_context():
        counts["reports"] = [
            (r.id, str(r.status), r.severity, r.assignee_id, r.status_note_blob_id)
            for r in db.session().scalars(select(Report).order_by(Report.id))
        ]
    return counts


def assert_json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"]
    return body


def reporter_page(app: Flask, codename: str) -> str:
    """The case page as the reporter sees it on coming back with the codename."""
    reporter = app.test_client()
    assert come_back(reporter, codename).status_code == 302
    page = reporter.get("/case")
    assert page.status_code == 200
    return page.text


def shown_messages(page: str) -> list[str]:
    return re.findall(r'class="message message-(\w+)"', page)

"""E-mail delivery end to end: a report's ciphertext through `worker.delivery.attempt` to a real
SMTP server (aiosmtpd on 127.0.0.1), and the content-free "new reports" notices.

What matters: one message per blob, each with an armored age file that decrypts with the
caseworker's key; nothing the reporter wrote (narrative, file name, city) in a subject, a body
or any header; a permanent SMTP refusal kills the delivery at once, a temporary one is retried;
notices go once per organisation that asked for them, and never say anything about a report.
"""

from __future__ import annotations

import dataclasses
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import crypto
from reporting.infra import db
from reporting.infra.config import DeliverySettings
from reporting.models import ChannelKind, Delivery, DeliveryChannel, DeliveryState, Organisation
from reporting.organisations.recipients import create_organisation, find_organisation
from tests.support.delivery_fixtures import mail_app
from tests.support.portal import Caseworker, add_caseworker, file_part, submit_report
from tests.support.smtp import SENDER, Smtp
from worker import delivery, notify

TRIAGE = "triage@ngo.example"
CANARY = "canary-5e1f0c2a9b7d"
NARRATIVE = (
    f"They followed me home after the meeting and photographed my door ({CANARY}-narrative). "
    "Then my mother got a call."
)
CITY = f"Canaryville-{CANARY}"
FILENAME = f"{CANARY}-photo.txt"
FILE_BYTES = f"the photo itself ({CANARY}-file)".encode()
CANARIES = (CANARY, f"{CANARY}-narrative", CITY, FILENAME, "Canaryville")


@pytest.fixture
def app(tmp_path: Path, database_url: str, smtp: Smtp) -> Flask:
    # No broker: queueing fails fast; the tests attempt deliveries themselves.
    return mail_app(tmp_path, database_url, smtp.url, REDIS_URL="redis://127.0.0.1:9/0")


@pytest.fixture
def caseworker(app: Flask) -> Caseworker:
    caseworker = add_caseworker(app)
    with app.app_context(), db.database().transaction() as session:
        session.add(
            DeliveryChannel(
                organisation=find_organisation(session, caseworker.organisation_name),
                kind=ChannelKind.EMAIL,
                target=TRIAGE,
            )
        )
    return caseworker


def _settings(app: Flask) -> DeliverySettings:
    settings: DeliverySettings = app.config["SETTINGS"].delivery
    return settings


def _deliveries(app: Flask) -> list[Delivery]:
    with app.app_context():
        return list(db.session().scalars(select(Delivery).order_by(Delivery.part)))


def _attempt_all(app: Flask, settings: DeliverySettings | None = None) -> list[Any]:
    with app.app_context():
        return [
            delivery.attempt(
                db.database(), app.extensions["blobs"], settings or _settings(app), row.id
            )
            for row in _deliveries(app)
        ]


def _submit(app: Flask) -> None:
    response = submit_report(
        app.test_client(),
        narrative=NARRATIVE,
        city=CITY,
        attachments=[file_part(FILE_BYTES, name=FILENAME)],
    )
    assert response.status_code == 200


def _assert_no_canary(message: EmailMessage, raw: bytes) -> None:
    """Nothing from the report in the subject, the body, any header, or anywhere in the
    raw message (the attachment is ciphertext, so it cannot hold a canary either)."""
    texts = [str(message["Subject"]), *(f"{k}: {v}" for k, v in message.items())]
    for part in message.walk():
        texts += [f"{k}: {v}" for k, v in part.items()]
        if part.get_content_type() == "text/plain":
            texts.append(part.get_content())
    for canary in CANARIES:
        assert not any(canary in text for text in texts), canary
        assert canary.encode() not in raw, canary


@pytest.mark.slow
def test_each_blob_is_mailed_once_armored_and_content_free(
    app: Flask, smtp: Smtp, caseworker: Caseworker
) -> None:
    _submit(app)
    rows = _deliveries(app)
    assert [(d.part, d.state) for d in rows] == [(0, "pending"), (1, "pending")]

    assert _attempt_all(app) == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
    envelopes = smtp.mailbox.envelopes
    assert len(envelopes) == 2
    assert all(e.mail_from == SENDER and e.rcpt_tos == [TRIAGE] for e in envelopes)

    by_name: dict[str, bytes] = {}
    for envelope, message in zip(envelopes, smtp.mailbox.messages(), strict=True):
        assert (message["From"], message["To"]) == (SENDER, TRIAGE)
        body, attachment = message.iter_parts()
        assert body.get_content_type() == "text/plain"
        assert attachment.get_content_disposition() == "attachment"
        armored = attachment.get_content()
        assert armored.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
        by_name[attachment.get_filename()] = armored
        _assert_no_canary(message, envelope.original_content)
    assert set(by_name) == {f"{d.idempotency_id}.age" for d in rows}

    document = json.loads(
        crypto.decrypt(by_name[f"{rows[0].idempotency_id}.age"], [caseworker.identity])
    )
    assert document["kind"] == "report"
    assert CANARY in document["narrative"] and document["where"]["city"] == CITY
    [info] = document["attachments"]
    assert info["filename"] == FILENAME
    attachment_plain = crypto.decrypt(
        by_name[f"{rows[1].idempotency_id}.age"], [caseworker.identity]
    )
    assert attachment_plain[: info["size"]] == FILE_BYTES
    assert set(attachment_plain[info["size"] :]) <= {0}  # zero padding only

    # Done is done: a duplicate task sends nothing more.
    assert _attempt_all(app) == [None, None]
    assert len(smtp.mailbox.envelopes) == 2
    assert all(d.state == "delivered" and d.attempts == 1 for d in _deliveries(app))


@pytest.mark.slow
def test_a_permanent_refusal_kills_the_delivery_at_once(
    app: Flask, smtp: Smtp, caseworker: Caseworker
) -> None:
    smtp.mailbox.rcpt_reply = "550 5.1.1 no such user"
    _submit(app)
    assert _attempt_all(app) == [DeliveryState.DEAD, DeliveryState.DEAD]
    rows = _deliveries(app)
    assert all(d.attempts == 1 and d.due_at is None for d in rows)
    assert all(d.last_error == "SMTP 550 recipient refused" for d in rows)
    assert smtp.mailbox.envelopes == []


@pytest.mark.slow
def test_a_temporary_refusal_is_retried(app: Flask, smtp: Smtp, caseworker: Caseworker) -> None:
    smtp.mailbox.rcpt_reply = "451 4.3.0 try again later"
    _submit(app)
    assert _attempt_all(app) == [DeliveryState.FAILED, DeliveryState.FAILED]
    rows = _deliveries(app)
    assert all(d.last_error == "SMTP 451 recipient refused" for d in rows)
    assert all(d.due_at is not None and d.lease_until is None for d in rows)
    with app.app_context(), db.database().transaction() as session:
        for row in session.scalars(select(Delivery)):
            row.due_at = None  # as if the backoff had passed
    with app.app_context():
        due = delivery.due_for_queueing(db.database(), _settings(app))
    assert sorted(due) == sorted(d.id for d in rows)

    smtp.mailbox.rcpt_reply = "250 OK"
    assert _attempt_all(app) == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
    assert all(d.attempts == 2 and d.last_error == "" for d in _deliveries(app))
    assert len(smtp.mailbox.envelopes) == 2


@pytest.mark.slow
def test_without_smtp_an_email_delivery_is_dead_with_a_reason(
    app: Flask, smtp: Smtp, caseworker: Caseworker
) -> None:
    _submit(app)
    no_smtp = dataclasses.replace(_settings(app), smtp_url=None)
    assert _attempt_all(app, no_smtp) == [DeliveryState.DEAD, DeliveryState.DEAD]
    assert all("REPORTING_SMTP_URL" in d.last_error for d in _deliveries(app))
    assert smtp.mailbox.envelopes == []


@pytest.mark.slow
def test_an_address_the_channel_refuses_makes_the_delivery_dead(
    app: Flask, smtp: Smtp, caseworker: Caseworker
) -> None:
    with app.app_context(), db.database().transaction() as session:
        # Set behind `flask org add-email`'s back (it refuses this now); the channel refuses it.
        session.scalars(select(DeliveryChannel)).one().target = "triage<x>@ngo.example"
    _submit(app)
    assert _attempt_all(app) == [DeliveryState.DEAD, DeliveryState.DEAD]
    rows = _deliveries(app)
    assert all(d.attempts == 1 and d.lease_until is None for d in rows)
    assert all(d.last_error and "triage" not in d.last_error for d in rows)
    assert smtp.mailbox.envelopes == []


# Notices


def _organisation(app: Flask, name: str) -> Organisation:
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, name)
        assert organisation is not None
        return organisation


def _set(app: Flask, name: str, **values: Any) -> None:
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, name)
        for key, value in values.items():
            setattr(organisation, key, value)


def _send_notices(app: Flask, settings: DeliverySettings | None = None) -> int:
    with app.app_context():
        return notify.send_due_notices(db.database(), settings or _settings(app))


@pytest.fixture
def organisations(app: Flask, caseworker: Caseworker) -> Caseworker:
    """The receiving organisation (notices to its address), and two more: one with something
    due but no notice address, one with an address but nothing due."""
    with app.app_context(), db.database().transaction() as session:
        create_organisation(session, "Quiet partner").notification_due = True
        create_organisation(session, "Idle partner").notify_email = "idle@partner.example"
    _set(app, caseworker.organisation_name, notify_email="alerts@ngo.example")
    return caseworker


@pytest.mark.slow
def test_a_submission_makes_a_notice_due(app: Flask, caseworker: Caseworker) -> None:
    assert _organisation(app, caseworker.organisation_name).notification_due is False
    _submit(app)
    assert _organisation(app, caseworker.organisation_name).notification_due is True


@pytest.mark.slow
def test_one_content_free_notice_per_organisation_that_asked(
    app: Flask, smtp: Smtp, organisations: Caseworker
) -> None:
    name = organisations.organisation_name
    _submit(app)
    assert _send_notices(app) == 1
    [envelope] = smtp.mailbox.envelopes
    assert envelope.rcpt_tos == ["alerts@ngo.example"]
    [message] = smtp.mailbox.messages()
    assert not message.is_multipart()  # no attachment, ciphertext or otherwise
    assert name in message["Subject"]
    _assert_no_canary(message, envelope.original_content)
    body = message.get_content()
    report_ids = {d.report_id for d in _deliveries(app)}
    assert report_ids and not any(r in body or r in message["Subject"] for r in report_ids)

    assert _organisation(app, name).notification_due is False
    assert _organisation(app, "Quiet partner").notification_due is True  # no address: kept
    assert _organisation(app, "Idle partner").notification_due is False

    assert _send_notices(app) == 0
    assert len(smtp.mailbox.envelopes) == 1


@pytest.mark.slow
def test_a_refused_notice_stays_due(app: Flask, smtp: Smtp, organisations: Caseworker) -> None:
    _submit(app)
    smtp.mailbox.rcpt_reply = "451 4.3.0 try again later"
    assert _send_notices(app) == 0
    assert _organisation(app, organisations.organisation_name).notification_due is True
    smtp.mailbox.rcpt_reply = "250 OK"
    assert _send_notices(app) == 1
    assert _organisation(app, organisations.organisation_name).notification_due is False


@pytest.mark.slow
def test_without_smtp_no_notice_is_sent_and_the_flag_stays(
    app: Flask, smtp: Smtp, organisations: Caseworker
) -> None:
    _submit(app)
    assert _send_notices(app, dataclasses.replace(_settings(app), smtp_url=None)) == 0
    assert smtp.mailbox.envelopes == []
    assert _organisation(app, organisations.organisation_name).notification_due is True


@pytest.mark.slow
def test_one_bad_notice_address_does_not_stop_the_others(
    app: Flask, smtp: Smtp, organisations: Caseworker
) -> None:
    _set(app, "Quiet partner", notify_email="not an address")
    _submit(app)
    assert _send_notices(app) == 1
    assert len(smtp.mailbox.envelopes) == 1
    assert _organisation(app, organisations.organisation_name).notification_due is False
    assert _organisation(app, "Quiet partner").notification_due is True

"""Replies, notes, the status note and escalations: ciphertext made by the client."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from reporting.accounts.signin import api_caseworker, token_required
from reporting.casework.api import bp
from reporting.casework.api.bodies import json_object, limits, string_field
from reporting.casework.api.ciphertext_form import read_ciphertext_form
from reporting.casework.api.errors import fail
from reporting.casework.api.reports import own_report
from reporting.casework.api.shapes import blob_json, message_json
from reporting.casework.messages import (
    BadCiphertext,
    ConsentRefused,
    NotDeliverable,
    PartnerNotFound,
    check_consent,
    set_client_status_note,
    store_client_message,
    store_escalation,
)
from reporting.infra import db
from reporting.infra.queue import send_deliveries
from reporting.intake.uploads import blob_store
from reporting.models import Blob, Message, MessageKind
from reporting.web.inputs import FILE, FILES, TEXT

# The multipart body of an escalation (docs/caseworker-api.md).
ESCALATION_PARTS = {"partner": TEXT, "document": FILE, "attachment": FILES}


def _ciphertext() -> str:
    """The armored age text of a JSON message, within the message size limit."""
    max_bytes = limits().max_message_bytes
    return string_field(json_object(max_bytes), "ciphertext", max_bytes)


def _refuse_ciphertext(refused: BadCiphertext) -> Any:
    fail(400, "bad_ciphertext", f"{refused.message} Nothing was stored.", fields=["ciphertext"])


def _stored(message_id: str) -> dict[str, Any]:
    """A message just stored, as JSON, read back in this request's session."""
    dbs = db.session()
    dbs.expire_all()  # rows read before the write (the report, its messages) are stale now
    return message_json(dbs.get_one(Message, message_id))


def _post_message(report_id: str, kind: MessageKind) -> Any:
    report = own_report(report_id)
    ciphertext = _ciphertext()
    try:
        message = store_client_message(
            db.database(), blob_store(), api_caseworker(), report, kind, ciphertext
        )
    except BadCiphertext as refused:
        _refuse_ciphertext(refused)
    return jsonify(message=_stored(message.id)), 201


@bp.post("/reports/<report_id>/replies")
@token_required
def reply(report_id: str) -> Any:
    return _post_message(report_id, MessageKind.REPLY)


@bp.post("/reports/<report_id>/notes")
@token_required
def note(report_id: str) -> Any:
    return _post_message(report_id, MessageKind.NOTE)


@bp.put("/reports/<report_id>/status-note")
@token_required
def put_status_note(report_id: str) -> Any:
    report = own_report(report_id)
    ciphertext = _ciphertext()
    try:
        blob_id = set_client_status_note(
            db.database(), blob_store(), api_caseworker(), report, ciphertext
        )
    except BadCiphertext as refused:
        _refuse_ciphertext(refused)
    dbs = db.session()
    dbs.expire_all()
    return jsonify(status_note=blob_json(dbs.get_one(Blob, blob_id)))


@bp.delete("/reports/<report_id>/status-note")
@token_required
def delete_status_note(report_id: str) -> Any:
    report = own_report(report_id)
    set_client_status_note(db.database(), blob_store(), api_caseworker(), report, None)
    return jsonify(status_note=None)


@bp.post("/reports/<report_id>/escalations")
@token_required
def escalate(report_id: str) -> Any:
    report = own_report(report_id)
    try:
        check_consent(report)  # before reading a byte of the body
    except ConsentRefused as refused:
        fail(409, "consent_refused", refused.message)
    form = read_ciphertext_form(max_parts=1 + limits().max_files, expected=ESCALATION_PARTS)
    try:
        documents = form.writers("document")
        if len(documents) != 1:
            fail(400, message="Send exactly one file part called 'document'.", fields=["document"])
        partner = form.form.get("partner", "")
        if not partner:
            fail(400, message="Name the partner: the form field 'partner'.", fields=["partner"])
        message, delivery_ids = store_escalation(
            db.database(),
            blob_store(),
            api_caseworker(),
            report,
            partner,
            documents[0],
            form.writers("attachment"),
        )
    except ConsentRefused as refused:
        fail(409, "consent_refused", refused.message)
    except PartnerNotFound as refused:
        fail(404, "not_found", refused.message)
    except NotDeliverable as refused:
        fail(422, "invalid", refused.message, fields=["partner"])
    except BadCiphertext as refused:
        fail(400, "bad_ciphertext", f"{refused.message} Nothing was stored.")
    finally:
        form.close()
    send_deliveries(delivery_ids)
    return jsonify(message=_stored(message.id), deliveries=len(delivery_ids)), 201

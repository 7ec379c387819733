"""The organisation's reports: list, fetch (marks read), download ciphertext, set triage."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from reporting.accounts.audit import Action, about, record
from reporting.accounts.signin import api_caseworker, token_required
from reporting.casework.api import bp
from reporting.casework.api.bodies import json_object
from reporting.casework.api.errors import fail
from reporting.casework.api.shapes import history_json, report_json
from reporting.casework.downloads import ciphertext_response
from reporting.casework.triage import (
    UNSET,
    TriageError,
    find_report,
    list_reports,
    locate_blob,
    mark_read,
    parse_filters,
    record_download,
    summarise,
    update_triage,
)
from reporting.infra import db
from reporting.intake.uploads import blob_store
from reporting.models import Report

TRIAGE_FIELDS = ("status", "severity", "assignee", "tags")
NOT_FOUND = "No such report in your organisation."


def own_report(report_id: str) -> Report:
    """The caseworker's organisation's report, or 404 (the same for another's and none)."""
    report = find_report(db.session(), api_caseworker(), report_id)
    if report is None:
        fail(404, "not_found", NOT_FOUND)
    return report


def invalid(error: TriageError) -> Any:
    fields = [error.field] if error.field else []
    fail(422, "invalid", error.message, fields=fields)


@bp.get("/reports")
@token_required
def reports() -> Any:
    try:
        filters = parse_filters(request.args)
    except TriageError as error:
        invalid(error)
    summaries, counts = list_reports(db.session(), api_caseworker(), filters)
    return jsonify(reports=[s.as_json() for s in summaries], counts=counts.as_json())


@bp.get("/reports/<report_id>")
@token_required
def report(report_id: str) -> Any:
    dbs = db.session()
    caseworker = api_caseworker()
    found = own_report(report_id)
    mark_read(dbs, caseworker, found)
    record(dbs, Action.VIEW, actor=caseworker, target=found.id)
    dbs.commit()
    return jsonify(report_json(summarise(dbs, caseworker, found), found))


@bp.get("/reports/<report_id>/history")
@token_required
def history(report_id: str) -> Any:
    """Who did what to the report, to the hour: the audit log's entries on it."""
    found = own_report(report_id)
    entries = about(db.session(), found.organisation_id, found.id)
    return jsonify(history=[history_json(entry) for entry in entries])


@bp.get("/reports/<report_id>/blobs/<blob_id>")
@token_required
def blob(report_id: str, blob_id: str) -> Any:
    dbs = db.session()
    found = own_report(report_id)
    located = locate_blob(dbs, found, blob_id)
    if located is None:
        fail(404, "not_found", "No such file in this report.")
    stored, name = located
    path = blob_store().path(stored.id)
    if not path.is_file():
        fail(404, "not_found", "This file is no longer stored (it may have been purged).")
    record_download(dbs, api_caseworker(), found, stored.id)
    dbs.commit()
    return ciphertext_response(path, name)


@bp.patch("/reports/<report_id>")
@token_required
def triage(report_id: str) -> Any:
    found = own_report(report_id)
    body = json_object()
    unknown = sorted(set(body) - set(TRIAGE_FIELDS))
    if unknown:
        fail(400, message=f"Unknown fields: {', '.join(unknown)}.", fields=unknown)
    dbs = db.session()
    caseworker = api_caseworker()
    changes = {name: body.get(name, UNSET) for name in TRIAGE_FIELDS}
    try:
        update_triage(dbs, caseworker, found, **changes)
    except TriageError as error:
        dbs.rollback()
        invalid(error)
    dbs.commit()
    return jsonify(summarise(dbs, caseworker, found).as_json())

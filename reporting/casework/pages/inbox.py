"""The triage inbox: the organisation's reports, one report's triage page, and downloads
of its ciphertext.

The pages show metadata only; a caseworker reads a report on their own machine, with
`reporting-caseworker show` or the stock `age` command. Every view is scoped to the
caseworker's organisation: another organisation's report is a 404, like a missing one.
The work is done by reporting/casework/triage/; the views translate HTTP to it and back.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reporting.accounts.audit import Action, record
from reporting.accounts.signin import current_caseworker, login_required
from reporting.casework.downloads import ciphertext_response
from reporting.casework.pages import bp
from reporting.casework.pages.forms import (
    SEVERITY_LABELS,
    STATUS_LABELS,
    FilterForm,
    TriageForm,
)
from reporting.casework.triage import (
    UNSET,
    Filters,
    TriageError,
    apply_triage,
    colleagues,
    find_report,
    list_reports,
    locate_blob,
    mark_read,
    parse_filters,
    record_download,
    summarise,
    tag_names,
)
from reporting.infra import db
from reporting.infra.blobs import BlobStore
from reporting.models import Caseworker, Message, Report

DECRYPT_COMMAND = "age -d -i key.txt {file}"
CLIENT_COMMAND = "reporting-caseworker show {report}"


def _me() -> Caseworker:
    caseworker = current_caseworker()
    if caseworker is None:  # login_required comes first; this keeps the type checker honest
        abort(404)
    return caseworker


def _store() -> BlobStore:
    store: BlobStore = current_app.extensions["blobs"]
    return store


def _labels() -> dict[str, Any]:
    return {
        "status_labels": {str(k): v for k, v in STATUS_LABELS.items()},
        "severity_labels": {str(k): v for k, v in SEVERITY_LABELS.items()},
    }


@bp.get("/")
@login_required
def inbox() -> Any:
    me = _me()
    session = db.session()
    form = FilterForm(formdata=request.args).fill(colleagues(session, me), tag_names(session, me))
    status = 200
    try:
        if request.args and not form.validate():
            raise TriageError("One of the filters is not a value of this organisation.")
        reports, counts = list_reports(session, me, parse_filters(request.args))
    except TriageError as error:
        field = getattr(form, error.field or "", None)
        if field is not None and not field.errors:
            field.errors = [error.message]
        _, counts = list_reports(session, me, Filters())
        reports, status = [], 400
    return render_template(
        "casework/inbox.html",
        form=form,
        reports=reports,
        counts=counts,
        filtered=any(request.args.values()),
        **_labels(),
    ), status


def _report_or_404(report_id: str) -> tuple[Caseworker, Report]:
    me = _me()
    report = find_report(db.session(), me, report_id)
    if report is None:
        abort(404)
    return me, report


def _triage_form(me: Caseworker, report: Report, formdata: Any = None) -> TriageForm:
    session = db.session()
    people = colleagues(session, me)
    if report.assignee is not None and report.assignee not in people:
        people.append(report.assignee)  # disabled since: still shown, and kept if unchanged
    current = {
        "status": str(report.status),
        "severity": str(report.severity or ""),
        "assignee": report.assignee_id or "",
        "tags": [tag.name for tag in report.tags],
    }
    # A posted form stands alone: a field it leaves out (no tag ticked) is not the current value.
    form = TriageForm(formdata=formdata) if formdata is not None else TriageForm(data=current)
    return form.fill(people, tag_names(session, me))


def _render_report(me: Caseworker, report: Report, form: TriageForm, status: int = 200) -> Any:
    session = db.session()
    messages = session.scalars(
        select(Message)
        .where(Message.report_id == report.id)
        .options(selectinload(Message.attachments))
        .order_by(Message.seq)
    ).all()
    names = {c.id: c.username for c in colleagues(session, me)}
    if report.assignee is not None:
        names.setdefault(report.assignee.id, report.assignee.username)
    authors = {m.author_id for m in messages if m.author_id and m.author_id not in names}
    for author in authors:
        found = session.get(Caseworker, author)
        names[author] = found.username if found else "former caseworker"
    return render_template(
        "casework/report.html",
        report=report,
        summary=summarise(session, me, report),
        messages=messages,
        names=names,
        form=form,
        decrypt_command=DECRYPT_COMMAND.format(file=f"{report.id}-0-0.age"),
        client_command=CLIENT_COMMAND.format(report=report.id),
        **_labels(),
    ), status


@bp.get("/reports/<report_id>")
@login_required
def report(report_id: str) -> Any:
    me, found = _report_or_404(report_id)
    session = db.session()
    page = _render_report(me, found, _triage_form(me, found))
    mark_read(session, me, found)
    record(session, Action.VIEW, actor=me, target=found.id)
    session.commit()
    return page


@bp.post("/reports/<report_id>/triage")
@login_required
def triage(report_id: str) -> Any:
    me, found = _report_or_404(report_id)
    form = _triage_form(me, found, request.form)
    if not form.validate():
        return _render_report(me, found, form, 400)
    note: Any = UNSET
    if form.remove_note.data:
        note = None
    elif (form.note.data or "").strip():
        note = form.note.data
    db.session().rollback()  # end the read transaction: the change is made in its own
    try:
        changed = apply_triage(
            db.database(),
            _store(),
            me,
            found,
            note=note,
            status=form.status.data,
            severity=form.severity.data or None,
            assignee=form.assignee.data or None,
            tags=list(form.tags.data or []),
        )
    except TriageError as error:
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _render_report(me, found, form, 400)
    if changed:
        flash("Saved: " + ", ".join(name.replace("_", " ") for name in changed) + ".", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("casework.report", report_id=found.id))


@bp.get("/reports/<report_id>/blobs/<blob_id>.age")
@login_required
def download(report_id: str, blob_id: str) -> Response:
    me, found = _report_or_404(report_id)
    session = db.session()
    located = locate_blob(session, found, blob_id)
    if located is None:
        abort(404)
    blob, filename = located
    path = _store().path(blob.id)
    if not path.is_file():  # purged, or lost: nothing to hand out, nothing to audit
        abort(404)
    record_download(session, me, found, blob.id)
    session.commit()
    return ciphertext_response(path, filename)

"""The actions on a case, each a POST form that calls one function of report_actions.py
and goes back to the case page (escalation, which previews first, is in escalation.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from caseworker_client import report_actions
from caseworker_client.desk import forms
from caseworker_client.desk.desk_state import desk

bp = Blueprint("actions", __name__)


def incomplete(form: Any, report_id: str) -> tuple[str, int]:
    """The form's problems on a page of their own (nothing was sent)."""
    problems = [
        f"{form[name].label.text}: {'; '.join(errors)}" for name, errors in form.errors.items()
    ]
    page = render_template(
        "desk/error.html",
        title="Nothing was sent",
        message="The form was not complete.",
        problems=problems,
        back=url_for("pages.case", report_id=report_id),
    )
    return page, 400


def done(report_id: str, what: str) -> Response:
    return redirect(url_for("pages.case", report_id=report_id, done=what), 303)


def checked(form_class: type, report_id: str) -> tuple[Any, str]:
    """The submitted form with the organisation's choices, and the full report id."""
    ctx = desk().ctx
    form = forms.with_choices(form_class(), ctx.organisation(refresh=False))
    return form, ctx.report_id(report_id)


@bp.post("/reports/<report_id>/reply")
def reply(report_id: str) -> Any:
    form, report_id = checked(forms.ReplyForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    report_actions.reply(desk().ctx, report_id, form.text.data.strip())
    return done(report_id, "reply")


@bp.post("/reports/<report_id>/note")
def note(report_id: str) -> Any:
    form, report_id = checked(forms.NoteForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    report_actions.note(desk().ctx, report_id, form.text.data.strip())
    return done(report_id, "note")


@bp.post("/reports/<report_id>/status")
def status(report_id: str) -> Any:
    form, report_id = checked(forms.StatusForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    message = (form.message.data or "").strip() or None
    report_actions.set_status(desk().ctx, report_id, form.status.data, message)
    return done(report_id, "status")


@bp.post("/reports/<report_id>/assign")
def assign(report_id: str) -> Any:
    form, report_id = checked(forms.AssignForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    report_actions.assign(desk().ctx, report_id, form.username.data or None)
    return done(report_id, "assign")


@bp.post("/reports/<report_id>/tags")
def tag(report_id: str) -> Any:
    form, report_id = checked(forms.TagForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    report_actions.tag(desk().ctx, report_id, [form.tag.data], remove=bool(form.remove.data))
    return done(report_id, "tag")


@bp.post("/reports/<report_id>/severity")
def severity(report_id: str) -> Any:
    form, report_id = checked(forms.SeverityForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    report_actions.set_severity(desk().ctx, report_id, form.level.data)
    return done(report_id, "severity")

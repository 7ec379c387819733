"""The actions on a case, each a POST form that calls one function of report_actions.py
and goes back to the case page (escalation, which previews first, is in escalation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from caseworker_client import report_actions
from caseworker_client.context import Context
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


Act = Callable[[Context, str, Any], object]


def _action(name: str, form_class: type, act: Act) -> None:
    """POST /reports/<id>/<name>: check the form, do `act`, go back to the case page."""

    def view(report_id: str) -> Any:
        form, report_id = checked(form_class, report_id)
        if not form.validate():
            return incomplete(form, report_id)
        act(desk().ctx, report_id, form)
        return done(report_id, name)

    bp.add_url_rule(f"/reports/<report_id>/{name}", name, view, methods=["POST"])


_action("reply", forms.ReplyForm, lambda ctx, rid, f: report_actions.reply(ctx, rid, f.text.data))
_action("note", forms.NoteForm, lambda ctx, rid, f: report_actions.note(ctx, rid, f.text.data))
_action(
    "status",
    forms.StatusForm,
    lambda ctx, rid, f: report_actions.set_status(ctx, rid, f.status.data, f.message.data or None),
)
_action(
    "assign",
    forms.AssignForm,
    lambda ctx, rid, f: report_actions.assign(ctx, rid, f.username.data or None),
)
_action(
    "tags",
    forms.TagForm,
    lambda ctx, rid, f: report_actions.tag(ctx, rid, [f.tag.data], remove=bool(f.remove.data)),
)
_action(
    "severity",
    forms.SeverityForm,
    lambda ctx, rid, f: report_actions.set_severity(ctx, rid, f.level.data),
)

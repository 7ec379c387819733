"""The pages that read: the inbox (pulled anew on each visit) and one case."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from caseworker_client import render
from caseworker_client.desk import forms
from caseworker_client.desk.desk_state import desk
from caseworker_client.desk.reading import Filters, filtered
from caseworker_client.desk.signin_pages import expired
from caseworker_client.errors import ClientError
from caseworker_client.history import Event, history
from caseworker_client.report_actions import STATUSES

bp = Blueprint("pages", __name__)

# What an action's redirect back to the case page says (a fixed text: nothing decrypted
# travels in a URL or a cookie).
DONE = {
    "reply": "Reply sent: the reporter reads it when they come back with their codename.",
    "note": "Note added (your organisation only; never shown to the reporter).",
    "status": "Status changed.",
    "assign": "Assignment changed.",
    "tags": "Tags changed.",
    "severity": "Severity changed.",
    "escalated": "Escalation sent: the partner's delivery is queued.",
}


@bp.get("/")
def inbox() -> str:
    state = desk()
    ctx = state.ctx
    warning = ""
    try:
        ctx.pull()
    except ClientError as error:
        if expired(error):
            raise  # to the sign-in page
        warning = f"Showing the reports pulled earlier: {error}"
    rows = state.library.rows(ctx)
    filters = Filters.from_args(request.args)
    organisation = ctx.organisation(refresh=False)
    return render_template(
        "desk/inbox.html",
        rows=filtered(rows, filters),
        total=len(rows),
        filters=filters,
        statuses=STATUSES,
        tags=[str(t) for t in organisation.get("tags") or []],
        caseworkers=sorted(ctx.caseworker_names().values()),
        warning=warning,
        refresh=state.refresh_seconds,
    )


@bp.get("/reports/<report_id>")
def case(report_id: str) -> str:
    state = desk()
    ctx = state.ctx
    report_id = ctx.report_id(report_id)
    warning = ctx.refresh(report_id) or ""
    opened = state.library.opened(ctx, report_id)
    state.library.read(report_id)
    organisation = ctx.organisation(refresh=False)
    names = ctx.caseworker_names()
    partners = {
        str(p.get("id")): str(p.get("name", "")) for p in organisation.get("partners") or []
    }
    report = next(m for m in opened.messages if m.kind == "report")
    detail = opened.detail
    events, history_problem = case_history(report_id)
    return render_template(
        "desk/case.html",
        detail=detail,
        assignee=render.person(detail.get("assignee"), names),
        sections=render.report_sections(opened.document),
        attachments=report.attachments,
        messages=[
            (m, render.message_title(m, names, partners))
            for m in opened.messages
            if m.kind != "report"
        ],
        human_size=render.human_size,
        history=events,
        history_problem=history_problem,
        done=DONE.get(request.args.get("done", ""), ""),
        warning=warning,
        forms=action_forms(organisation, detail, render.person(detail.get("assignee"), names)),
    )


def case_history(report_id: str) -> tuple[list[Event] | None, str]:
    """The report's audit entries, or why they cannot be shown (offline, say): the case
    page is still worth reading without them."""
    try:
        return history(desk().ctx, report_id), ""
    except ClientError as error:
        return None, f"The history is not available now: {error}"


def action_forms(
    organisation: dict[str, Any], detail: dict[str, Any], assignee: str
) -> dict[str, object]:
    """Every action's form, with the report's current values chosen."""
    status = forms.StatusForm(formdata=None, status=detail.get("status"))
    severity = forms.SeverityForm(formdata=None, level=detail.get("severity") or "none")
    built = {
        "reply": forms.ReplyForm(formdata=None),
        "note": forms.NoteForm(formdata=None),
        "status": status,
        "assign": forms.AssignForm(formdata=None, username=assignee),
        "tag": forms.TagForm(formdata=None),
        "severity": severity,
        "escalate": forms.EscalateForm(formdata=None),
    }
    return {name: forms.with_choices(form, organisation) for name, form in built.items()}

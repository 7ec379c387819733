"""Escalating from the desk: a preview of exactly what the partner will receive, then send.

The first POST builds the package (consent, the relatives the reporter allowed to share,
the caseworker's redactions) and shows it with how each file will go; the second POST
builds it anew from the same choices and sends it only if it is still the package shown
(compared by digest): a follow-up that arrived in between is previewed first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, url_for

import crypto
from caseworker_client import render, report_actions
from caseworker_client.context import Context
from caseworker_client.desk import forms
from caseworker_client.desk.actions import checked, done, incomplete
from caseworker_client.desk.desk_state import desk
from caseworker_client.partner_files import NOT_CLEANABLE, cleanable
from caseworker_client.report_actions import Escalation

bp = Blueprint("escalation", __name__)


@dataclass(frozen=True)
class PlannedFile:
    name: str
    content_type: str
    size: str
    how: str
    description: str


def digest(prepared: Escalation, keep_originals: bool) -> str:
    """What identifies the package as previewed: its document, its partner, its files' fate."""
    shown = {
        "document": prepared.package.document,
        "partner": prepared.partner.get("id"),
        "recipients": prepared.partner.get("recipients"),
        "keep_originals": keep_originals,
    }
    hashed = crypto.Sha256()
    hashed.update(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return hashed.hexdigest()


def planned_files(ctx: Context, prepared: Escalation, keep_originals: bool) -> list[PlannedFile]:
    """Each file as it will go: an image re-encoded without its metadata, or as it is."""
    planned = []
    for ref in prepared.package.attachments:
        if keep_originals:
            how = "sent as the reporter sent it, metadata (GPS position, phone…) included"
        elif cleanable(ctx, ref):
            how = "re-encoded from its pixels: its metadata (GPS position, phone…) removed"
        else:
            how = f"sent as it is: {NOT_CLEANABLE}"
        planned.append(
            PlannedFile(
                render.clean(ref.filename) or "(no name)",
                render.clean(ref.content_type),
                render.human_size(ref.size),
                how,
                render.clean(ref.description),
            )
        )
    return planned


def _prepare(form: Any, report_id: str) -> Escalation:
    return report_actions.prepare_escalation(
        desk().ctx, report_id, form.partner.data, form.redact.data or [], form.note.data or ""
    )


def _preview(form: Any, report_id: str, prepared: Escalation, changed: bool = False) -> str:
    ctx = desk().ctx
    keep = bool(form.keep_originals.data)
    confirm = forms.with_choices(
        forms.ConfirmEscalationForm(formdata=None), ctx.organisation(refresh=False)
    )
    confirm.partner.data = form.partner.data
    confirm.redact.data = form.redact.data
    confirm.note.data = form.note.data
    confirm.keep_originals.data = keep
    confirm.digest.data = digest(prepared, keep)
    document = prepared.package.document
    return render_template(
        "desk/escalation.html",
        report_id=report_id,
        partner=render.clean(prepared.partner.get("name")),
        document=document,
        sections=render.report_sections(document["report"]),
        files=planned_files(ctx, prepared, keep),
        form=confirm,
        changed=changed,
        back=url_for("pages.case", report_id=report_id),
    )


@bp.post("/reports/<report_id>/escalate")
def preview(report_id: str) -> Any:
    form, report_id = checked(forms.EscalateForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    return _preview(form, report_id, _prepare(form, report_id))


@bp.post("/reports/<report_id>/escalate/send")
def send(report_id: str) -> Any:
    form, report_id = checked(forms.ConfirmEscalationForm, report_id)
    if not form.validate():
        return incomplete(form, report_id)
    prepared = _prepare(form, report_id)
    keep = bool(form.keep_originals.data)
    if not crypto.same_digest(digest(prepared, keep), form.digest.data):
        return _preview(form, report_id, prepared, changed=True), 409
    report_actions.send_escalation(desk().ctx, prepared, keep)
    return done(report_id, "escalated")

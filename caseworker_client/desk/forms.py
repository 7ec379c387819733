"""The desk's forms: each action of report_actions.py as a POST form with its CSRF token.

Choices that depend on the organisation (caseworkers, tags, partners) are filled in by
`with_choices` from the organisation the client pulled last.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from caseworker_client.escalate import redactable
from caseworker_client.report_actions import SEVERITIES, STATUSES
from protocol import catalogue

TEXT_LIMIT = 20_000  # characters of a reply or note; the server pads and limits documents


def plain_text(value: str | None) -> str:
    """What was typed, with the browser's CRLF line ends as LF and outer blanks dropped (so
    the escalation's hidden copy of a note posts back exactly the same text)."""
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


TEXT = {"filters": [plain_text]}


class ReplyForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        "Reply to the reporter", validators=[DataRequired(), Length(max=TEXT_LIMIT)], **TEXT
    )
    send = SubmitField("Send the reply")


class NoteForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        "Internal note", validators=[DataRequired(), Length(max=TEXT_LIMIT)], **TEXT
    )
    send = SubmitField("Add the note")


class StatusForm(FlaskForm):  # type: ignore[misc]
    status = SelectField("Status", choices=[SelectChoice(s, s.replace("_", " ")) for s in STATUSES])
    message = TextAreaField("Note for the reporter (optional)", [Length(max=TEXT_LIMIT)], **TEXT)
    send = SubmitField("Set the status")


class AssignForm(FlaskForm):  # type: ignore[misc]
    username = SelectField("Assign to", choices=[])
    send = SubmitField("Assign")


class TagForm(FlaskForm):  # type: ignore[misc]
    tag = SelectField("Tag", choices=[], validators=[DataRequired()])
    add = SubmitField("Add the tag")
    remove = SubmitField("Remove the tag")


class SeverityForm(FlaskForm):  # type: ignore[misc]
    level = SelectField("Severity", choices=[SelectChoice(s, s) for s in (*SEVERITIES, "none")])
    send = SubmitField("Set the severity")


def _field_label(path: str) -> str:
    if path == "followups":
        return "followups: the reporter's follow-up messages"
    return f"{path}: {catalogue.field(path).name}"


class EscalateForm(FlaskForm):  # type: ignore[misc]
    partner = SelectField("Partner", choices=[], validators=[DataRequired()])
    redact = SelectMultipleField(
        "Leave out (besides what the reporter's consent already withholds)",
        choices=[SelectChoice(path, _field_label(path)) for path in redactable()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    note = TextAreaField("Cover note for the partner (optional)", [Length(max=TEXT_LIMIT)], **TEXT)
    keep_originals = BooleanField(
        "Send images as the reporter sent them, metadata (GPS position, phone) included"
    )
    preview = SubmitField("Preview what the partner will receive")


class ConfirmEscalationForm(EscalateForm):
    """The previewed choices again, and the digest of the package that was shown: the
    package is built anew and sent only if it is still exactly that one."""

    digest = HiddenField(validators=[DataRequired()])
    confirm = SubmitField("Send it to the partner")


def with_choices(form: Any, organisation: dict[str, Any]) -> Any:
    """Fill the organisation's caseworkers, tags and partners into the form's select lists."""
    caseworkers = [
        str(c.get("username")) for c in organisation.get("caseworkers") or [] if c.get("username")
    ]
    if hasattr(form, "username"):
        form.username.choices = [
            SelectChoice("", "nobody"),
            *(SelectChoice(n, n) for n in sorted(caseworkers)),
        ]
    if hasattr(form, "tag"):
        form.tag.choices = [SelectChoice(str(t), str(t)) for t in organisation.get("tags") or []]
    if hasattr(form, "partner"):
        form.partner.choices = [
            SelectChoice(str(p.get("id")), str(p.get("name")))
            for p in organisation.get("partners") or []
            if isinstance(p, dict)
        ]
    return form

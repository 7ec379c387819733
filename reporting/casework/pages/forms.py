"""Forms of the triage inbox: the filter (a GET, so no CSRF token) and the triage form.

Choices are filled per request from the caseworker's organisation, so a value from
another organisation (a tag, an assignee) fails validation like any unknown value.
"""

from __future__ import annotations

from collections.abc import Sequence

from wtforms import BooleanField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reporting.casework.triage import MAX_NOTE_CHARS
from reporting.models import Caseworker, ReportStatus, Severity
from reporting.web.forms import StrictForm

STATUS_LABELS = {
    ReportStatus.NEW: "New",
    ReportStatus.TRIAGED: "Triaged",
    ReportStatus.IN_PROGRESS: "In progress",
    ReportStatus.ESCALATED: "Escalated",
    ReportStatus.CLOSED: "Closed",
}
SEVERITY_LABELS = {
    Severity.LOW: "Low",
    Severity.MEDIUM: "Medium",
    Severity.HIGH: "High",
    Severity.CRITICAL: "Critical",
}
STATUS_CHOICES = [(status.value, label) for status, label in STATUS_LABELS.items()]
SEVERITY_CHOICES = [(severity.value, label) for severity, label in SEVERITY_LABELS.items()]
NONE = "none"  # the assignee filter's value for unassigned reports


# WTForms ships no type information: its classes are Any to mypy.
class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A set of checkboxes: one per organisation tag."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _people(caseworkers: Sequence[Caseworker]) -> list[tuple[str, str]]:
    return [(c.id, c.display_name or c.username) for c in caseworkers]


class FilterForm(StrictForm):
    """The inbox filter. Sent by GET: it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField("Status", default="", validators=[Optional()])
    severity = SelectField("Severity", default="", validators=[Optional()])
    assignee = SelectField("Assignee", default="", validators=[Optional()])
    tag = SelectField("Tag", default="", validators=[Optional()])
    unread = BooleanField("Unread only")

    def fill(self, caseworkers: Sequence[Caseworker], tags: Sequence[str]) -> FilterForm:
        """The choices of this organisation."""
        self.status.choices = [("", "Any"), *STATUS_CHOICES]
        self.severity.choices = [("", "Any"), *SEVERITY_CHOICES]
        self.assignee.choices = [("", "Anyone"), (NONE, "Nobody"), *_people(caseworkers)]
        self.tag.choices = [("", "Any"), *((t, t) for t in tags)]
        return self


class TriageForm(StrictForm):
    """Status, severity, assignee, tags and an optional note to the reporter."""

    status = SelectField("Status")
    severity = SelectField("Severity")
    assignee = SelectField("Assignee")
    tags = MultiCheckboxField("Tags")
    note = TextAreaField(
        "Message to the reporter (optional)",
        description=(
            "Shown to the reporter beside the status when they come back with their codename. "
            "It is encrypted on arrival to the reporter's and the organisation's keys; the "
            "server keeps only the ciphertext. Leave empty to keep the current message."
        ),
        validators=[Optional(), Length(max=MAX_NOTE_CHARS)],
    )
    remove_note = BooleanField("Remove the current message to the reporter")

    def fill(self, caseworkers: Sequence[Caseworker], tags: Sequence[str]) -> TriageForm:
        """The choices of this organisation."""
        self.status.choices = list(STATUS_CHOICES)
        self.severity.choices = [("", "Not set"), *SEVERITY_CHOICES]
        self.assignee.choices = [("", "Nobody"), *_people(caseworkers)]
        self.tags.choices = [(t, t) for t in tags]
        return self

"""Reporter forms. Every field has help text; every limit has a message saying what to fix."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from protocol import catalogue
from reporting.web.forms import StrictForm


def _limits() -> Any:
    return current_app.config["SETTINGS"].limits


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for several answers at once; works without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def short_text(label: Any, description: Any) -> StringField:
    """A one-line optional field with the short-field length limit."""
    return StringField(label, description=description, validators=[Optional(), ShortLength()])


class ShortLength:
    """Length limit read from the settings at validation time, with a plain message."""

    def __init__(self, long: bool = False) -> None:
        self.long = long

    def __call__(self, form: Form, field: Field) -> None:
        limits = _limits()
        maximum = limits.long_field_max_chars if self.long else limits.short_field_max_chars
        if field.data and len(field.data) > maximum:
            raise ValidationError(
                _l("This is too long: please keep it under %(max)d characters.", max=maximum)
            )


class NotACodename:
    """Refuse text that is only a codename: it belongs on the “come back” page, not in a report."""

    def __call__(self, form: Form, field: Field) -> None:
        from crypto import is_valid_codename

        if field.data and is_valid_codename(field.data):
            raise ValidationError(
                _l(
                    "This looks like a codename. To return to an earlier report, use the "
                    "“Come back to a report” page; do not send your codename in a report."
                )
            )


class WholeCodename:
    """Refuse what cannot be a codename in any form (wrong count, a word not on a list) before
    anything is counted or derived: a typo costs the server nothing and the reporter no try."""

    def __call__(self, form: Form, field: Field) -> None:
        from crypto import is_valid_codename

        if field.data and not is_valid_codename(field.data):
            raise ValidationError(
                _l(
                    "This is not a codename: a codename is seven English words, 28 digits "
                    "or nine Chinese characters, as shown when you sent your report. Check it "
                    "and try again."
                )
            )


class NarrativeLength:
    """The narrative needs enough words to act on, and not more than a reader can take.

    A follow-up may be short (an answer to a question), so only a report has a minimum.
    """

    def __init__(self, minimum: bool = True) -> None:
        self.minimum = minimum

    def __call__(self, form: Form, field: Field) -> None:
        limits = _limits()
        text = (field.data or "").strip()
        if self.minimum and len(text) < limits.narrative_min_chars:
            raise ValidationError(
                _l(
                    "Please write at least %(min)d characters, so that caseworkers can "
                    "understand what happened.",
                    min=limits.narrative_min_chars,
                )
            )
        if len(text) > limits.narrative_max_chars:
            raise ValidationError(
                _l(
                    "This is too long: please keep it under %(max)d characters, and attach "
                    "longer documents as files.",
                    max=limits.narrative_max_chars,
                )
            )


class Honeypot:
    """A field hidden from people; automated posters fill it in."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data:
            raise ValidationError(_l("Please leave this field empty."))


class ReporterForm(StrictForm):
    """The base of the reporter's forms (StrictForm refuses what our pages never send)."""


class FixedFieldList(FieldList):
    """Exactly `max_entries` entries, each read from the form data under its own index.

    WTForms' FieldList fills missing entries by copying others when the posted indices
    are sparse (only family-1, say); the page always has all of them, so take them as is.
    """

    def __init__(self, *args: Any, entry_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry_label = entry_label  # "Family member %(number)d": each entry's legend

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.entries: list[Any] = []
        self.last_index = -1
        for _ in range(self.max_entries or 0):
            self._add_entry(formdata)


class FollowupForm(ReporterForm):
    """More words or files from a reporter who came back with their codename."""

    message = TextAreaField(
        _l("Add information"),
        description=_l("Anything new, or answers to the caseworkers' questions."),
        validators=[
            InputRequired(_l("Please write something before sending.")),
            NarrativeLength(minimum=False),
            NotACodename(),
        ],
    )
    attachments = MultipleFileField(_l("More evidence"), description=_l("Optional files."))
    website = StringField(
        _l("Leave this field empty"),
        description=_l("This field is a trap for automated spam; people should leave it empty."),
        validators=[Honeypot()],
    )
    submit = SubmitField(_l("Send securely"))


class CodenameForm(ReporterForm):
    """The way back in: only the codename, nothing that identifies the reporter."""

    codename = StringField(
        _l("Your codename"),
        description=_l(
            "In any form you were given: seven English words, 28 digits or nine Chinese "
            "characters. Spaces do not matter."
        ),
        validators=[
            InputRequired(_l("Please enter your codename.")),
            Length(max=300, message=_l("A codename is seven short words; this is too long.")),
            WholeCodename(),
        ],
    )
    submit = SubmitField(_l("Continue"))


class LogoutForm(ReporterForm):
    """Only a CSRF token, so another site cannot end a reporter's session."""

    submit = SubmitField(_l("Log out"))


class Confirmed:
    """The confirmation box sends "y" or nothing; anything else confirms nothing."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.raw_data != ["y"]:
            raise ValidationError(_l("Please tick the box to confirm."))


class UrgentForm(ReporterForm):
    """Set or clear the urgent flag of a report already sent."""

    urgent = RadioField(
        _l("Someone is in danger now or within days"),
        description=_l(
            "Choose “Yes” only if someone is at risk now or in the next few days: the "
            "caseworkers are told at once."
        ),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[InputRequired(_l("Please choose “Yes” or “No”."))],
    )
    submit = SubmitField(_l("Save"))


class ConsentForm(ReporterForm):
    """Change who the report may be shared with; it takes effect at once."""

    consent = RadioField(
        _l("May we share your report?"),
        description=_l(
            "This replaces your earlier choice at once. Caseworkers see that you changed it, "
            "and on which day. Anything already shared with a partner cannot be taken back."
        ),
        choices=[SelectChoice(c.code, _l(c.label)) for c in catalogue.CONSENT.choices],
        validators=[InputRequired(_l("Please choose whether we may share your report."))],
    )
    submit = SubmitField(_l("Save"))


class DeletionForm(ReporterForm):
    """Ask for the report to be deleted, confirmed by ticking a box on its own page."""

    confirm = BooleanField(
        _l("I understand, and I want this report deleted"),
        validators=[Confirmed()],
    )
    submit = SubmitField(_l("Delete my report"))

"""Reporter forms. Every field has help text; every limit has a message saying what to fix."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    Field,
    FieldList,
    Form,
    FormField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from protocol import catalogue
from reporting.countries import country_choices
from reporting.forms import StrictForm
from reporting.languages import REPLY_LANGUAGES

FAMILY_ENTRIES = catalogue.field("family").max_entries


def choices(field: catalogue.Field) -> list[SelectChoice]:
    """A catalogue field's codes with their labels, translated when the page is drawn."""
    return [SelectChoice(c.code, _l(c.label)) for c in field.choices]


def label(path: str) -> Any:
    """The catalogue's label of the field at `path`, translated when the page is drawn."""
    return _l(catalogue.field(path).label)


def help_text(path: str) -> Any:
    """The catalogue's help for the field at `path`, translated when the page is drawn."""
    return _l(catalogue.field(path).help)


CATEGORIES = choices(catalogue.CATEGORIES)
CONSENT_CHOICES = choices(catalogue.CONSENT)


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

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.entries: list[Any] = []
        self.last_index = -1
        for _ in range(self.max_entries or 0):
            self._add_entry(formdata)


class FamilyMemberForm(Form):
    """One affected family member (a plain Form: the parent form carries the CSRF token)."""

    relation = short_text(label("family.relation"), help_text("family.relation"))
    location = short_text(label("family.location"), help_text("family.location"))
    what_happened = TextAreaField(
        label("family.what_happened"),
        description=help_text("family.what_happened"),
        validators=[Optional(), ShortLength(long=True)],
    )


class ReportForm(ReporterForm):
    """The report: one required narrative, everything else optional and structured."""

    categories = MultiCheckboxField(
        label("categories"),
        choices=CATEGORIES,
        description=help_text("categories"),
        validators=[Optional()],
    )
    narrative = TextAreaField(
        label("narrative"),
        description=help_text("narrative"),
        validators=[
            InputRequired(_l("Please describe what happened.")),
            NarrativeLength(),
            NotACodename(),
        ],
    )
    country = SelectField(
        label("where.country"),
        description=help_text("where.country"),
        validators=[Optional()],
    )
    city = short_text(label("where.city"), help_text("where.city"))
    date_from = StringField(
        label("when.from"),
        description=help_text("when.from"),
        validators=[Optional(), ShortLength()],
    )
    date_to = StringField(
        label("when.to"),
        description=help_text("when.to"),
        validators=[Optional(), ShortLength()],
    )
    when_note = short_text(label("when.note"), help_text("when.note"))
    people = TextAreaField(
        label("who.people"),
        description=help_text("who.people"),
        validators=[Optional(), ShortLength(long=True)],
    )
    affiliation = short_text(
        label("who.affiliation"),
        help_text("who.affiliation"),
    )
    station_address = TextAreaField(
        label("who.station_address"),
        description=help_text("who.station_address"),
        validators=[Optional(), ShortLength(long=True)],
    )
    family = FixedFieldList(
        FormField(FamilyMemberForm),
        min_entries=FAMILY_ENTRIES,
        max_entries=FAMILY_ENTRIES,
        label=label("family"),
    )
    attachments = MultipleFileField(label("attachments"), description=help_text("attachments"))
    consent = RadioField(
        label("consent"),
        choices=CONSENT_CHOICES,
        default="none",
        description=help_text("consent"),
        validators=[InputRequired(_l("Please choose whether we may share your report."))],
    )
    reply_language = SelectField(
        label("reply_language"),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code.replace("_", "-")})
            for code, name in REPLY_LANGUAGES
        ],
        description=help_text("reply_language"),
        validators=[DataRequired(_l("Please choose a language for our replies."))],
    )
    website = StringField(
        _l("Leave this field empty"),
        description=_l("This field is a trap for automated spam; people should leave it empty."),
        validators=[Honeypot()],
    )
    submit = SubmitField(_l("Send the report securely"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [
            SelectChoice("", _l("Choose a country (optional)")),
            *(SelectChoice(code, name) for code, name in country_choices()),
        ]


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
        description=_l("The seven words you were given, separated by spaces."),
        validators=[
            InputRequired(_l("Please enter your codename.")),
            Length(max=300, message=_l("A codename is seven short words; this is too long.")),
        ],
    )
    submit = SubmitField(_l("Continue"))


class LogoutForm(ReporterForm):
    """Only a CSRF token, so another site cannot end a reporter's session."""

    submit = SubmitField(_l("Log out"))

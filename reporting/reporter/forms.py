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

from reporting.countries import country_choices
from reporting.forms import StrictForm
from reporting.languages import REPLY_LANGUAGES

FAMILY_ENTRIES = 3

CATEGORIES = [
    SelectChoice(
        "family_threatened", _l("Threats or pressure against family members in the home country")
    ),
    SelectChoice("pressure_to_return", _l("Pressure to return to the home country")),
    SelectChoice(
        "police_station",
        _l(
            "Contact with, a summons to or a visit from an overseas police “service station” "
            "or its agents"
        ),
    ),
    SelectChoice("surveillance", _l("Being watched, followed or photographed")),
    SelectChoice("online", _l("Online harassment or hacking")),
    SelectChoice("relatives_detained", _l("Relatives detained or questioned")),
    SelectChoice("livelihood", _l("Threats to my job, residency or property")),
    SelectChoice("other", _l("Something else")),
]

CONSENT_CHOICES = [
    SelectChoice("none", _l("Do not share my report with anyone outside this organisation")),
    SelectChoice(
        "anonymised", _l("Share it with partner organisations without anything that identifies me")
    ),
    SelectChoice("full", _l("Share it in full with partner organisations")),
]


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
    """Refuse what cannot be a codename (wrong word count, a word not on the list) before
    anything is counted or derived: a typo costs the server nothing and the reporter no try."""

    def __call__(self, form: Form, field: Field) -> None:
        from crypto import is_valid_codename

        if field.data and not is_valid_codename(field.data):
            raise ValidationError(
                _l(
                    "This is not a codename: a codename is seven words from our word list, "
                    "separated by spaces. Check each word and try again."
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

    relation = short_text(_l("Relation to you"), _l("For example: mother, brother, cousin."))
    location = short_text(
        _l("Province and city"), _l("Where they live, as precisely as you are comfortable with.")
    )
    what_happened = TextAreaField(
        _l("What happened to them"),
        description=_l("For example: visited by police, questioned, passport taken, job lost."),
        validators=[Optional(), ShortLength(long=True)],
    )


class ReportForm(ReporterForm):
    """The report: one required narrative, everything else optional and structured."""

    categories = MultiCheckboxField(
        _l("What happened?"),
        choices=CATEGORIES,
        description=_l("Choose all that apply. You can also leave this empty."),
        validators=[Optional()],
    )
    narrative = TextAreaField(
        _l("Tell us what happened"),
        description=_l(
            "In your own words: what happened, who was involved, and what they asked or "
            "threatened. Any language is fine. This is the only required field."
        ),
        validators=[
            InputRequired(_l("Please describe what happened.")),
            NarrativeLength(),
            NotACodename(),
        ],
    )
    country = SelectField(
        _l("Country where it happened"),
        description=_l("The country you were in, not your home country."),
        validators=[Optional()],
    )
    city = short_text(_l("City"), _l("The city or area, if you are comfortable saying."))
    date_from = StringField(
        _l("From (approximate date)"),
        description=_l("A date such as 2025-03-14, or just a year and month such as 2025-03."),
        validators=[Optional(), ShortLength()],
    )
    date_to = StringField(
        _l("Until (approximate date)"),
        description=_l("Leave empty if it happened once or is still going on."),
        validators=[Optional(), ShortLength()],
    )
    when_note = short_text(
        _l("Anything else about when"), _l("For example: “every week since last spring”.")
    )
    people = TextAreaField(
        _l("People or organisations involved"),
        description=_l("Names, descriptions, phone numbers or accounts used to contact you."),
        validators=[Optional(), ShortLength(long=True)],
    )
    affiliation = short_text(
        _l("Who they said they were working for"),
        _l("For example: a named public security bureau, a police station, a united front group."),
    )
    station_address = TextAreaField(
        _l("Address of a “police service station”, if known"),
        description=_l("The address or a description of the place."),
        validators=[Optional(), ShortLength(long=True)],
    )
    family = FixedFieldList(
        FormField(FamilyMemberForm),
        min_entries=FAMILY_ENTRIES,
        max_entries=FAMILY_ENTRIES,
        label=_l("Family members affected"),
    )
    attachments = MultipleFileField(
        _l("Evidence"),
        description=_l(
            "Photos, screenshots, recordings or documents. Files are encrypted as they arrive. "
            "Photos can contain the place and time they were taken: if that could identify "
            "you, take a screenshot of the photo and send that instead."
        ),
    )
    consent = RadioField(
        _l("May we share your report?"),
        choices=CONSENT_CHOICES,
        default="none",
        description=_l(
            "Partner organisations give legal help, support diaspora communities or report on "
            "these cases. We never share your codename."
        ),
        validators=[InputRequired(_l("Please choose whether we may share your report."))],
    )
    reply_language = SelectField(
        _l("Language for our replies"),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code.replace("_", "-")})
            for code, name in REPLY_LANGUAGES
        ],
        description=_l("We will try to reply in this language."),
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
            WholeCodename(),
        ],
    )
    submit = SubmitField(_l("Continue"))


class LogoutForm(ReporterForm):
    """Only a CSRF token, so another site cannot end a reporter's session."""

    submit = SubmitField(_l("Log out"))

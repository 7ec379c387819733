"""The report form, built from the field catalogue (protocol/catalogue.py).

Each catalogue field with a form name becomes a WTForms field of its kind, with
the catalogue's label, help and choices (translated when the page is drawn); the
page draws the sections in catalogue order (`sections`). What is not the
catalogue's business stays here: the length limits and the narrative's own
checks, the country and language lists, the honeypot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    FormField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from protocol import catalogue
from protocol.catalogue import Kind
from reporting.infra import db
from reporting.intake.countries import country_choices
from reporting.intake.pages.evidence import ROWS_SUFFIX, descriptions_without_files, file_rows
from reporting.intake.pages.forms import (
    FixedFieldList,
    Honeypot,
    MultiCheckboxField,
    NarrativeLength,
    NotACodename,
    ReporterForm,
    ShortLength,
)
from reporting.intake.pages.place_field import PlaceField
from reporting.intake.pages.places import offered_places
from reporting.web.i18n import current_language
from reporting.web.languages import REPLY_LANGUAGES
from reporting.web.long_select import LongSelect

# Checks beyond the field's kind, by catalogue path: the server's policy, not the protocol's.
VALIDATORS: dict[str, Callable[[], list[Any]]] = {
    "narrative": lambda: [
        InputRequired(_l("Please describe what happened.")),
        NarrativeLength(),
        NotACodename(),
    ],
    "consent": lambda: [InputRequired(_l("Please choose whether we may share your report."))],
    "reply_language": lambda: [DataRequired(_l("Please choose a language for our replies."))],
}


class Ticked:
    """A checkbox sends the value the page gave it ("y") or nothing: anything else is not a
    browser ticking a box, and WTForms would read it as ticked (an "urgent" report made of
    a typo), so it is refused with the form's own error page and nothing is stored."""

    def __call__(self, form: Any, field: Field) -> None:
        if field.raw_data and field.raw_data != ["y"]:
            raise ValidationError(_l("Please tick the box or leave it empty."))


def _choices(spec: catalogue.Field) -> list[SelectChoice]:
    return [SelectChoice(c.code, _l(c.label)) for c in spec.choices]


def _languages() -> list[SelectChoice]:
    return [
        SelectChoice(code, name, render_kw={"lang": code.replace("_", "-")})
        for code, name in REPLY_LANGUAGES
    ]


def _reading_language() -> str | None:
    """Replies default to the language the reporter is reading the form in (when we offer
    replies in it), not to the first in the list."""
    code = current_language()
    return code if any(code == offered for offered, _name in REPLY_LANGUAGES) else None


def _form_field(spec: catalogue.Field) -> Field:
    """The WTForms field for one catalogue field."""
    label, help_text = _l(spec.label), _l(spec.help) if spec.help else ""
    checks = VALIDATORS.get(spec.path, lambda: [Optional()])()
    if spec.kind is Kind.GROUP:
        entry = type("Entry", (PlainForm,), _fields(spec.fields))
        return FixedFieldList(
            FormField(entry),
            min_entries=spec.max_entries,
            max_entries=spec.max_entries,
            label=label,
            entry_label=spec.entry_label,
        )
    if spec.kind is Kind.LONG_TEXT:
        checks = VALIDATORS.get(spec.path, lambda: [Optional(), ShortLength(long=True)])()
        return TextAreaField(label, description=help_text, validators=checks)
    if spec.kind in (Kind.TEXT, Kind.DATE):
        return StringField(label, description=help_text, validators=[Optional(), ShortLength()])
    if spec.kind is Kind.MULTIPLE:
        return MultiCheckboxField(
            label, choices=_choices(spec), description=help_text, validators=checks
        )
    if spec.kind is Kind.CHOICE:
        default = spec.choices[0].code if spec.required else None
        return RadioField(
            label,
            choices=_choices(spec),
            default=default,
            description=help_text,
            validators=checks,
        )
    if spec.kind is Kind.COUNTRY:  # its choices are set per request, in the page's language
        return SelectField(label, description=help_text, validators=checks, widget=LongSelect())
    if spec.kind is Kind.LANGUAGE:
        return SelectField(
            label,
            choices=_languages(),
            default=_reading_language,
            description=help_text,
            validators=checks,
        )
    if spec.kind is Kind.FILES:
        return MultipleFileField(label, description=help_text)
    if spec.kind is Kind.PLACE:
        return PlaceField(label, description=help_text)
    if spec.kind is Kind.FLAG:
        return BooleanField(label, description=help_text, default=False, validators=[Ticked()])
    raise ValueError(f"the reporter form cannot ask for a {spec.kind} ({spec.path})")


def _fields(specs: tuple[catalogue.Field, ...]) -> dict[str, Field]:
    """The form fields of these catalogue fields; an object group's fields are the page's own."""
    fields: dict[str, Field] = {}
    for spec in specs:
        if spec.retired:
            continue
        if spec.kind is Kind.GROUP and not spec.max_entries:
            fields.update(_fields(spec.fields))
        elif spec.form_name:
            fields[spec.form_name] = _form_field(spec)
        if spec.kind is Kind.FILES and spec.max_entries and spec.form_name:
            fields[spec.form_name + ROWS_SUFFIX] = file_rows(spec)
    return fields


def country_options() -> list[SelectChoice]:
    """The countries the operator expects most reports from first (instance/portal.toml),
    then every country; each group in the reader's order."""
    everything = country_choices()
    options = [SelectChoice("", _l("Choose a country (optional)"))]
    likely = set(current_app.config["SETTINGS"].portal.likely_countries)
    if not likely:
        return options + [SelectChoice(code, name) for code, name in everything]
    often, every = _("Countries chosen often"), _("All countries")
    options += [
        SelectChoice(code, name, optgroup=often) for code, name in everything if code in likely
    ]
    return options + [SelectChoice(code, name, optgroup=every) for code, name in everything]


class _ReportFormBase(ReporterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = country_options()
        for spec in catalogue.walk():
            if spec.kind is Kind.COUNTRY and spec.form_name:
                self[spec.form_name].choices = countries
        for group in catalogue.REPORT_FIELDS:  # and in each entry of a repeated group
            for spec in group.fields if group.max_entries and not group.retired else ():
                if spec.kind is Kind.COUNTRY:
                    for entry in self[group.form_name]:
                        entry[spec.form_name].choices = countries
        places = [spec for spec in catalogue.walk() if spec.kind is Kind.PLACE and spec.form_name]
        if places:
            offered = offered_places()
            db.release_connection()  # the view may now wait on a codename derivation
            for spec in places:
                self[spec.form_name].offer(offered)

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for spec in catalogue.REPORT_FIELDS:
            if spec.kind is Kind.FILES and spec.form_name + ROWS_SUFFIX in self:
                rows = self[spec.form_name + ROWS_SUFFIX]
                descriptions_without_files(self[spec.form_name].data or [], rows)
                valid = valid and not any(row.form.description.errors for row in rows)
        return valid


def follow_reading_language(form: ReporterForm, previous: str) -> None:
    """After a language switch, a reply language left at the language the page was read in
    follows the page: Tor Browser shows English first, so "English" was most likely never
    chosen by a reader who now switches to their own language. Another choice stays."""
    for spec in catalogue.walk():
        if spec.kind is Kind.LANGUAGE and spec.form_name and spec.form_name in form:
            field = form[spec.form_name]
            reading = _reading_language()
            if field.data == previous and reading:
                field.data = reading


def report_form(*args: Any, **kwargs: Any) -> ReporterForm:
    """The report form as the catalogue describes it now (one class per call: cheap)."""
    fields = _fields(catalogue.REPORT_FIELDS)
    # Made after the catalogue's fields, so that they come last in the form's order.
    fields["website"] = StringField(
        _l("Leave this field empty"),
        description=_l("This field is a trap for automated spam; people should leave it empty."),
        validators=[Honeypot()],
    )
    fields["submit"] = SubmitField(_l("Send the report securely"))
    form: ReporterForm = type("ReportForm", (_ReportFormBase,), fields)(*args, **kwargs)
    form.page_sections = sections()  # what the page draws
    return form


@dataclass
class Section:
    """One fieldset of the report page: a title, its help, and the fields it draws."""

    title: str
    help: str = ""
    fields: list[catalogue.Field] = field(default_factory=list)


def sections() -> list[Section]:
    """The page's sections in catalogue order; fields the reporter does not fill are left out."""
    found: list[Section] = []
    for spec in catalogue.REPORT_FIELDS:
        if spec.retired or (not spec.form_name and spec.kind is not Kind.GROUP):
            continue
        title = spec.section or spec.label
        if not found or found[-1].title != title:
            found.append(Section(title, spec.section_help))
        found[-1].fields.extend(spec.fields if spec.kind is Kind.GROUP and not spec.max_entries
                                else [spec])  # fmt: skip
    return found

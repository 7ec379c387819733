# mypy: disallow-subclassing-any=False
"""The place question of the report form: a choice from the organisation's registry, or
the reporter's own words (plain HTML: a select and a text input, no JavaScript).

Its data is already the document's shape (protocol Kind.PLACE): {"registry_id", "name"}
with the name the reporter saw, {"text"}, or {} when not answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, SelectField, StringField
from wtforms.validators import Optional

from reporting.intake.pages.forms import ShortLength


class _PlaceEntry(Form):
    choice = SelectField(_l("Choose it from the list"), validate_choice=False, choices=[])
    other = StringField(
        _l("Or, if it is not in the list, describe it"),
        description=_l("Its name, and the street or area if you know it."),
        validators=[Optional(), ShortLength()],
    )


class PlaceField(FormField):
    """A registry choice or free text; refuses an id the registry lacks, and both at once."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(_PlaceEntry, label, **kwargs)
        self.names: dict[str, str] = {}

    def offer(self, places: Sequence[tuple[str, str]]) -> None:
        """The registry's (id, name as shown) pairs, for this request."""
        self.names = dict(places)
        self.form.choice.choices = [("", _l("Not chosen")), *places] if places else []
        if not places:  # only the text input is drawn: it asks the question itself
            self.form.other.label.text = self.label.text
            self.form.other.description = self.description

    @property
    def offered(self) -> bool:
        return bool(self.names)

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        self.form.validate()
        choice, other = self.form.choice, self.form.other
        if choice.data and choice.data not in self.names:
            choice.errors = [
                _l("This place is not in the list. Choose one from the list, or describe it.")
            ]
        elif choice.data and (other.data or "").strip():
            other.errors = [_l("Please choose a place from the list or describe it, not both.")]
        return not self.errors

    @property
    def errors(self) -> list[Any]:
        """Flat, for the page's error summary."""
        return [*self.form.choice.errors, *self.form.other.errors]

    @property
    def data(self) -> dict[str, str]:
        choice = self.form.choice.data or ""
        other = (self.form.other.data or "").strip()
        if choice in self.names:
            return {"registry_id": choice, "name": self.names[choice]}
        return {"text": other} if other else {}

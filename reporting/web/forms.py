# mypy: disallow-subclassing-any=False
# (WTForms ships no type information, so its classes are Any to mypy.)
"""The base of every form: input in a shape our pages never send is refused before any
validator sees it (reporting/web/inputs.py says which shapes, and why).

A form that inherits `StrictForm`, written by hand or generated from a catalogue, gets:
- a body in a form encoding, or a readable 400 (Flask-WTF would read a JSON body as
  form data, where a list or a number crashes the fields);
- each field in its own shape, or a readable 400: no file part under a text field's
  name, no text under a file field's name, no single-valued field sent twice;
- text that was sent as valid UTF-8 and can be stored, or an error on that field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import abort, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict
from wtforms import (
    Field,
    FieldList,
    FileField,
    FormField,
    MultipleFileField,
    SelectMultipleField,
)

from reporting.web.inputs import (
    FILE,
    FILES,
    TEXT,
    TEXTS,
    Part,
    misshapen,
    not_as_sent,
    split_parts,
    unreadable,
)

FORM_ENCODINGS = ("multipart/form-data", "application/x-www-form-urlencoded")
UNREADABLE_TEXT = _l("Some of this text could not be read. Please type it again.")


def leaves(fields: Iterable[Field]) -> Iterator[Field]:
    """Every field that reads form data, inside sub-forms and lists too."""
    for field in fields:
        if isinstance(field, FormField):
            yield from leaves(field.form)
        elif isinstance(field, FieldList):
            yield from leaves(field.entries)
        else:
            yield field


def part_of(field: Field) -> Part:
    """The shape in which a browser sends this field."""
    if isinstance(field, FileField):
        return FILES if isinstance(field, MultipleFileField) else FILE
    return TEXTS if isinstance(field, SelectMultipleField) else TEXT


class StrictForm(FlaskForm):
    """A FlaskForm that takes form data only in the shapes its page sends."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and form.is_submitted() and request.mimetype not in FORM_ENCODINGS:
                abort(400, description=not_as_sent())
            return super().wrap_formdata(form, formdata)

    def process(
        self,
        formdata: Any = None,
        obj: Any = None,
        data: Any = None,
        extra_filters: Any = None,
        **kwargs: Any,
    ) -> None:
        formdata = self.meta.wrap_formdata(self, formdata)
        if formdata is None:
            super().process(None, obj, data, extra_filters, **kwargs)
            return
        text, files = split_parts(formdata)
        if has_request_context() and formdata is request.form:
            # A view that passes request.form was sent the request's files too.
            files = request.files
        # Text alone is safe for every field, and builds the sub-forms and lists whose
        # field names the shape check needs; the files are added once the shape is right.
        super().process(text, obj, data, extra_filters, **kwargs)
        fields = list(leaves(self))
        if misshapen({f.name: part_of(f) for f in fields}, text, files) is not None:
            abort(400, description=not_as_sent())
        if files:
            super().process(CombinedMultiDict((files, text)), obj, data, extra_filters, **kwargs)
            fields = list(leaves(self))
        for field in fields:
            sent = getattr(field, "raw_data", None) or ()
            if any(isinstance(raw, str) and unreadable(raw) for raw in sent):
                field.process_errors.append(UNREADABLE_TEXT)

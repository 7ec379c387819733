# mypy: disallow-subclassing-any=False
"""The evidence rows of the report form: a file input and its one-line description each.

Plain HTML, no JavaScript: the page draws a fixed number of rows (the catalogue's
`max_entries` of the files field), each an `<input type=file>` under the files field's
own name plus a description input. A browser sends every file input, chosen or not, in
the page's order, so the n-th file part belongs to the n-th row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from wtforms import Field, Form, FormField, StringField
from wtforms.validators import Optional, ValidationError

from protocol.catalogue import FILE_DESCRIPTION_MAX_CHARS
from protocol.catalogue import Field as Spec
from reporting.intake.pages.forms import FixedFieldList
from reporting.intake.submissions import Upload

ROWS_SUFFIX = "_rows"  # the rows' form name: the files field's name and this


def chosen(storage: FileStorage | None) -> bool:
    """Whether a file part holds a file: an empty input sends a nameless empty part."""
    if storage is None or not isinstance(storage, FileStorage):
        return False
    return bool(storage.filename) or getattr(storage.stream, "size", 0) != 0


def one_line(text: str) -> bool:
    """Whether a description is one short line (the document's reader refuses anything else)."""
    return len(text) <= FILE_DESCRIPTION_MAX_CHARS and "\n" not in text and "\r" not in text


class OneLine:
    """A description is one short line (the document's reader refuses anything else)."""

    def __call__(self, form: Form, field: Field) -> None:
        if not one_line(field.data or ""):
            raise ValidationError(
                _l(
                    "Please describe the file in one line of at most %(max)d characters.",
                    max=FILE_DESCRIPTION_MAX_CHARS,
                )
            )


class _Row(Form):
    description = StringField(
        _l("What this file shows"),
        description=_l("Optional, one line. For example: “the summons letter, page 1”."),
        validators=[Optional(), OneLine()],
    )


def file_rows(spec: Spec) -> FixedFieldList:
    """The description inputs of the files field's rows."""
    return FixedFieldList(
        FormField(_Row),
        min_entries=spec.max_entries,
        max_entries=spec.max_entries,
        label=_l("Evidence"),
        entry_label="File %(number)d",  # translated where drawn (the page, its error summary)
    )


def descriptions_without_files(files: Sequence[Any], rows: Any) -> None:
    """Mark each row described but given no file: its words would otherwise be lost."""
    for index, row in enumerate(rows):
        field = row.form.description
        if (field.data or "").strip() and not (index < len(files) and chosen(files[index])):
            field.errors = [
                *field.errors,
                _l(
                    "You described a file here but did not choose one. Choose the file, or "
                    "clear the description."
                ),
            ]


def descriptions(files: Sequence[Any], rows: Any) -> list[str]:
    """Each file part's description (its row's; "" past the rows, as an API client sends)."""
    texts = [(row.form.description.data or "").strip() for row in rows or []]
    return [texts[i] if i < len(texts) else "" for i in range(len(files))]


def kept_descriptions(files: Sequence[Any], rows: Any) -> list[str]:
    """When the form comes back, each chosen file is kept with its row's description, and
    the row is drawn empty; a description that is not one short line stays in its row
    (with its error), and the file is kept without it."""
    texts = descriptions(files, rows)
    kept = [text if one_line(text) else "" for text in texts]
    for index, row in enumerate(rows or []):
        if index < len(files) and chosen(files[index]) and kept[index] == texts[index]:
            row.form.description.data = ""
    return kept


def chosen_uploads(files: list[FileStorage], described: list[str] | None = None) -> list[Upload]:
    """The uploads the reporter chose, each with its row's description (if the form has
    them); an empty file input sends a nameless empty part, and is left out."""
    uploads = []
    for index, storage in enumerate(files or []):
        sink = storage.stream
        if not chosen(storage):
            sink.close()
            continue
        description = described[index] if described else ""
        uploads.append(Upload(sink, storage.filename or "", storage.mimetype or "", description))  # type: ignore[arg-type]
    return uploads

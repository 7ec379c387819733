"""What every input must look like before any view or validator reads it (invariant 5).

A browser sends each field of our pages in one shape: a text field once, as text; a
file field as file parts; a checkbox group as repeated text. Anything else (a file
part under a text field's name, text under a file field's name, a single field sent
twice) was made by hand or by a program, and is refused here, once for every form and
API body, instead of surprising each validator (`.strip()` on an upload was a 500).

Text must also be storable: Werkzeug decodes form and URL text with
errors="replace", so undecodable bytes arrive as U+FFFD; PostgreSQL refuses NUL in
text; and no encoder takes a lone surrogate (which JSON's \\ud800 escapes can make).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.routing import IntegerConverter, Map

# What no database column or encoder takes: NUL and lone surrogates.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# ... and, in text Werkzeug decoded for us (forms, URLs), the mark of undecodable bytes.
_UNREADABLE = re.compile("[\x00\ud800-\udfff\ufffd]")

# The largest id an `<int:…>` URL part can name: PostgreSQL's `integer` columns end here,
# and a larger number is a 404 like any other missing row, not an overflow.
MAX_INT_ID = 2**31 - 1
SUBMIT_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def not_as_sent() -> str:
    """The refusal of a body our page would never send (in the request's language)."""
    message: str = _(
        "This form was not sent the way the page sends it. Nothing was stored. "
        "Please go back, reload the page and try again."
    )
    return message


def unstorable(text: str) -> bool:
    """Whether `text` holds a character no column or encoder takes (NUL, a lone surrogate)."""
    return _UNSTORABLE.search(text) is not None


def unreadable(text: str) -> bool:
    """Like `unstorable`, for text decoded with errors="replace": U+FFFD marks lost bytes."""
    return _UNREADABLE.search(text) is not None


@dataclass(frozen=True)
class Part:
    """The shape a field arrives in from our own page: a file or text, once or repeated."""

    file: bool = False
    many: bool = False


TEXT = Part()
TEXTS = Part(many=True)
FILE = Part(file=True)
FILES = Part(file=True, many=True)


def split_parts(formdata: Any) -> tuple[MultiDict[str, Any], MultiDict[str, FileStorage]]:
    """A form's text parts and file parts, apart."""
    text: MultiDict[str, Any] = MultiDict()
    files: MultiDict[str, FileStorage] = MultiDict()
    for name, value in formdata.items(multi=True):
        (files if isinstance(value, FileStorage) else text).add(name, value)
    return text, files


def misshapen(
    expected: Mapping[str, Part], text: MultiDict[str, Any], files: MultiDict[str, Any]
) -> str | None:
    """The first field sent in a shape its page never sends, or None.

    Names the form does not have are left alone: pages hold several forms, and what
    no field reads is never used (nor stored: unclaimed uploads are discarded).
    """
    for name, part in expected.items():
        texts, uploads = text.getlist(name), files.getlist(name)
        wrong, count = (texts, len(uploads)) if part.file else (uploads, len(texts))
        if wrong or (count > 1 and not part.many):
            return name
    return None


def int_id(value: object) -> int | None:
    """The integer id a client named, or None: ASCII digits only (int() would also take
    " 7", "+7" or "٣"), and no larger than an integer column holds."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_INT_ID)):
        return None
    number = int(text)
    return number if number <= MAX_INT_ID else None


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` with an upper bound, so a huge number is a 404, not an integer overflow."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # Werkzeug's parameter names
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_INT_ID if max is None else max, signed)


def refuse_unreadable_address() -> None:
    """A URL whose path or query holds text we cannot read or store is refused whole:
    a path as missing (404), a query as a bad request (400)."""
    if any(isinstance(v, str) and unreadable(v) for v in (request.view_args or {}).values()):
        abort(404)
    if any(unreadable(k) or unreadable(v) for k, v in request.args.items(multi=True)):
        abort(400)


def refuse_second_token() -> None:
    """Each of our forms sends one CSRF token. Flask-WTF takes the first it finds, so a
    form sent with two (or a token under another form's prefix as well) is refused here,
    for every view, those that read no form of their own (a logout button) included."""
    if request.endpoint is None or request.blueprint == "api":
        return  # no such page; or the API, which takes no CSRF token and parses its bodies
    if request.method not in SUBMIT_METHODS:
        return
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    tokens = sum(
        len(parts.getlist(key))
        for parts in (request.form, request.files)
        for key in parts
        if key.endswith(name)
    )
    if tokens > 1:
        abort(400, description=not_as_sent())


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their `<int:…>` parts take the bound.
    After CSRFProtect: it has parsed the form by the time these run."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_unreadable_address)
    app.before_request(refuse_second_token)

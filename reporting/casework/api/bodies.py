"""Reading request bodies: JSON objects within a size limit, fields of the right type.

Every refusal is a JSON 4xx that says what to send instead; nothing is stored. A body
is read strictly, before any view sees it: a key given twice, NaN or Infinity, nesting
deeper than the parser goes, or a string no column can store (NUL, a lone surrogate,
which a \\ud800 escape makes) is refused, not guessed at (reporting/web/inputs.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from reporting.casework.api.errors import fail
from reporting.web.inputs import unstorable

NOT_JSON = "The body is not valid JSON (UTF-8). Nothing was stored."


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(data: bytes) -> Any:
    """Strict JSON: UTF-8, each key once, no NaN or Infinity."""
    try:
        return json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except _DuplicateKey as duplicate:
        name = duplicate.key if not unstorable(duplicate.key) else "?"
        fail(400, message=f"The field {name!r} is given twice. Nothing was stored.", fields=[name])
    except (UnicodeDecodeError, ValueError, RecursionError):
        fail(400, message=NOT_JSON)


def _unstorable_field(body: dict[str, Any]) -> str | None:
    """The top-level field that holds, at any depth, a string no column can store."""
    for name, value in body.items():
        stack = [name, value]
        while stack:  # not recursive: the parser allows deeper nesting than Python's stack
            item = stack.pop()
            if isinstance(item, str) and unstorable(item):
                return name
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def limits() -> Any:
    return current_app.config["SETTINGS"].limits


def json_object(max_bytes: int | None = None) -> dict[str, Any]:
    """The request's JSON object, read no further than `max_bytes` (413 past it)."""
    if request.mimetype != "application/json":
        fail(415, message="Send a JSON object with Content-Type: application/json.")
    limit = max_bytes if max_bytes is not None else limits().max_message_bytes
    if request.content_length is not None and request.content_length > limit:
        fail(413, message=f"The body is larger than this accepts ({limit:,} bytes at most).")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        fail(413, message=f"The body is larger than this accepts ({limit:,} bytes at most).")
    body = _parse(data)
    if not isinstance(body, dict):
        fail(400, message="The body must be a JSON object.")
    bad = _unstorable_field(body)
    if bad is not None:
        name = bad if not unstorable(bad) else "?"
        fail(
            400,
            message=f"The field {name!r} holds a character this service cannot store (NUL or "
            "an unpaired surrogate). Nothing was stored.",
            fields=[name],
        )
    return body


def string_field(body: dict[str, Any], name: str, max_chars: int = 10_000) -> str:
    """A required string field; 400 naming it otherwise."""
    value = body.get(name)
    if not isinstance(value, str):
        fail(400, message=f"The field {name!r} must be a string.", fields=[name])
    if len(value) > max_chars:
        fail(400, message=f"The field {name!r} is too long.", fields=[name])
    return value

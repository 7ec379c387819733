"""Reading request bodies: JSON objects within a size limit, fields of the right type.

Every refusal is a JSON 4xx that says what to send instead; nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from reporting.api.errors import fail


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
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        fail(400, message="The body is not valid JSON (UTF-8). Nothing was stored.")
    if not isinstance(body, dict):
        fail(400, message="The body must be a JSON object.")
    return body


def string_field(body: dict[str, Any], name: str, max_chars: int = 10_000) -> str:
    """A required string field; 400 naming it otherwise."""
    value = body.get(name)
    if not isinstance(value, str):
        fail(400, message=f"The field {name!r} must be a string.", fields=[name])
    if len(value) > max_chars:
        fail(400, message=f"The field {name!r} is too long.", fields=[name])
    return value

"""JSON errors of the API: a stable code for programs and a sentence for people.

Every error under /api/ is JSON, including those no API view raised (an unknown
URL, a wrong method, a body over the size limit), so the client can always show
the caseworker what went wrong (docs/caseworker-api.md).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from flask import Response, abort, current_app, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"

# The code and default sentence for each status; views give a more specific sentence.
DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read. Nothing was stored."),
    401: (
        "unauthorized",
        "A valid token is needed: log in again with `reporting-caseworker login`.",
    ),
    403: ("forbidden", "Only an admin of the organisation may do that."),
    404: ("not_found", "There is nothing at this address in your organisation."),
    405: ("method_not_allowed", "This address does not take that method."),
    409: ("conflict", "That conflicts with the current state. Nothing was changed."),
    413: ("too_large", "What you sent is larger than this service accepts. Nothing was stored."),
    415: ("unsupported_media_type", "Send this as JSON (Content-Type: application/json)."),
    422: ("invalid", "A field has a value outside its set. Nothing was changed."),
    429: ("too_many_requests", "Too many requests in a short time. Try again later."),
    500: ("internal_error", "Something went wrong on the server. Nothing was stored."),
    503: ("unavailable", "The service cannot take this request now. Try again later."),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(
    status: int, code: str | None = None, message: str | None = None, **extra: Any
) -> Response:
    """A JSON error response; the code and message default to the status's own."""
    default_code, default_message = DEFAULTS.get(status, DEFAULTS[500])
    body = {"error": code or default_code, "message": message or default_message, **extra}
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def fail(
    status: int, code: str | None = None, message: str | None = None, **extra: Any
) -> NoReturn:
    """Stop the request with a JSON error."""
    abort(error_response(status, code, message, **extra))


def from_http_error(error: HTTPException) -> Response:
    """The JSON form of an error Werkzeug or Flask raised (routing, method, size limits)."""
    status = error.code or 500
    response = error_response(status)
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keeps Allow on a 405, WWW-Authenticate on a 401
            response.headers[name] = value
    return response

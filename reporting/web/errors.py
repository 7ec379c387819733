"""Every error is a readable page that says what went wrong and what to do (invariant 5);
under /api/ it is JSON instead (reporting/casework/api/errors.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    InternalServerError,
    SecurityError,
)

from reporting.casework.api import errors as api_errors
from reporting.infra.db import CommitUncertain
from reporting.intake import codename_page
from reporting.web import last_resort

# Set on `g` once a reporter's submission is committed: an error after that point must say
# that it was stored (and show the codename), never "nothing was stored".
STORED = "stored_submission"


class BodyTooSlow(TimeoutError):
    """The request body arrived below the minimum rate (reporting/web/gunicorn_worker.py); a
    TimeoutError, so gunicorn closes the connection instead of draining the rest."""


def _explanations() -> dict[int, tuple[str, str]]:
    """Titles and default messages; the request's language is known only inside a request."""
    return {
        400: (
            _("Something in the request was wrong"),
            _("Nothing was stored. Please go back, check the form and try again."),
        ),
        403: (_("Not allowed"), _("You cannot open this page.")),
        404: (
            _("Page not found"),
            _("There is no page at this address. Check the address, or start from the home page."),
        ),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        408: (
            _("Too slow"),
            _(
                "What you sent arrived too slowly, and the connection was closed. Nothing was "
                "stored. Please try again, perhaps with fewer or smaller files."
            ),
        ),
        413: (
            _("Too much data"),
            _(
                "What you sent is larger than this service accepts (%(mb)d MB in all). Nothing "
                "was stored. Please send fewer or smaller files.",
                mb=current_app.config["SETTINGS"].limits.max_submission_bytes // (1024 * 1024),
            ),
        ),
        429: (
            _("Please wait"),
            _("Too many requests in a short time. Nothing was stored. Please try again later."),
        ),
        503: (
            _("Not available"),
            _("The service cannot take this request now. Nothing was stored. Please try later."),
        ),
    }


def note_stored(codename: str | None = None) -> None:
    """Record that this request's submission is committed (with the codename it got, if new)."""
    g.setdefault(STORED, {"codename": codename})


def render_error(code: int, message: str | None = None) -> tuple[str, int]:
    """Render the error page for `code`, with `message` when the raiser gave a specific one."""
    stored = g.get(STORED)
    if stored is not None and code >= 500:
        return _render_stored(code, stored["codename"])
    title, default = _explanations().get(
        code,
        (_("Something went wrong"), _("Nothing was stored. Please try again later.")),
    )
    return render_template("errors.html", code=code, title=title, message=message or default), code


def _render_stored(code: int, codename: str | None) -> tuple[str, int]:
    """Something failed after the commit: the truth is that it was stored, so say so."""
    if codename:
        return codename_error_page(STORED_KIND, code, codename)
    title = _("Your information was received")
    message = _(
        "What you sent was stored and the caseworkers will read it, but something went "
        "wrong after that. Do not send it again."
    )
    return render_template("errors.html", code=code, title=title, message=message), code


# The error pages that show a new report's codename: stored, or perhaps stored.
STORED_KIND, UNCERTAIN_KIND = "stored", "uncertain"
CODENAME_ERROR_FORM = "codename-error-language"


def _codename_texts(kind: str) -> tuple[str, str]:
    if kind == STORED_KIND:
        return _("Your report was received"), _(
            "Your report was stored and the caseworkers will read it, but something went wrong "
            "after that. Do not send it again. Keep your codename safe: it is the only way "
            "back to your report."
        )
    return _("We cannot tell whether it was stored"), _(
        "The database stopped answering just as your report was being saved, so it may "
        "or may not have been stored. In a few minutes, enter this codename on the page "
        "for coming back to a report: if it opens your report, it was stored, so keep "
        "the codename safe. If it does not, please send your report again."
    )


def codename_error_page(kind: str, code: int, codename: str) -> tuple[str, int]:
    """An error page showing a new report's codename. Its language buttons send a form that
    carries the codename and a MAC of it (intake/codename_page.py), not a link that would
    lose it; the session is no help here, since a late failure may skip saving it."""
    title, message = _codename_texts(kind)
    page = render_template(
        "errors.html",
        code=code,
        title=title,
        message=message,
        codename=codename,
        codename_switch=codename_page.vouch(kind, code, codename),
        language_form=CODENAME_ERROR_FORM,
    )
    return page, code


def _specific(error: HTTPException) -> str | None:
    """Our own exceptions carry a translated description; Werkzeug's defaults are English."""
    description = error.description
    if description and type(error).description != description:
        return str(description)
    return None


def _retry_after(error: HTTPException) -> dict[str, str]:
    """Keep a 429's or 503's Retry-After, so a client knows when to come back."""
    return {k: v for k, v in error.get_headers() if k == "Retry-After"}


def handle_http_error(error: HTTPException) -> Any:
    if error.code is None or error.response is not None:
        return error
    if isinstance(error, SecurityError):
        return wrong_host()
    if api_errors.is_api_request():
        response = api_errors.from_http_error(error)
        response.headers.update(_retry_after(error))
        return response
    body, code = render_error(error.code, _specific(error))
    return body, code, _retry_after(error)


def handle_client_disconnected(error: ClientDisconnected) -> Any:
    """A body cut off by the minimum-rate rule is a 408, not a malformed request."""
    if isinstance(error.__context__, BodyTooSlow):
        if api_errors.is_api_request():
            return api_errors.error_response(408, "too_slow", "The request arrived too slowly.")
        return render_error(408)
    return handle_http_error(error)


def wrong_host() -> Any:
    """A Host header that REPORTING_ALLOWED_HOSTS does not list: no page of ours can be
    built for it (URLs are made from the host), and nobody who came the right way sees it."""
    return current_app.response_class(
        "Bad Request: this service does not answer to that host name. Nothing was stored.\n",
        status=400,
        mimetype="text/plain",
    )


def handle_csrf_error(error: CSRFError) -> Any:
    if getattr(session, "unverified", False):
        # The session was refused because the database is down, not because it expired.
        return handle_database_unavailable(error)
    if request.mimetype == "multipart/form-data" and not request.form and not request.files:
        # Werkzeug drops a multipart body it cannot parse, token and all.
        return render_error(
            400,
            _(
                "The form did not arrive complete or could not be read (the connection may "
                "have been cut). Nothing was stored. Please go back and send it again."
            ),
        )
    return render_error(
        400,
        _(
            "This form has expired or was already sent. Nothing new was stored. Please go "
            "back, reload the page, and send it again if you need to."
        ),
    )


def handle_internal_error(error: InternalServerError) -> Any:
    if api_errors.is_api_request():
        return api_errors.error_response(500)
    return render_error(500)


def handle_commit_uncertain(error: CommitUncertain) -> Any:
    """The connection was lost during the commit: say that we cannot tell, and how to find
    out (a new report's codename opens it if it was stored)."""
    if api_errors.is_api_request():
        return api_errors.error_response(
            503,
            "uncertain",
            "The database connection was lost while this was being saved, so it may or may not "
            "be stored. Look before sending it again.",
        )
    if g.get(STORED) is not None:
        return render_error(503)
    if error.codename:
        return codename_error_page(UNCERTAIN_KIND, 503, error.codename)
    title = _("We cannot tell whether it was stored")
    message = _(
        "The database stopped answering just as this was being saved, so it may or may "
        "not have been stored. In a few minutes, look at your report: if it is not "
        "there, please send it again."
    )
    return render_template("errors.html", code=503, title=title, message=message), 503


def handle_database_unavailable(error: Exception) -> Any:
    """The database is restarting or down: a 503 that says to come back, not a 500."""
    if api_errors.is_api_request():
        return api_errors.error_response(503)
    return render_error(503)


def init_app(app: Flask) -> None:
    last_resort.init_app(app)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(ClientDisconnected, handle_client_disconnected)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(CommitUncertain, handle_commit_uncertain)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(HTTPException, handle_http_error)

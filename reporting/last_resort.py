"""The last error page: what a reporter sees when even the error handlers failed.

Flask turns an exception in a view into our error page (reporting/errors.py). What it
cannot catch (an error handler that fails, a teardown that raises) would reach the WSGI
server, which answers with its own bare "Internal Server Error" in English. This
middleware answers instead with a page made when the app starts, in every interface
language at once (the request's own language may be what failed), that says honestly
what we know: perhaps something was stored, perhaps not.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _

from reporting.headers import SECURITY_HEADERS
from reporting.languages import INTERFACE_LANGUAGES

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _section() -> str:
    """One language's part of the page (called with that language in force)."""
    title = _("Something went wrong")
    message = _(
        "Something went wrong on our side and we cannot tell from here whether what you sent "
        "was stored. If you were shown a codename, your report was stored: keep the codename "
        "safe and do not send it again. If you were not, please send it again later; a "
        "report that arrives twice does no harm."
    )
    home = _("Go to the start page")
    return f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(message)}</p>\n" + (
        f'<p><a class="button" href="/">{html.escape(home)}</a></p>\n'
    )


def render_page(app: Flask) -> bytes:
    """The page in every interface language, each marked with its own `lang`."""
    parts = []
    with app.test_request_context("/"):
        for language in INTERFACE_LANGUAGES:
            with force_locale(language.code):
                parts.append(
                    f'<section lang="{language.html_lang}" dir="{language.direction}">\n'
                    f"{_section()}</section>"
                )
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n<title>Error 500</title>\n'
        '<link rel="stylesheet" href="/static/style.css">\n</head>\n<body>\n<main id="main">\n'
        + "\n".join(parts)
        + "\n</main>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


class LastResort:
    """WSGI middleware: an exception that escapes the app becomes our page, not the server's."""

    def __init__(self, app: WSGIApp, page: bytes) -> None:
        self.app = app
        self.page = page

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = False

        def tracking_start_response(*args: Any) -> Any:
            nonlocal started
            started = True
            return start_response(*args)

        try:
            return self.app(environ, tracking_start_response)
        except Exception as error:
            logger.error("unhandled %s escaped the app's error handling", type(error).__name__)
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(self.page))),
                *SECURITY_HEADERS.items(),
            ]
            # A second start_response must pass exc_info (PEP 3333); the first may not.
            exc_info = (type(error), error, error.__traceback__) if started else None
            start_response("500 Internal Server Error", headers, exc_info)
            return [self.page]


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI callable; the page is made now, while everything works."""
    app.wsgi_app = LastResort(app.wsgi_app, render_page(app))  # type: ignore[method-assign]

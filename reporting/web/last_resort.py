"""The last error pages: what a reporter sees when even the error handlers failed, or when
gunicorn refuses a request before the app sees it.

Flask turns an exception in a view into our error page (reporting/web/errors.py). What it
cannot catch (an error handler that fails, a teardown that raises) would reach the WSGI
server, which answers with its own bare "Internal Server Error" in English; and gunicorn
answers a request it cannot parse (a broken request line, headers too large) with its own
page that quotes the request. Both are answered here instead, with a page in every
interface language at once (the request's own language may be what failed, or unknown),
that says honestly what we know.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

from babel.support import Translations
from flask import Flask

from reporting.web.headers import SECURITY_HEADERS
from reporting.web.i18n import TRANSLATIONS
from reporting.web.languages import DEFAULT_LANGUAGE, INTERFACE_LANGUAGES

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _server_error(_: Callable[[str], str]) -> tuple[str, str]:
    """Something failed on our side; whether it happened before or after a commit is unknown."""
    return _("Something went wrong"), _(
        "Something went wrong on our side and we cannot tell from here whether what you sent "
        "was stored. If you were shown a codename, your report was stored: keep the codename "
        "safe and do not send it again. If you were not, please send it again later; a "
        "report that arrives twice does no harm."
    )


def _unreadable_request(_: Callable[[str], str]) -> tuple[str, str]:
    """The server could not read the request at all, so the app never saw it."""
    return _("Something in the request was wrong"), _(
        "This request could not be read, so nothing was stored. Please go back and try again."
    )


def _gettext(code: str) -> Callable[[str], str]:
    if code == DEFAULT_LANGUAGE:
        return lambda message: message
    translations = Translations.load(str(TRANSLATIONS), [code])
    return translations.gettext


@functools.cache
def render_page(server_error: bool = True) -> bytes:
    """The page in every interface language, each section marked with its own `lang`."""
    texts = _server_error if server_error else _unreadable_request
    sections = []
    for language in INTERFACE_LANGUAGES:
        _ = _gettext(language.code)
        title, message = texts(_)
        home = _("Go to the start page")
        sections.append(
            f'<section lang="{language.html_lang}" dir="{language.direction}">\n'
            f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(message)}</p>\n"
            f'<p><a class="button" href="/">{html.escape(home)}</a></p>\n</section>'
        )
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n<title>Error</title>\n'
        '<link rel="stylesheet" href="/static/style.css">\n</head>\n<body>\n<main id="main">\n'
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def page_headers(page: bytes) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(page))),
        *SECURITY_HEADERS.items(),
    ]


class LastResort:
    """WSGI middleware: an exception that escapes the app becomes our page, not the server's."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.page = render_page()

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
            # A second start_response must pass exc_info (PEP 3333); the first may not.
            exc_info = (type(error), error, error.__traceback__) if started else None
            start_response("500 Internal Server Error", page_headers(self.page), exc_info)
            return [self.page]


def write_server_error(sock: Any, status_int: int, reason: str, _message: str) -> None:
    """gunicorn's `util.write_error`, with our page (deploy/gunicorn.conf.py installs it).

    gunicorn's own page quotes the refused request line or header back; ours says only
    that nothing was stored (4xx), or that we cannot tell (5xx).
    """
    from gunicorn.util import write_nonblock

    page = render_page(server_error=status_int >= 500)
    lines = [f"HTTP/1.1 {status_int} {reason}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in page_headers(page)]
    head = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
    write_nonblock(sock, head + page)


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI callable; the page is made now, while everything works."""
    app.wsgi_app = LastResort(app.wsgi_app)  # type: ignore[method-assign]

"""The interface language: chosen by the reporter, else guessed from the browser, else English."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import Blueprint, Flask, abort, redirect, request, session
from flask_babel import Babel, get_locale, refresh
from werkzeug.wrappers import Response

from reporting.web.inputs import not_as_sent
from reporting.web.languages import (
    DEFAULT_LANGUAGE,
    INTERFACE_LANGUAGES,
    interface_language,
    text_direction,
)

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
SESSION_KEY = "lang"
# The name of the language buttons inside a reporter page's form (templates/base.html).
LANGUAGE_FIELD = "language"

bp = Blueprint("i18n", __name__)


def language_for_tag(tag: str) -> str | None:
    """Map one Accept-Language tag to a catalog code, or None if we have no catalog for it.

    Chinese is decided by script, not by region: Babel fills in the likely script, so zh-TW,
    zh-HK and zh-MO come out as Traditional and plain zh as Simplified. Cantonese readers mostly
    read Traditional characters.
    """
    try:
        locale = Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language in ("zh", "yue"):
        traditional = locale.script == "Hant" or (locale.language == "yue" and not locale.script)
        return "zh_Hant" if traditional else "zh_Hans"
    known = interface_language(locale.language)
    return known.code if known else None


def select_language() -> str:
    """Return exactly a catalog folder name: Babel would otherwise expand it and miss the folder."""
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and interface_language(chosen):
        return chosen
    # Stable sort: tags of equal quality keep the order the browser sent them in.
    for tag, quality in sorted(request.accept_languages, key=lambda item: -item[1]):
        if quality <= 0:
            continue
        code = language_for_tag(tag)
        if code:
            return code
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The catalog code in use for this request."""
    locale = get_locale()
    return str(locale) if locale else DEFAULT_LANGUAGE


def language_context() -> dict[str, Any]:
    """What every template needs to mark up its language and direction correctly."""
    code = current_language()
    known = interface_language(code)
    return {
        "html_lang": known.html_lang if known else code.replace("_", "-"),
        "text_dir": text_direction(code),
        "current_language": code,
        "interface_languages": INTERFACE_LANGUAGES,
    }


def is_safe_local_path(target: str | None) -> bool:
    """Only same-site paths: `//host`, `/\\host` and hidden whitespace would leave the site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    # Browsers drop tabs and newlines and read `\` as `/`, so `/\t/evil` becomes `//evil`.
    if any(char == "\\" or char.isspace() or ord(char) < 32 or ord(char) == 127 for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.get("/language/<code>")
def language(code: str) -> Response:
    """Remember the reader's choice in the session and go back to the page they were on."""
    if not interface_language(code):
        abort(404)
    session[SESSION_KEY] = code
    target = request.args.get("next")
    path = target if target and is_safe_local_path(target) else "/"
    # `next` comes from `request.full_path`, which leaves out where the app is mounted.
    return redirect(request.script_root + path, code=303)


def requested_language() -> str | None:
    """The language a reporter chose with a language button of the form they sent, or None
    when they pressed the form's own button.

    On pages with a form the language choices are buttons of that form, so a switch sends
    what was typed, and the page comes back filled in, in the new language (a link would
    reload an empty form). Anything but one known language code is not what the page sends.
    """
    if request.method != "POST" or LANGUAGE_FIELD not in request.form:
        return None
    codes = request.form.getlist(LANGUAGE_FIELD)
    if len(codes) != 1 or not interface_language(codes[0]):
        abort(400, description=not_as_sent())
    return codes[0]


def use_language(code: str) -> None:
    """Remember the choice and draw the rest of this request in it (Babel caches per request)."""
    session[SESSION_KEY] = code
    refresh()


def switched_language() -> bool:
    """Switch to the language the reporter's button asked for, if it asked: True if so."""
    code = requested_language()
    if code is None:
        return False
    use_language(code)
    return True


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with our catalogs and selector, and give templates the language."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    app.context_processor(language_context)

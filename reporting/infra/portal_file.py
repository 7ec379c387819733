"""What the operator says about the portal: who runs it, how to check its address, where the
quick exit goes, and which countries the report form lists first.

Read once at start-up from `portal.toml` in the instance folder and checked strictly: a
mistake there would otherwise show reporters the wrong name or send the quick exit nowhere,
so the service refuses to start and says which key is wrong and what to do. The texts are
shown autoescaped (never as HTML), in the reader's language, else in English, else the
generic wording of the templates.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reporting.intake.countries import country_codes
from reporting.web.languages import DEFAULT_LANGUAGE, INTERFACE_LANGUAGES

PORTAL_FILE = "portal.toml"
LANGUAGE_CODES = tuple(language.code for language in INTERFACE_LANGUAGES)
# Longest text per key, in characters: a name fits a header, a description a short paragraph.
MAX_CHARS = {"name": 100, "description": 600, "verify": 400, "quick_exit": 500}
# Keys whose text may run over several lines (shown with its line breaks).
MULTILINE_KEYS = frozenset({"description", "verify"})
MAX_LIKELY_COUNTRIES = 20
# Bidirectional embeddings, overrides and isolates could make a published address read
# differently from what it is: refused. The marks (U+200E, U+200F) and joiners are allowed.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class PortalFileError(RuntimeError):
    """The portal file is wrong; the message names the file, the key, and what to do."""


@dataclass(frozen=True)
class PortalTexts:
    """The operator's texts in one language; None where the file gives none."""

    name: str | None = None
    description: str | None = None
    verify: str | None = None
    quick_exit: str | None = None


@dataclass(frozen=True)
class Portal:
    """Everything `portal.toml` sets, by interface language."""

    # (language code, its texts) pairs: a tuple, so the settings stay hashable like the rest.
    texts: tuple[tuple[str, PortalTexts], ...] = ()
    likely_countries: tuple[str, ...] = ()

    def text(self, language: str, key: str) -> str | None:
        """The text in `language`, else in English; None when neither has one."""
        by_language = dict(self.texts)
        for code in (language, DEFAULT_LANGUAGE):
            value = getattr(by_language.get(code, PortalTexts()), key)
            if value:
                return str(value)
        return None

    @property
    def named(self) -> bool:
        """Whether the operator named the organisation in any language."""
        return any(texts.name for _, texts in self.texts)


def load_portal(instance_path: Path) -> Portal:
    """The portal file of this instance; the generic portal when there is none."""
    path = instance_path / PORTAL_FILE
    if not path.exists():
        return Portal()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PortalFileError(f"{path}: is not UTF-8 text; save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise PortalFileError(f"{path}: is not valid TOML ({error}); fix the syntax.") from None
    return parse_portal(document, str(path))


def parse_portal(document: Mapping[str, Any], where: str) -> Portal:
    """Check every key of a parsed portal file; PortalFileError at the first wrong one."""
    texts: dict[str, PortalTexts] = {}
    likely: tuple[str, ...] = ()
    for key, value in document.items():
        if key == "likely_countries":
            likely = _countries(value, f"{where}: likely_countries")
        elif key in LANGUAGE_CODES:
            texts[key] = _texts(value, f"{where}: [{key}]")
        else:
            raise PortalFileError(
                f"{where}: unknown key {key!r}. Allowed at the top: likely_countries, and one "
                f"table per language: {', '.join(f'[{code}]' for code in LANGUAGE_CODES)}."
            )
    return Portal(texts=tuple(texts.items()), likely_countries=likely)


def _texts(table: Any, where: str) -> PortalTexts:
    if not isinstance(table, dict):
        raise PortalFileError(f'{where}: must be a table of texts, like [en] with name = "…".')
    values: dict[str, str] = {}
    for key, value in table.items():
        if key not in MAX_CHARS:
            raise PortalFileError(f"{where}: unknown key {key!r}. Allowed: {', '.join(MAX_CHARS)}.")
        values[key] = _text(value, key, f"{where} {key}")
    if "quick_exit" in values:
        _check_web_address(values["quick_exit"], f"{where} quick_exit")
    return PortalTexts(**values)


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise PortalFileError(f"{where}: must be a text in quotes, not {type(value).__name__}.")
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise PortalFileError(f"{where}: is empty; give a text or leave the key out.")
    if len(text) > MAX_CHARS[key]:
        raise PortalFileError(
            f"{where}: is {len(text)} characters long; at most {MAX_CHARS[key]} are allowed. "
            "Shorten it."
        )
    allowed = "\n" if key in MULTILINE_KEYS else ""
    for char in text:
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise PortalFileError(
                f"{where}: contains the control character U+{ord(char):04X}"
                f"{'' if allowed else ' (this key takes one line)'}; remove it."
            )
    if _BIDI_CONTROLS.search(text):
        raise PortalFileError(
            f"{where}: contains a bidirectional override or isolate character (U+202A-U+202E, "
            "U+2066-U+2069), which can make a text read differently from what it is; remove it."
        )
    if "<" in text and re.search(r"<[A-Za-z/!]", text):
        raise PortalFileError(
            f"{where}: looks like HTML; the portal shows plain text only, so write it without tags."
        )
    return text


def _check_web_address(url: str, where: str) -> None:
    """Only a plain http(s) address: the quick exit must open a harmless page at once."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed [IPv6] bracket, say
        raise PortalFileError(f"{where}: {url!r} is not a web address.") from None
    if parts.scheme not in ("http", "https") or not host or any(char.isspace() for char in url):
        raise PortalFileError(
            f"{where}: must be a whole http:// or https:// address, like "
            f'"https://www.bbc.com/news", not {url!r}.'
        )
    if parts.username or parts.password:
        raise PortalFileError(f"{where}: must not carry a user name or password; remove them.")


def _countries(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise PortalFileError(f'{where}: must be a list of country codes, like ["TR", "DE"].')
    codes = tuple(code.strip().upper() for code in value)
    wrong = [code for code in codes if code not in country_codes()]
    if wrong:
        raise PortalFileError(
            f'{where}: {wrong[0]!r} is not a two-letter ISO 3166 country code (e.g. "TR").'
        )
    if len(set(codes)) != len(codes):
        raise PortalFileError(f"{where}: lists a country twice; list each once.")
    if len(codes) > MAX_LIKELY_COUNTRIES:
        raise PortalFileError(
            f"{where}: lists {len(codes)} countries; at most {MAX_LIKELY_COUNTRIES}, so that "
            "they stay easy to find."
        )
    return codes

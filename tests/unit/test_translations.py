"""Every message shown has a translation, compiled, with the same placeholders."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from reporting.web.i18n import TRANSLATIONS
from reporting.web.languages import DEFAULT_LANGUAGE, INTERFACE_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as scripts/translations.sh passes to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
LOCALES = [lang.code for lang in INTERFACE_LANGUAGES if lang.code != DEFAULT_LANGUAGE]
# A printf-style conversion: `%(name)d`, `%s`, `%%`; anything else after `%` is a stray sign.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")

MessageId = str | tuple[str, ...]


def extracted_messages() -> dict[MessageId, str]:
    """Messages in the sources now, found as `pybabel extract` finds them (babel.cfg)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[MessageId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load_po(locale: str) -> Catalog:
    with open(po_path(locale), "rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> list[str]:
    """The conversions in `text`, with a marker for each `%` that starts none."""
    stray = PLACEHOLDER.sub("", text).count("%")
    return sorted(PLACEHOLDER.findall(text) + ["stray %"] * stray)


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Singular and plural messages alike, as a tuple of their texts."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@pytest.mark.slow
def test_sources_have_messages() -> None:
    """Guards the next test: an extraction that found nothing would pass it vacuously."""
    messages = extracted_messages()
    assert "Quick exit" in messages  # a template
    assert "Send the report securely" in messages  # forms.py, through _l


@pytest.mark.slow
@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    catalog = load_po(locale)
    missing = []
    for message_id, where in sorted(extracted_messages().items(), key=lambda item: item[1]):
        entry = catalog.get(message_id)
        strings = as_tuple(entry.string) if entry else ()
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(f"{where}: {message_id!r}")
    assert not missing, (
        f"{len(missing)} message(s) not translated in {locale} (run scripts/translations.sh, "
        "translate, run it again):\n" + "\n".join(missing)
    )


def mo_messages(data: bytes) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The id and text of each message (without the header), comparable whatever the layout."""
    catalog = read_mo(io.BytesIO(data))
    return {as_tuple(m.id): as_tuple(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_po(locale: str) -> None:
    """A .po edited without recompiling would show the old text in the running service."""
    compiled = io.BytesIO()
    write_mo(compiled, load_po(locale))
    shipped = po_path(locale).with_suffix(".mo").read_bytes()
    assert mo_messages(shipped) == mo_messages(compiled.getvalue()), (
        f"{locale}: messages.mo is out of date; run scripts/translations.sh"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_are_kept(locale: str) -> None:
    """A lost or renamed `%(max)d` raises KeyError when the text is formatted: a 500."""
    wrong = []
    for message in load_po(locale):
        if not message.id or not message.string:
            continue
        ids = as_tuple(message.id)
        for string in as_tuple(message.string):
            # A language with one plural form uses the plural msgid's placeholders.
            if all(placeholders(string) != placeholders(text) for text in ids):
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, f"placeholders differ in {locale}:\n" + "\n".join(wrong)


REVIEW_MARK = "review: needed"


def test_every_interface_language_has_a_catalogue_that_is_refreshed() -> None:
    """A language listed but without a catalogue would show English under its name; one not
    in scripts/translations.sh would miss every new message."""
    folders = {path.name for path in TRANSLATIONS.iterdir() if path.is_dir()}
    assert folders == set(LOCALES)
    script = (ROOT / "scripts" / "translations.sh").read_text(encoding="utf-8")
    refreshed = re.search(r"for locale in ([\w ]+); do", script)
    assert refreshed and set(refreshed.group(1).split()) == set(LOCALES)


# A letter of each catalogue's own script: a message pasted into the wrong catalogue, or left
# in English, is caught even though it is "translated".
SCRIPTS = {
    "zh_Hans": re.compile(r"[\u4e00-\u9fff]"),
    "zh_Hant": re.compile(r"[\u4e00-\u9fff]"),
    "ug": re.compile(r"[\u0600-\u06ff]"),
    "bo": re.compile(r"[\u0f00-\u0fff]"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_are_in_the_languages_script(locale: str) -> None:
    wrong = []
    for message in load_po(locale):
        if not message.id:
            continue
        for english, text in zip(as_tuple(message.id), as_tuple(message.string), strict=False):
            words = re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", english))
            if words and not SCRIPTS[locale].search(text):
                wrong.append(f"{english!r} -> {text!r}")
    assert not wrong, f"{locale}: not in its script:\n" + "\n".join(wrong)


@pytest.mark.parametrize("locale", LOCALES)
def test_unreviewed_translations_are_declared(locale: str) -> None:
    """An entry awaiting a native speaker's review carries a `review: needed` comment; then
    the catalogue's header and docs/translating.md must say that the language needs one."""
    catalog = load_po(locale)
    marked = [m.id for m in catalog if m.id and any(REVIEW_MARK in c for c in m.user_comments)]
    if not marked:
        return
    assert "NOT YET REVIEWED" in (catalog.header_comment or ""), locale
    docs = (ROOT / "docs" / "translating.md").read_text(encoding="utf-8")
    row = next((line for line in docs.splitlines() if line.startswith(f"| `{locale}`")), "")
    assert "needed" in row, f"docs/translating.md does not say that {locale} needs a review"

"""The fonts the portal serves for Uyghur and Tibetan: present, licensed, and covering every
letter those pages show, so no reader sees boxes for want of a font on their device."""

from __future__ import annotations

import fnmatch
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont

from reporting.web.i18n import TRANSLATIONS
from reporting.web.languages import interface_language

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "reporting" / "static"
CSS = (STATIC / "style.css").read_text(encoding="utf-8")

# Each language, the script block its served font must cover, its full font and name font.
SERVED = {
    "ug": ((0x0600, 0x06FF), "NotoSansArabic-Regular-ug.woff", "NotoSansArabic-name-ug.woff"),
    "bo": ((0x0F00, 0x0FFF), "NotoSerifTibetan-Regular-bo.woff", "NotoSerifTibetan-name-bo.woff"),
}


def cmap(name: str) -> set[int]:
    return set(TTFont(STATIC / "fonts" / name).getBestCmap())


def shown_text(code: str) -> str:
    """Every translation in the catalogue and every country name, as the pages show them."""
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=code)
    texts = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts.extend(s for s in strings if s)
    texts.extend(Locale.parse(code).territories.values())
    return "".join(texts)


def test_fonts_in_the_stylesheet_are_served_from_here_and_licensed() -> None:
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", CSS)
    assert urls, "no @font-face in style.css"
    for url in urls:
        assert not re.match(r"^[a-z]+:|^//", url), f"{url}: from another origin"
        assert (STATIC / url).is_file(), f"{url}: missing"
    served = {path.name for path in (STATIC / "fonts").glob("*.woff")}
    assert served == {Path(url).name for url in urls}, "a font file the stylesheet never uses"
    licence = (STATIC / "fonts" / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in licence and "Version 1.1" in licence
    for name in served:
        names = TTFont(STATIC / "fonts" / name)["name"]
        assert "Open Font License" in (names.getDebugName(13) or ""), name
        assert "Copyright" in (names.getDebugName(0) or ""), name


@pytest.mark.parametrize("code", sorted(SERVED))
def test_served_font_covers_every_letter_shown(code: str) -> None:
    (first, last), full, _ = SERVED[code]
    needed = {ord(c) for c in shown_text(code) if first <= ord(c) <= last}
    assert len(needed) > 20, "the catalogue has (almost) none of its script: wrong catalogue?"
    missing = sorted(needed - cmap(full))
    assert not missing, [f"U+{c:04X} {unicodedata.name(chr(c), '?')}" for c in missing]


@pytest.mark.parametrize("code", sorted(SERVED))
def test_name_font_covers_the_language_name(code: str) -> None:
    """scripts/subset_fonts.sh cuts these to the names in reporting/web/languages.py."""
    language = interface_language(code)
    assert language is not None
    _, _, name_font = SERVED[code]
    assert {ord(c) for c in language.name} <= cmap(name_font)


def test_fonts_and_licence_are_installed_with_the_package() -> None:
    """An installed (non-editable) portal must serve the same fonts, with their licence."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        patterns = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["reporting"]
    package = ROOT / "reporting"
    for path in sorted((STATIC / "fonts").iterdir()):
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative

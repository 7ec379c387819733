"""The languages of the interface and of replies, named in their own scripts."""

from __future__ import annotations

from typing import NamedTuple


class InterfaceLanguage(NamedTuple):
    code: str  # the catalog folder name that Flask-Babel loads
    html_lang: str  # BCP 47, for the `lang` attribute
    name: str  # in its own script, so a reader finds their language whatever is shown
    direction: str  # "ltr" or "rtl", for the `dir` attribute


INTERFACE_LANGUAGES = (
    InterfaceLanguage("en", "en", "English", "ltr"),
    InterfaceLanguage("zh_Hans", "zh-Hans", "简体中文", "ltr"),
    InterfaceLanguage("zh_Hant", "zh-Hant", "繁體中文", "ltr"),
    InterfaceLanguage("ug", "ug", "ئۇيغۇرچە", "rtl"),
    InterfaceLanguage("bo", "bo", "བོད་ཡིག", "ltr"),
)
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ug", "ur"})

# Replies are written by people, so more languages are offered than the interface has.
REPLY_LANGUAGES = [
    ("en", "English"),
    ("zh_Hans", "简体中文"),
    ("zh_Hant", "繁體中文"),
    ("yue", "粵語"),
    ("ug", "ئۇيغۇرچە"),
    ("bo", "བོད་ཡིག"),
    ("mn", "Монгол"),
    ("kk", "Қазақша"),
]


def interface_language(code: str) -> InterfaceLanguage | None:
    """The interface language with this catalog code, if it is one we have."""
    return next((lang for lang in INTERFACE_LANGUAGES if lang.code == code), None)


def text_direction(code: str) -> str:
    """`rtl` for right-to-left scripts, so templates need no per-language logic."""
    return "rtl" if code.split("_")[0] in RTL_LANGUAGES else "ltr"

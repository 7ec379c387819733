"""Which forms of a new codename the reporter is shown, in what order, for their language.

All forms write one secret (crypto/codename_kinds.py), so the reporter may keep whichever
they can copy exactly; /return reads any of them whatever the interface language. Chinese
interfaces lead with Chinese characters in their script, English with the words, any
other language with the digits, which every phone keyboard can type.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from crypto import codename_forms
from reporting.i18n import current_language


@dataclass(frozen=True)
class ShownForm:
    """One way to write the codename, as the codename page shows it."""

    element_id: str  # "codename" stays the English words' id, as pages and tests know it
    kind: str
    lang: str | None
    label: str
    text: str
    hint: str


def shown_forms(codename: str, language: str | None = None) -> list[ShownForm]:
    """The forms of `codename` to show in `language` (the request's by default)."""
    language = language or current_language()
    forms = codename_forms(codename)
    words = ShownForm(
        "codename",
        "words",
        "en",
        _("In English words"),
        forms.words,
        _("The words are in English. Keep them exactly as shown, in this order."),
    )
    digits = ShownForm(
        "codename-digits",
        "digits",
        None,
        _("In digits"),
        forms.digits,
        _("28 digits, in this order. The spaces only make them easier to read."),
    )
    if language in ("zh_Hans", "zh_Hant"):
        traditional = language == "zh_Hant"
        chinese = ShownForm(
            "codename-chinese",
            "chinese",
            "zh-Hant" if traditional else "zh-Hans",
            _("In Chinese characters"),
            forms.chinese_traditional if traditional else forms.chinese_simplified,
            _(
                "Nine characters, in this order. Simplified or Traditional characters both "
                "work, with or without spaces."
            ),
        )
        return [chinese, digits, words]
    if language == "en":
        return [words, digits]
    return [digits, words]

"""reporting/web/languages.py: an interface language's `direction` (the `dir` of the error page's
sections and of the language links) agrees with `text_direction` (the `dir` of every page),
so a right-to-left language cannot be added with one of them saying left-to-right."""

from __future__ import annotations

import pytest

from reporting.web.languages import INTERFACE_LANGUAGES, InterfaceLanguage, text_direction


@pytest.mark.parametrize("language", INTERFACE_LANGUAGES, ids=lambda lang: lang.code)
def test_each_interface_language_has_one_direction(language: InterfaceLanguage) -> None:
    assert language.direction == text_direction(language.code)

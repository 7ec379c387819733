"""ISO 3166 countries, named in the reader's language from CLDR data (via Babel)."""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask_babel import get_locale

# CLDR territories that are not ISO 3166-1 countries (regions, groupings, placeholders).
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


@cache
def _choices(locale_name: str) -> tuple[tuple[str, str], ...]:
    # CLDR names every country in English but not in every language (Tibetan lacks about 70,
    # Taiwan and Thailand among them): those keep their English name rather than vanish.
    names = {**Locale("en").territories, **Locale.parse(locale_name).territories}
    countries = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(countries, key=lambda item: item[1]))


def country_choices() -> list[tuple[str, str]]:
    """(ISO code, localised name) pairs, sorted by name for the current request's locale."""
    locale = get_locale()
    return list(_choices(str(locale) if locale else "en"))

"""ISO 3166 countries, named in the reader's language from CLDR data (via Babel) and sorted
in the reader's order (reporting/intake/collation.py)."""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask_babel import get_locale

from reporting.intake.collation import sort_key

# CLDR territories that are not ISO 3166-1 countries (regions, groupings, placeholders).
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


@cache
def country_codes() -> frozenset[str]:
    """Every country code the report form offers."""
    return frozenset(
        code
        for code in map(str, Locale("en").territories)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


@cache
def _choices(locale_name: str) -> tuple[tuple[str, str], ...]:
    # CLDR names every country in English but not in every language (Tibetan lacks about 70,
    # Taiwan and Thailand among them): those keep their English name rather than vanish.
    names = {**Locale("en").territories, **Locale.parse(locale_name).territories}
    countries = [(code, names[code]) for code in country_codes()]
    key = sort_key(locale_name)
    return tuple(sorted(countries, key=lambda item: key(item[1])))


def country_choices() -> list[tuple[str, str]]:
    """(ISO code, localised name) pairs, sorted by name in the current request's language."""
    locale = get_locale()
    return list(_choices(str(locale) if locale else "en"))

# mypy: disallow-subclassing-any=False
# (WTForms ships no type information, so its classes are Any to mypy.)
"""A select with a long, fixed list of options (the ~250 countries, several times on the
report form), whose options are rendered once per label and reused.

Rendering an option through WTForms escapes and formats it anew every time: the countries
cost about half of the report form's rendering time, on every visit, by anyone. An option's
markup depends only on its value, label and whether it is chosen, so it is kept (the
labels are the countries in five languages: a few thousand short strings at most).
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup
from wtforms.widgets import Select


@lru_cache(maxsize=8192)
def _option(value: str, label: str, selected: bool) -> Markup:
    choice = SimpleNamespace(value=value, label=label, selected=selected, render_kw=None)
    return Select.render_option(choice)  # type: ignore[no-any-return]


class LongSelect(Select):
    """`Select`, with each plain option's markup kept; anything unusual renders as before."""

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw or not isinstance(choice.value, str):
            return super().render_option(choice, **kwargs)  # type: ignore[no-any-return]
        return _option(choice.value, str(choice.label or choice.value), bool(choice.selected))

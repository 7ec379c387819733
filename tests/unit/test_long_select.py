"""The report form's long selects reuse each option's markup: the page must not change."""

from __future__ import annotations

import pytest
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from reporting.web.long_select import LongSelect

CHOICES = [
    SelectChoice("", "Choose a country (optional)"),
    SelectChoice("CN", "中国", optgroup="Often"),
    SelectChoice("TR", 'Türkiye <&> "quoted"', optgroup="Often"),
    SelectChoice("NL", "Netherlands", optgroup="All"),
    SelectChoice("CN", "中国", optgroup="All"),
]


class _Plain(Form):
    country = SelectField(choices=CHOICES, widget=Select())


class _Long(Form):
    country = SelectField(choices=CHOICES, widget=LongSelect())


@pytest.mark.parametrize("chosen", [None, "", "CN", "TR", "XX"])
def test_the_markup_is_what_wtforms_renders(chosen: str | None) -> None:
    data = {} if chosen is None else {"country": chosen}
    plain, long = _Plain(data=data), _Long(data=data)
    for _ in range(2):  # the second time from the kept markup
        assert long.country() == plain.country()
    if chosen == "TR":
        assert "&lt;&amp;&gt; &#34;quoted&#34;" in long.country()
        assert long.country().count("selected") == 1

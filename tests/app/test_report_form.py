"""The report form built from the catalogue: relatives with their choices and flags."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from protocol import catalogue
from tests.support.documents import stored_report
from tests.support.portal import Caseworker, submit_report


def test_the_page_asks_about_each_relative_with_flags_off(client: FlaskClient) -> None:
    page = client.get("/report").text
    family = catalogue.field("family")
    legends = re.findall(r"<legend>Family member (\d)</legend>", page)
    assert legends == [str(n) for n in range(1, family.max_entries + 1)]
    for n in range(family.max_entries):
        box = re.search(rf'<input[^>]*id="family-{n}-may_share"[^>]*>', page)
        assert box and "checked" not in box.group(0) and 'type="checkbox"' in box.group(0)
        assert f'name="family-{n}-do_not_contact"' in page
        assert f'id="family-{n}-harms-0"' in page and f'name="family-{n}-country"' in page


@pytest.mark.slow
def test_relatives_are_stored_with_their_flags(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    sent = submit_report(
        client,
        **{
            "family-0-relation": "mother",
            "family-0-country": "CN",
            "family-0-harms": ["questioned", "pension"],
            "family-0-may_share": "y",
            "family-1-relation": "uncle",
            "family-1-do_not_contact": "y",
            "family-3-may_share": "y",  # a flag alone is no relative
        },
    )
    assert sent.status_code == 200, sent.text[:300]
    mother, uncle = stored_report(app, caseworker)["family"]
    assert mother["harms"] == ["questioned", "pension"] and mother["country"] == "CN"
    assert (mother["may_share"], mother["do_not_contact"]) == (True, False)
    assert (uncle["may_share"], uncle["do_not_contact"]) == (False, True)

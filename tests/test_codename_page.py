"""The codename page shows every form of one codename, and /return takes any form in any language.

Each kind end to end: submit over the test client, read the form off the codename page, come
back with it in a different interface language and see the case.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from werkzeug.test import TestResponse

import crypto
from reporting import db
from reporting.reporter.codename_forms import shown_forms
from tests.portal import Caseworker, come_back, csrf_token, post_form, submit_report
from tests.test_codename_kinds import (
    OLD_CHINESE,
    OLD_CODENAME,
    OLD_DIGITS,
    OLD_LOOKUP_ID,
)

HTML_LANG = {"en": "en", "zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant"}
NOT_FOUND = "No report matches this codename"
NOT_A_CODENAME = "This is not a codename"


def in_language(client: FlaskClient, language: str) -> FlaskClient:
    assert client.get(f"/language/{language}").status_code in (302, 303)
    return client


def shown(page: TestResponse, element_id: str) -> str | None:
    """The text of one form of the codename on the page, or None if it is not shown."""
    match = re.search(rf'<code id="{element_id}"[^>]*>\s*([^<]+?)\s*</code>', page.text)
    return html.unescape(match.group(1)) if match else None


def submitted(app: Flask, language: str) -> TestResponse:
    page = submit_report(in_language(app.test_client(), language))
    assert page.status_code == 200, page.text[:2000]
    assert f'<html lang="{HTML_LANG[language]}"' in page.text
    return page


def field_errors(page: TestResponse) -> str:
    match = re.search(r'<ul class="errors" id="codename-errors">(.*?)</ul>', page.text, re.S)
    assert match, "no error next to the codename field"
    return " ".join(html.unescape(match.group(1)).split())


def assert_opens_the_case(app: Flask, typed: str, language: str) -> None:
    client = in_language(app.test_client(), language)
    response = come_back(client, typed)
    assert response.status_code == 302, field_errors(response)
    assert response.headers["Location"].endswith("/case")
    case = client.get("/case")
    assert case.status_code == 200
    assert f'<html lang="{HTML_LANG[language]}"' in case.text
    assert 'name="message"' in case.text  # the follow-up form of a signed-in reporter


@pytest.mark.parametrize(
    ("shown_in", "element_id", "typed_in"),
    [
        pytest.param("en", "codename", "zh_Hans", id="words-en-to-zh_Hans"),
        pytest.param("en", "codename-digits", "zh_Hant", id="digits-en-to-zh_Hant"),
        pytest.param("zh_Hant", "codename-digits", "en", id="digits-zh_Hant-to-en"),
        pytest.param("zh_Hans", "codename-chinese", "en", id="chinese-zh_Hans-to-en"),
        pytest.param("zh_Hant", "codename-chinese", "zh_Hans", id="chinese-zh_Hant-to-zh_Hans"),
    ],
)
def test_each_kind_end_to_end(
    app: Flask, caseworker: Caseworker, shown_in: str, element_id: str, typed_in: str
) -> None:
    page = submitted(app, shown_in)
    typed = shown(page, element_id)
    assert typed, f"no {element_id} on the {shown_in} codename page"
    assert_opens_the_case(app, typed, typed_in)


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant"])
def test_page_shows_one_secret_in_the_readers_forms(
    app: Flask, caseworker: Caseworker, language: str
) -> None:
    page = submitted(app, language)
    words, digits, chinese = (
        shown(page, "codename"),
        shown(page, "codename-digits"),
        shown(page, "codename-chinese"),
    )
    assert words and digits
    forms = crypto.codename_forms(words)
    assert digits == forms.digits
    assert re.fullmatch(r"(\d{4} ){6}\d{4}", digits)
    if language == "en":
        assert chinese is None
        assert page.text.index('id="codename"') < page.text.index('id="codename-digits"')
    else:
        expected = forms.chinese_traditional if language == "zh_Hant" else forms.chinese_simplified
        assert chinese == expected
        assert f'lang="{HTML_LANG[language]}"' in page.text.split('id="codename-chinese"')[1][:80]
        # Chinese first, for a reader of Chinese.
        assert page.text.index('id="codename-chinese"') < page.text.index('id="codename"')
    # A line saying that any of the forms works, in the page's language.
    with app.test_request_context():
        assert len(shown_forms(words, language)) == (2 if language == "en" else 3)
    said = {
        "en": "Any one of these forms opens your report",
        "zh_Hans": "以下任何一种形式都可以打开您的报告",
        "zh_Hant": "以下任何一種形式都可以打開您的報告",
    }[language]
    assert said in page.text


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(" " + OLD_DIGITS.replace(" ", "-") + " ", id="digits-hyphens"),
        pytest.param(
            "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in OLD_DIGITS),
            id="full-width-digits",
        ),
        pytest.param(OLD_DIGITS.replace(" ", ""), id="digits-no-spaces"),
        pytest.param(OLD_CHINESE.replace(" ", ""), id="chinese-no-spaces"),
        pytest.param(" ".join(OLD_CHINESE.replace(" ", "")), id="chinese-spaced"),
        pytest.param(OLD_CODENAME.upper(), id="words"),
    ],
)
def test_old_codename_opens_its_report_in_any_form(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    """A report filed under an English codename (OLD_CODENAME derives, in test_codename_kinds,
    to the lookup id the code on main gave it) opens with its digits and Chinese forms too."""
    monkeypatch.setattr("reporting.submissions.generate_codename", lambda: OLD_CODENAME)
    page = submitted(app, "en")
    assert shown(page, "codename") == OLD_CODENAME
    assert shown(page, "codename-digits") == OLD_DIGITS
    with app.app_context():
        salt = app.config["SETTINGS"].codename_salt
        stored = db.session().execute(text("SELECT lookup_id FROM report")).scalars().all()
    assert stored == [crypto.derive_keys(OLD_CODENAME, salt).lookup_id]
    assert stored[0] != OLD_LOOKUP_ID  # that one is for the test salt, not this instance's
    assert_opens_the_case(app, typed, "zh_Hant")


def test_wrong_codenames_get_the_same_error_in_every_form(
    app: Flask, caseworker: Caseworker
) -> None:
    submitted(app, "en")
    stranger = crypto.codename_forms(crypto.generate_codename())
    errors = set()
    for typed in (stranger.words, stranger.digits, stranger.chinese_traditional):
        response = come_back(in_language(app.test_client(), "en"), typed)
        assert response.status_code == 403
        errors.add(field_errors(response))
    assert len(errors) == 1
    assert NOT_FOUND in errors.pop()


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(OLD_DIGITS[:-1], id="27-digits"),
        pytest.param("9" * 28, id="past-the-last-codename"),
        pytest.param(OLD_CHINESE[:-1], id="8-characters"),
        pytest.param(OLD_DIGITS[:10] + "的北", id="mixed"),
    ],
)
def test_malformed_codenames_are_refused_before_any_derivation(
    app: Flask, caseworker: Caseworker, typed: str
) -> None:
    response = come_back(in_language(app.test_client(), "zh_Hans"), typed)
    assert response.status_code == 400
    english = come_back(app.test_client(), typed)
    assert NOT_A_CODENAME in field_errors(english)


def test_no_form_of_the_codename_is_stored(app: Flask, caseworker: Caseworker) -> None:
    page = submitted(app, "zh_Hans")
    words = shown(page, "codename")
    assert words
    forms = crypto.codename_forms(words)
    assert_opens_the_case(app, forms.digits, "zh_Hant")
    needles = [
        forms.words,
        forms.digits,
        forms.digits.replace(" ", ""),
        forms.chinese_simplified.replace(" ", ""),
        forms.chinese_traditional.replace(" ", ""),
    ]
    with app.app_context(), db.database().engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for needle in needles:
                    assert needle not in str(tuple(row)), table


@pytest.mark.parametrize("kind", ["digits", "chinese_simplified", "words"])
def test_a_followup_that_is_only_a_codename_is_refused(
    app: Flask, caseworker: Caseworker, kind: str
) -> None:
    """A reporter who pastes their codename (in any form) into a follow-up is warned, and
    nothing is sent: it would reach the caseworkers, who must never know it."""
    client = in_language(app.test_client(), "zh_Hans")
    page = submit_report(client)
    words = shown(page, "codename")
    assert words
    typed = getattr(crypto.codename_forms(words), kind)
    data = {"csrf_token": csrf_token(client, "/case"), "message": typed}
    response = post_form(client, "/case/followup", data)
    assert response.status_code == 400
    assert "这看起来像是一个代号" in html.unescape(response.text)
    with app.app_context():
        kinds = db.session().execute(text("SELECT kind FROM message")).scalars().all()
    assert [str(k) for k in kinds] == ["report"]

"""Switching language on a reporter page keeps what the page held (issue 14).

On a page with a form, the language choices are buttons of that form: the report form and
the follow-up form come back filled in, in the new language, with nothing stored and no
errors shown; the codename page comes back with its codename, but only for the codename
this session was shown; chosen files are kept (tests/app/test_kept_files.py); and the
reply language defaults to the language the reporter reads.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from reporting.infra import db
from reporting.intake import codename_page
from reporting.models import Message
from tests.support.language_switch import CANNOT_SHOW, html_lang, language_buttons, reports
from tests.support.portal import (
    Caseworker,
    codename_from,
    come_back,
    csrf_token,
    file_part,
    post_form,
    report_fields,
    submit_report,
)

TYPED = "My brother was summoned twice by the police in our home town, and they asked about me."


def messages(app: Flask) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Message)) or 0


def blobs(app: Flask) -> list[str]:
    with app.app_context():
        store = app.extensions["blobs"]
        return [*store.ids(), *(p.name for p in store.temporary_files())]


def textarea(page: TestResponse, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page.text, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1)).strip()


def is_checked(page: TestResponse, name: str, value: str) -> bool:
    for tag in re.findall(r"<input[^>]*>", page.text):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    raise AssertionError(f"no input {name}={value}")


def is_selected(page: TestResponse, name: str, value: str) -> bool:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page.text, re.S)
    assert match, f"no select {name}"
    option = re.search(rf'<option[^>]*value="{re.escape(value)}"[^>]*>', match.group(1))
    assert option, f"no option {value}"
    return "selected" in option.group(0)


def switch_report_form(client: FlaskClient, language: str, **fields: object) -> TestResponse:
    data = {"csrf_token": csrf_token(client, "/report"), **fields, "language": language}
    return post_form(client, "/report", data)


def codename_switch(client: FlaskClient, page: TestResponse) -> dict[str, str]:
    """What the codename page's language form sends, read off the page."""
    form = re.search(r'<form id="codename-language".*?</form>', page.text, re.S)
    assert form, "no language form on the codename page"
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
    return {name: html.unescape(value) for name, value in values.items()}


def test_report_form_comes_back_filled_in_in_the_new_language(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    fields = report_fields(
        narrative=TYPED,
        methods=["agents_contact", "summons_or_tea"],
        consent="none",
        reply_language="ug",
        city="Ürümqi 乌鲁木齐",
        country="CN",
    )
    page = switch_report_form(client, "zh_Hans", **fields)
    assert page.status_code == 200, page.text[:2000]
    assert html_lang(page) == "zh-Hans"
    assert "提交" in page.text or "报告" in page.text
    assert textarea(page, "narrative") == TYPED
    assert is_checked(page, "methods", "agents_contact")
    assert is_checked(page, "methods", "summons_or_tea")
    assert not is_checked(page, "methods", "pressure_to_return")
    assert is_checked(page, "consent", "none")
    assert is_selected(page, "reply_language", "ug")
    assert is_selected(page, "country", "CN")
    assert 'value="Ürümqi 乌鲁木齐"' in page.text
    assert "error-summary" not in page.text and 'class="errors"' not in page.text
    assert "kept-files" not in page.text  # no file was sent, none is listed
    assert set(language_buttons(page)) == {"report-form"}
    assert page.headers["Cache-Control"] == "no-store"
    assert reports(app) == 0 and blobs(app) == []
    # The language stays chosen, and the filled-in form can then be sent as it is.
    sent = post_form(client, "/report", {"csrf_token": csrf_token(client, "/report"), **fields})
    assert sent.status_code == 200 and html_lang(sent) == "zh-Hans"
    assert codename_from(sent)
    assert reports(app) == 1


def test_switching_language_does_not_check_the_form(app: Flask, caseworker: Caseworker) -> None:
    """An empty or half-typed form switches language without error messages."""
    client = app.test_client()
    page = switch_report_form(client, "bo", narrative="short")
    assert page.status_code == 200
    assert html_lang(page) == "bo"
    assert textarea(page, "narrative") == "short"
    assert 'class="errors"' not in page.text
    assert reports(app) == 0


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant", "ug", "bo"])
def test_reply_language_defaults_to_the_reading_language(
    app: Flask, caseworker: Caseworker, language: str
) -> None:
    client = app.test_client()
    assert client.get(f"/language/{language}").status_code == 303
    page = client.get("/report")
    assert is_selected(page, "reply_language", language)
    for other in ("en", "zh_Hans", "zh_Hant", "ug", "bo"):
        if other != language:
            assert not is_selected(page, "reply_language", other)


def test_a_chosen_reply_language_wins_over_the_default(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    client.get("/language/zh_Hans")
    page = switch_report_form(client, "zh_Hans", **report_fields(reply_language="en"))
    assert is_selected(page, "reply_language", "en")
    assert not is_selected(page, "reply_language", "zh_Hans")


def test_a_reply_language_left_at_the_reading_language_follows_a_switch(
    app: Flask, caseworker: Caseworker
) -> None:
    """Tor Browser shows English first: "English", sent as the default, follows the reader."""
    client = app.test_client()
    page = switch_report_form(client, "zh_Hant", **report_fields(reply_language="en"))
    assert is_selected(page, "reply_language", "zh_Hant")
    page = switch_report_form(client, "ug", **report_fields(reply_language="zh_Hant"))
    assert is_selected(page, "reply_language", "ug")
    page = switch_report_form(client, "bo", **report_fields(reply_language="zh_Hans"))
    assert is_selected(page, "reply_language", "zh_Hans")  # chosen, not the default: it stays


def test_codename_page_keeps_its_codename_across_languages(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    page = submit_report(client)
    codename = codename_from(page)
    assert set(language_buttons(page)) == {"codename-language"}
    for language in ("zh_Hans", "ug", "bo", "zh_Hant", "en"):
        sent = codename_switch(client, page)
        assert sent["codename"] == codename
        page = post_form(client, "/report/received", {**sent, "language": language})
        assert page.status_code == 200, page.text[:2000]
        assert html_lang(page) == language.replace("_", "-")
        assert codename_from(page) == codename
        assert page.headers["Cache-Control"] == "no-store"
    # A refresh sends the same form again: the page is shown again.
    again = post_form(client, "/report/received", {**sent, "language": "en"})
    assert again.status_code == 200 and codename_from(again) == codename
    assert reports(app) == 1
    # The codename still opens the report.
    assert come_back(app.test_client(), codename).status_code == 302


def test_forged_codename_shows_nothing(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    page = submit_report(client)
    codename = codename_from(page)
    sent = codename_switch(client, page)
    other = codename_from(submit_report(app.test_client()))
    for forged in (other, codename + " ", codename.upper(), "", "x" * 500):
        response = post_form(
            client, "/report/received", {**sent, "codename": forged, "language": "zh_Hans"}
        )
        assert response.status_code == 400
        assert forged.strip() == "" or forged not in response.text
        assert codename not in response.text and other not in response.text
        assert CANNOT_SHOW in response.text
    assert reports(app) == 2
    # After a forged try, even the right codename is no longer shown.
    response = post_form(client, "/report/received", {**sent, "language": "zh_Hans"})
    assert response.status_code == 400 and codename not in response.text


def test_a_session_that_was_never_shown_the_codename_is_shown_nothing(
    app: Flask, caseworker: Caseworker
) -> None:
    page = submit_report(app.test_client())
    sent = codename_switch(app.test_client(), page)
    stranger = app.test_client()
    token = csrf_token(stranger, "/report")
    response = post_form(
        stranger,
        "/report/received",
        {"csrf_token": token, "codename": sent["codename"], "language": "ug"},
    )
    assert response.status_code == 400
    assert sent["codename"] not in response.text


def test_codename_page_cannot_be_shown_once_left(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    page = submit_report(client)
    sent = codename_switch(client, page)
    assert client.get("/case").status_code == 200
    response = post_form(client, "/report/received", {**sent, "language": "zh_Hans"})
    assert response.status_code == 400
    assert codename_from_or_none(response) is None


def test_codename_page_cannot_be_shown_after_a_short_time(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codename_page, "SHOWN_FOR_SECONDS", -1)
    client = app.test_client()
    page = submit_report(client)
    sent = codename_switch(client, page)
    response = post_form(client, "/report/received", {**sent, "language": "zh_Hans"})
    assert response.status_code == 400
    assert codename_from_or_none(response) is None


def codename_from_or_none(page: TestResponse) -> str | None:
    return None if 'id="codename"' not in page.text else codename_from(page)


def test_language_switches_without_csrf_token_are_refused(
    app: Flask, caseworker: Caseworker
) -> None:
    client = app.test_client()
    page = submit_report(client)
    sent = codename_switch(client, page)
    del sent["csrf_token"]
    response = post_form(client, "/report/received", {**sent, "language": "zh_Hans"})
    assert response.status_code == 400
    assert sent["codename"] not in response.text
    response = post_form(client, "/report", {**report_fields(narrative=TYPED), "language": "bo"})
    assert response.status_code == 400
    assert TYPED not in response.text
    assert reports(app) == 1


@pytest.mark.parametrize("language", ["xx", "", "zh-Hans", "../en"])
def test_unknown_languages_are_refused(app: Flask, caseworker: Caseworker, language: str) -> None:
    client = app.test_client()
    response = switch_report_form(client, language, **report_fields())
    assert response.status_code == 400
    assert reports(app) == 0


def test_a_language_sent_twice_is_refused(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    data = {
        "csrf_token": csrf_token(client, "/report"),
        **report_fields(),
        "language": ["en", "bo"],
    }
    assert post_form(client, "/report", data).status_code == 400
    assert reports(app) == 0


def test_followup_form_comes_back_filled_in(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    submit_report(client)
    case = client.get("/case")
    assert set(language_buttons(case)) == {"followup-form"}
    before, stored = messages(app), blobs(app)
    data = {
        "csrf_token": csrf_token(client, "/case"),
        "message": TYPED,
        "attachments": [file_part(b"more evidence", "more.txt")],
        "language": "ug",
    }
    page = post_form(client, "/case/followup", data)
    assert page.status_code == 200
    assert html_lang(page) == "ug"
    assert textarea(page, "message") == TYPED
    assert 'class="errors"' not in page.text
    assert page.text.count('name="remove_kept"') == 1  # the file is kept, and listed
    assert messages(app) == before
    assert len(blobs(app)) == len(stored) + 1  # encrypted on arrival, kept for the session
    data.pop("language")
    data.pop("attachments")
    sent = post_form(client, "/case/followup", data)
    assert sent.status_code == 302 and messages(app) == before + 1
    with app.app_context():
        last = db.session().scalars(select(Message).order_by(Message.seq.desc())).first()
        assert last is not None and len(last.attachments) == 1  # the kept file went with it


def test_return_page_keeps_the_typed_codename(app: Flask, caseworker: Caseworker) -> None:
    codename = codename_from(submit_report(app.test_client()))
    client = app.test_client()
    data = {"csrf_token": csrf_token(client, "/return"), "codename": codename, "language": "bo"}
    page = client.post("/return", data=data)
    assert page.status_code == 200
    assert html_lang(page) == "bo"
    assert f'value="{codename}"' in page.text
    assert set(language_buttons(page)) == {"return-form"}
    # Nothing was tried: the codename then opens the report as usual.
    data.pop("language")
    assert client.post("/return", data=data).status_code == 302


def test_pages_without_a_form_keep_their_links(app: Flask, caseworker: Caseworker) -> None:
    page = app.test_client().get("/")
    assert language_buttons(page) == []
    assert 'href="/language/zh_Hans?next=/"' in page.text

"""An error page that shows a new report's codename keeps it across a language switch.

Something failed after the report was stored: the page says so and shows the codename.
Its language buttons send a form with the codename and the server's MAC of it, because
the failure may have skipped saving the session (here an `after_request` hook raises, as
in tests/processes/test_stored_never_lost.py), so nothing may depend on the session.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask, Response, request
from werkzeug.test import TestResponse

from reporting.intake import codename_page
from tests.support.language_switch import CANNOT_SHOW, html_lang, language_buttons, reports
from tests.support.portal import Caseworker, codename_from, come_back, post_form, submit_report

FORM = "codename-error-language"


def failing_after_the_report(app: Flask) -> Flask:
    """The report view returns its page (so after the commit), then the response fails."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # our 500 page, as in production

    @app.after_request
    def fail(response: Response) -> Response:
        if request.method == "POST" and request.path == "/report":
            raise RuntimeError("something after the commit broke")
        return response

    return app


def switch_form(page: TestResponse) -> dict[str, str]:
    """What the error page's language form sends, read off the page."""
    form = re.search(rf'<form id="{FORM}".*?</form>', page.text, re.S)
    assert form, "no language form on the error page"
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
    return {name: html.unescape(value) for name, value in values.items()}


def stored_page(app: Flask) -> TestResponse:
    page = submit_report(failing_after_the_report(app).test_client())
    assert page.status_code == 500
    assert "was stored" in page.text and "Nothing was stored" not in page.text
    return page


def test_the_codename_stays_across_every_language(app: Flask, caseworker: Caseworker) -> None:
    page = stored_page(app)
    codename = codename_from(page)
    assert set(language_buttons(page)) == {FORM}
    assert 'href="/language/' not in page.text  # a link would lose the codename
    sent = switch_form(page)
    assert "csrf_token" not in sent and sent["codename"] == codename
    for language in ("zh_Hans", "ug", "bo", "zh_Hant", "en"):
        # A browser with no session at all: the failure may have left it none.
        switched = post_form(app.test_client(), "/report/stored", {**sent, "language": language})
        assert switched.status_code == 500, switched.text[:2000]
        assert html_lang(switched) == language.replace("_", "-")
        assert codename_from(switched) == codename
        assert set(language_buttons(switched)) == {FORM}
        sent = switch_form(switched)
    assert reports(app) == 1
    assert come_back(app.test_client(), codename).status_code == 302


def test_a_forged_or_changed_form_shows_nothing(app: Flask, caseworker: Caseworker) -> None:
    page = stored_page(app)
    codename = codename_from(page)
    sent = switch_form(page)
    other = codename_from(submit_report(app.test_client()))
    changes: list[dict[str, str]] = [
        {"codename": other},
        {"codename": codename + " "},
        {"mac": "00" * 32},
        {"mac": "not hex"},
        {"until": str(int(sent["until"]) + 60)},
        {"code": "503"},
        {"kind": "uncertain"},
        {"kind": "stored\n500"},
    ]
    for change in changes:
        response = post_form(
            app.test_client(), "/report/stored", {**sent, **change, "language": "zh_Hans"}
        )
        assert response.status_code == 400, change
        assert CANNOT_SHOW in response.text
        assert codename not in response.text and other not in response.text
    # Without a language, or with one we do not have, nothing is shown either.
    assert post_form(app.test_client(), "/report/stored", sent).status_code == 400
    bad = post_form(app.test_client(), "/report/stored", {**sent, "language": "xx"})
    assert bad.status_code == 400 and codename not in bad.text
    assert reports(app) == 2


def test_the_page_is_not_shown_again_after_a_short_time(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codename_page, "SHOWN_FOR_SECONDS", -1)
    page = stored_page(app)
    sent = switch_form(page)
    response = post_form(app.test_client(), "/report/stored", {**sent, "language": "ug"})
    assert response.status_code == 400
    assert codename_from(page) not in response.text

"""Language choice, the language switcher, and what every reporter page must (not) contain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, render_template, session
from flask.testing import FlaskClient
from flask_babel import get_locale, gettext
from flask_wtf import FlaskForm

from reporting import create_app
from reporting.intake.countries import _choices, country_choices
from reporting.intake.pages.forms import (
    CodenameForm,
    ConsentForm,
    DeletionForm,
    FollowupForm,
    LogoutForm,
    UrgentForm,
)
from reporting.intake.pages.report_form import report_form
from reporting.web import i18n
from reporting.web.languages import INTERFACE_LANGUAGES, RTL_LANGUAGES, text_direction
from tests.support import databases

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
QUICK_EXIT_DEFAULT = "https://en.wikipedia.org/wiki/Special:Random"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """These tests choose languages and render templates; the database is there because
    every session cookie, the language choice's included, is checked against the ended
    session ids, and refused when they cannot be read."""
    database_url = f"sqlite:///{tmp_path / 'i18n.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    databases.migrate_fresh(database_url)
    return app


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("zh-CN", "zh_Hans"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("zh-Hans-HK", "zh_Hans"),
        ("zh_TW", "zh_Hant"),
        ("zh", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("fr, zh-TW;q=0.5", "zh_Hant"),
        ("en-US,en;q=0.5", "en"),
        ("zh-CN;q=0, en;q=0.5", "en"),
        ("de", "en"),
        ("*", "en"),
        ("not a language, zh-HK", "zh_Hant"),
        ("ug", "ug"),
        ("ug-CN, en;q=0.5", "ug"),
        ("ug-Arab", "ug"),
        ("bo", "bo"),
        ("bo-IN, zh-CN;q=0.8", "bo"),
        (None, "en"),
    ],
)
def test_locale_follows_accept_language(
    app: Flask, accept_language: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with app.test_request_context(headers=headers):
        assert i18n.select_language() == expected
        # Flask-Babel must load the catalog folder of that exact name.
        assert str(get_locale()) == expected


@pytest.mark.parametrize(
    ("code", "quick_exit"),
    [
        ("en", "Quick exit"),
        ("zh_Hans", "快速离开"),
        ("zh_Hant", "快速離開"),
        ("ug", "تېز چىقىش"),
        ("bo", "མྱུར་དུ་ཕྱིར་ཐོན།"),
    ],
)
def test_catalog_is_used(app: Flask, code: str, quick_exit: str) -> None:
    with app.test_request_context():
        session[i18n.SESSION_KEY] = code
        assert gettext("Quick exit") == quick_exit


@pytest.mark.slow
def test_session_choice_overrides_header(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        session[i18n.SESSION_KEY] = "zh_Hans"
        assert i18n.select_language() == "zh_Hans"


def test_unknown_session_choice_is_ignored(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        session[i18n.SESSION_KEY] = "zh_TW"
        assert i18n.select_language() == "zh_Hant"


def html_lang(client: FlaskClient, **kwargs: Any) -> str:
    page = client.get("/", **kwargs).get_data(as_text=True)
    match = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)">', page)
    assert match, page[:200]
    return match.group(1)


def test_switcher_sets_language_and_returns(client: FlaskClient) -> None:
    response = client.get("/language/zh_Hant", query_string={"next": "/report?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/report?x=1"
    assert html_lang(client, headers={"Accept-Language": "zh-CN"}) == "zh-Hant"
    client.get("/language/en")
    assert html_lang(client, headers={"Accept-Language": "zh-CN"}) == "en"


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/%0a/evil",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_switcher_refuses_other_sites(client: FlaskClient, target: str | None) -> None:
    query = {"next": target} if target is not None else {}
    response = client.get("/language/zh_Hans", query_string=query)
    assert response.status_code == 303
    expected = "/%0a/evil" if target == "/%0a/evil" else "/"  # an encoded newline stays a path
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("code", ["fr", "zh", "zh-Hant", "ZH_HANT", "xx"])
def test_switcher_unknown_language_is_404(client: FlaskClient, code: str) -> None:
    assert client.get(f"/language/{code}").status_code == 404


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/", True),
        ("/report?next=//x", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("/a\\b", False),
        ("/\n/evil", False),
        ("/\x00", False),
        ("http://evil.example/", False),
        ("report", False),
        ("", False),
        (None, False),
    ],
)
def test_is_safe_local_path(target: str | None, safe: bool) -> None:
    assert i18n.is_safe_local_path(target) is safe


@pytest.mark.parametrize("code", sorted(RTL_LANGUAGES))
def test_rtl_languages_render_rtl(app: Flask, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    assert text_direction(code) == "rtl"
    monkeypatch.setattr(i18n, "current_language", lambda: code)
    with app.test_request_context():
        context = i18n.language_context()
    assert context["text_dir"] == "rtl"
    assert context["html_lang"] == code


@pytest.mark.parametrize("code", ["en", "zh_Hans", "zh_Hant", "bo"])
def test_interface_languages_render_ltr(app: Flask, code: str) -> None:
    with app.test_request_context():
        session[i18n.SESSION_KEY] = code
        context = i18n.language_context()
    assert context["text_dir"] == "ltr"
    assert context["current_language"] == code


def test_uyghur_page_is_marked_right_to_left(client: FlaskClient) -> None:
    """The whole page, not a fragment, so the browser mirrors the layout (and the quick exit)."""
    client.get("/language/ug")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ug" dir="rtl">' in page
    assert "تېز چىقىش" in page


@pytest.mark.parametrize("code", [lang.code for lang in INTERFACE_LANGUAGES])
def test_every_country_is_named_in_every_language(app: Flask, code: str) -> None:
    """CLDR lacks some names in some languages (Tibetan: Taiwan, Thailand…): English stands in."""
    with app.test_request_context():
        session[i18n.SESSION_KEY] = code
        choices = dict(country_choices())
        english = dict(_choices("en"))
    assert choices.keys() == english.keys()
    assert all(name.strip() for name in choices.values())
    if code == "ug":
        assert choices["CN"] == "جۇڭگو"
    if code == "bo":
        assert choices["IN"].startswith("རྒྱ་གར")
        assert choices["TW"] == english["TW"] == "Taiwan"


def template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", template_files(), ids=lambda path: path.name)
def test_template_source_is_self_contained(path: Path) -> None:
    """The CSP allows no script, no inline style and nothing from another origin."""
    source = path.read_text(encoding="utf-8")
    assert "<script" not in source.lower()
    assert not re.search(r"\sstyle\s*=", source, re.IGNORECASE)
    assert set(re.findall(r"https?://[^\s'\"<>]+", source)) <= {QUICK_EXIT_DEFAULT}
    assert "|safe" not in source.replace(" ", "")


class PageParser(HTMLParser):
    """Collects what the accessibility checks need from a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    return parser


def message(kind: str, text: str | None, attachments: int) -> SimpleNamespace:
    return SimpleNamespace(
        kind=kind, created_on=date(2025, 3, 14), text=text, attachments=attachments
    )


def render_pages(app: Flask, code: str, invalid: bool) -> Iterator[tuple[str, str]]:
    """Every reporter page, filled in; with `invalid`, the forms carry validation errors."""
    data = {
        "narrative": "too short",
        "family-1-relation": "x" * 500,
        "consent": "maybe",
        "message": "",
        "codename": "",
    }
    method = "POST" if invalid else "GET"
    with app.test_request_context("/report", method=method, data=data):
        session[i18n.SESSION_KEY] = code
        forms: list[FlaskForm] = [
            report_form(),
            FollowupForm(),
            CodenameForm(),
            ConsentForm(),
            DeletionForm(),
        ]
        if invalid:
            for form in forms:
                assert not form.validate()
        report, followup, codename, consent, deletion = forms
        # One form of the case page is sent at a time: the others are shown fresh.
        fresh_urgent = UrgentForm(formdata=None, urgent="no")
        fresh_consent = ConsentForm(formdata=None, consent="none")
        limits = app.config["SETTINGS"].limits
        yield "index", render_template("reporter/index.html")
        yield "report", render_template("reporter/report.html", form=report, limits=limits)
        yield "received", render_template("reporter/received.html", codename="word " * 6 + "word")
        yield "return", render_template("reporter/return.html", form=codename)
        yield (
            "case",
            render_template(
                "reporter/case.html",
                status="received",
                status_label="Received",
                status_explanation="Your report has arrived safely.",
                status_note="First line\n<b>not bold</b>",
                messages=[
                    message("report", None, 2),
                    message("reply", "Hello\n<i>there</i>", 0),
                    message("followup", None, 1),
                ],
                followup_form=followup,
                urgent_form=fresh_urgent,
                consent_form=fresh_consent,
                logout_form=LogoutForm(),
            ),
        )
        yield (
            "case-controls",
            render_template(
                "reporter/case.html",
                status="received",
                status_label="Received",
                status_explanation="Your report has arrived safely.",
                status_note=None,
                messages=[],
                followup_form=FollowupForm(formdata=None),
                urgent_form=fresh_urgent,
                consent_form=consent,
                logout_form=LogoutForm(),
            ),
        )
        yield "delete", render_template("reporter/delete.html", form=deletion, delay_days=7)
        yield "error", render_template("errors.html", code=413, title="Too much", message="Big")


@pytest.mark.parametrize("invalid", [False, True], ids=["fresh", "with-errors"])
@pytest.mark.parametrize("code", ["en", "zh_Hant", "ug", "bo"])
def test_rendered_pages_are_accessible(app: Flask, code: str, invalid: bool) -> None:
    for name, page in render_pages(app, code, invalid):
        parsed = parse(page)
        ids = [attrs["id"] for _, attrs in parsed.tags if attrs.get("id")]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
        labelled = {attrs["for"] for attrs in parsed.all("label")}
        controls = [
            attrs
            for tag, attrs in parsed.tags
            if tag in ("select", "textarea")
            or (tag == "input" and attrs.get("type") not in ("hidden", "submit"))
        ]
        for attrs in controls:
            assert attrs.get("id") in labelled, f"{name}: no label for {attrs}"
        for _, attrs in parsed.tags:
            for target in (attrs.get("aria-describedby") or "").split():
                assert target in ids, f"{name}: aria-describedby points at missing {target}"
        assert "<script" not in page and " style=" not in page
        assert '<p hidden id="no-js"></p>' in page
        exit_links = [a for a in parsed.all("a") if a.get("class") == "quick-exit"]
        assert exit_links == [
            {
                "class": "quick-exit",
                "href": QUICK_EXIT_DEFAULT,
                "rel": "noreferrer noopener",
                "aria-describedby": "quick-exit-help",
            }
        ]
        assert ("error-summary" in page) is (
            invalid and name in ("report", "case", "return", "case-controls", "delete")
        )


def test_errors_are_tied_to_their_fields(app: Flask) -> None:
    pages = dict(render_pages(app, "en", invalid=True))
    parsed = parse(pages["report"])
    narrative = next(a for a in parsed.all("textarea") if a["id"] == "narrative")
    assert narrative["aria-invalid"] == "true"
    assert narrative["aria-describedby"] == "narrative-help narrative-errors"
    assert "required" in narrative
    assert 'href="#family-1-relation"' in pages["report"]
    assert 'href="#consent-0"' in pages["report"]
    assert "too short</textarea>" in pages["report"]  # what was typed is kept


def test_user_text_is_escaped_and_keeps_line_breaks(app: Flask) -> None:
    page = dict(render_pages(app, "en", invalid=False))["case"]
    assert "Hello\n&lt;i&gt;there&lt;/i&gt;" in page
    assert "First line\n&lt;b&gt;not bold&lt;/b&gt;" in page
    assert page.count("Encrypted for the caseworkers; not shown here.") == 2


def test_honeypot_is_hidden_from_people(app: Flask) -> None:
    page = dict(render_pages(app, "en", invalid=False))["report"]
    assert re.search(r'<div class="hp" aria-hidden="true">\s*<label for="website">', page)
    parsed = parse(page)
    website = next(a for a in parsed.all("input") if a.get("id") == "website")
    assert website["tabindex"] == "-1"
    assert website["autocomplete"] == "off"


def test_language_switcher_marks_current(client: FlaskClient) -> None:
    client.get("/language/zh_Hant")
    expected = [
        ("en", None),
        ("zh-Hans", None),
        ("zh-Hant", "true"),
        ("ug", None),
        ("bo", None),
    ]
    links = [
        a for a in parse(client.get("/return").get_data(as_text=True)).all("a") if a.get("hreflang")
    ]
    assert links == []  # a page with a form switches with buttons of that form
    links = [a for a in parse(client.get("/").get_data(as_text=True)).all("a") if a.get("hreflang")]
    assert [(a["lang"], a.get("aria-current")) for a in links] == expected
    assert links[0]["href"] == "/language/en?next=/"
    buttons = [
        b
        for b in parse(client.get("/report").get_data(as_text=True)).all("button")
        if b.get("lang")
    ]
    assert [(b["lang"], b.get("aria-current")) for b in buttons] == expected
    assert {(b["form"], b["name"]) for b in buttons} == {("report-form", "language")}
    assert [b["value"] for b in buttons] == ["en", "zh_Hans", "zh_Hant", "ug", "bo"]

"""The operator's portal file (instance/portal.toml): its texts on the reporter pages in each
language with fallbacks, the quick exit per language, escaping, the likely countries first,
and a clear start-up error, naming the key, for every kind of mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reporting import QUICK_EXIT_URL, create_app
from reporting.infra.portal_file import PORTAL_FILE, PortalFileError, load_portal
from reporting.intake.pages.report_form import report_form
from tests.support import databases
from tests.support.deploy import DEPLOY

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
PORTAL = """\
likely_countries = ["TR", "DE", "KZ"]

[en]
name = 'Uyghur Help & "Support" <3'
description = "We help Uyghurs abroad.\\nSince 2015."
verify = "Our address is on https://example.org/report — compare it."
quick_exit = "https://www.bbc.com/weather"

[zh_Hans]
name = "维吾尔援助"
description = "我们帮助海外维吾尔人。"
quick_exit = "https://www.bbc.com/zhongwen/simp"

[ug]
verify = "ئادرېسىمىز https://example.org/report دا."
"""


def portal_app(tmp_path: Path, text: str | None, **config: object) -> Flask:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700, exist_ok=True)
    if text is not None:
        (instance / PORTAL_FILE).write_text(text, encoding="utf-8")
    app = create_app({"TESTING": True, "INSTANCE_PATH": instance, **config})
    databases.migrate_fresh(app.config["SETTINGS"].database_url)  # sessions are checked there
    return app


def page(client: FlaskClient, language: str, path: str = "/") -> str:
    client.get(f"/language/{language}")
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def quick_exit(html: str) -> str:
    match = re.search(r'<a class="quick-exit" href="([^"]*)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return portal_app(tmp_path, PORTAL, ONION_ADDRESS=ONION).test_client()


def test_the_landing_page_names_the_organisation_escaped(client: FlaskClient) -> None:
    html = page(client, "en")
    escaped = "Uyghur Help &amp; &#34;Support&#34; &lt;3"
    assert "<3" not in html
    assert f"<title>Report threats and pressure safely · {escaped}</title>" in html
    assert f'<a class="site-name" href="/"><bdi>{escaped}</bdi></a>' in html
    assert f"This service is run by {escaped}." in html
    assert '<p class="operator-text" dir="auto">We help Uyghurs abroad.\nSince 2015.</p>' in html
    assert "run by an organisation that helps" not in html  # the generic text gives way
    # The address is shown, and how to check it, as text: no link leaves the onion.
    assert f"<code>{ONION}</code>" in html
    assert "Our address is on https://example.org/report — compare it." in html
    assert 'href="https://example.org' not in html
    assert quick_exit(html) == "https://www.bbc.com/weather"


def test_each_language_has_its_own_texts_or_english_ones(client: FlaskClient) -> None:
    chinese = page(client, "zh_Hans")
    assert "本服务由维吾尔援助运营。" in chinese
    assert "我们帮助海外维吾尔人。" in chinese
    assert " · 维吾尔援助</title>" in chinese
    assert "Our address is on https://example.org/report" in chinese  # verify: English's
    assert quick_exit(chinese) == "https://www.bbc.com/zhongwen/simp"
    uyghur = page(client, "ug")
    assert "Uyghur Help &amp; &#34;Support&#34; &lt;3" in uyghur  # name: English's
    assert "ئادرېسىمىز https://example.org/report دا." in uyghur  # its own verify
    assert quick_exit(uyghur) == "https://www.bbc.com/weather"  # quick exit: English's
    # The quick exit of the reader's language is on every page, not only the landing page.
    assert quick_exit(page(client, "zh_Hans", "/return")) == "https://www.bbc.com/zhongwen/simp"


def test_without_the_file_the_pages_keep_their_generic_text(tmp_path: Path) -> None:
    client = portal_app(tmp_path, None).test_client()
    html = page(client, "en")
    assert "<bdi>Safe reporting</bdi>" in html
    assert "run by an organisation that helps people" in html
    assert "Check that this is the real service" not in html
    assert quick_exit(html) == QUICK_EXIT_URL == quick_exit(page(client, "bo"))
    assert "<optgroup" not in page(client, "en", "/report")  # no likely countries: one list


def test_only_english_texts_serve_every_language(tmp_path: Path) -> None:
    client = portal_app(tmp_path, '[en]\nname = "Tibet Watch"\n').test_client()
    for language in ("en", "zh_Hant", "ug", "bo"):
        html = page(client, language)
        assert "<bdi>Tibet Watch</bdi>" in html
        assert "Tibet Watch" in html.split("<h1>", 1)[1]
        assert quick_exit(html) == QUICK_EXIT_URL


def test_the_likely_countries_come_first_in_the_readers_order(client: FlaskClient) -> None:
    html = page(client, "zh_Hans", "/report")
    assert html.count('<optgroup label="常选国家">') == len(
        re.findall(r'name="[a-z0-9-]*country"', html)
    )
    select = html.split('id="country"', 1)[1].split("</select>", 1)[0]
    often = select.split('<optgroup label="常选国家">', 1)[1].split("</optgroup>", 1)[0]
    # 德国 (de2), 哈萨克斯坦 (ha1), 土耳其 (tu3): pinyin order, not the file's.
    assert re.findall(r'value="([A-Z]{2})"', often) == ["DE", "KZ", "TR"]
    assert '<optgroup label="所有国家和地区">' in select
    every = select.split('<optgroup label="所有国家和地区">', 1)[1]
    assert len(re.findall(r"<option ", every)) > 240


def test_the_example_file_is_valid(tmp_path: Path) -> None:
    (tmp_path / PORTAL_FILE).write_bytes((DEPLOY / "portal.toml.example").read_bytes())
    portal = load_portal(tmp_path)
    assert portal.named and "TR" in portal.likely_countries
    assert portal.text("bo", "verify") == portal.text("en", "verify")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[en]\nname = "A"\nnmae = "B"\n', "[en]: unknown key 'nmae'"),
        ('[fr]\nname = "A"\n', "unknown key 'fr'"),
        ('organisation = "A"\n', "unknown key 'organisation'"),
        ("[en]\nname = 7\n", "[en] name: must be a text in quotes, not int"),
        ('en = "A"\n', "[en]: must be a table of texts"),
        (f'[en]\nname = "{"x" * 101}"\n', "[en] name: is 101 characters long; at most 100"),
        (f'[ug]\ndescription = "{"x" * 601}"\n', "[ug] description: is 601 characters long"),
        ('[en]\nname = "A\\nB"\n', "[en] name: contains the control character U+000A"),
        ('[en]\ndescription = "A\\u0007B"\n', "[en] description: contains the control character"),
        ('[en]\nverify = "abc\\u202Eexample.org"\n', "[en] verify: contains a bidirectional"),
        ('[en]\nname = "<b>Bold</b>"\n', "[en] name: looks like HTML"),
        ('[bo]\nverify = "see <a href=x>"\n', "[bo] verify: looks like HTML"),
        ('[en]\nname = "  "\n', "[en] name: is empty"),
        ('[zh_Hans]\nquick_exit = "javascript:alert(1)"\n', "[zh_Hans] quick_exit: must be"),
        ('[en]\nquick_exit = "https://[::1/"\n', "[en] quick_exit: 'https://[::1/' is not a"),
        ('[en]\nquick_exit = "ftp://bbc.com/"\n', "not 'ftp://bbc.com/'"),
        ('[en]\nquick_exit = "www.bbc.com"\n', "[en] quick_exit: must be a whole http"),
        ('[en]\nquick_exit = "https://user:pw@bbc.com/"\n', "[en] quick_exit: must not carry"),
        ('likely_countries = "TR"\n', "likely_countries: must be a list of country codes"),
        ('likely_countries = ["TR", "XX"]\n', "likely_countries: 'XX' is not a"),
        ('likely_countries = ["TR", "tr"]\n', "likely_countries: lists a country twice"),
        ('[en\nname = "A"\n', "is not valid TOML"),
    ],
)  # fmt: skip
def test_a_mistake_stops_the_start_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PortalFileError) as raised:
        portal_app(tmp_path, text)
    error = str(raised.value)
    assert error.startswith(str(tmp_path / "instance" / PORTAL_FILE))
    assert message in error


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / PORTAL_FILE).write_bytes('[en]\nname = "Café"\n'.encode("latin-1"))
    with pytest.raises(PortalFileError, match="is not UTF-8 text; save it as UTF-8"):
        load_portal(tmp_path)


def test_a_likely_country_is_a_valid_answer(tmp_path: Path) -> None:
    app = portal_app(tmp_path, PORTAL)
    with app.test_request_context("/report", method="POST", data={"country": "TR"}):
        form = report_form()
        form.validate()
        assert form["country"].data == "TR"
        assert "country" not in form.errors

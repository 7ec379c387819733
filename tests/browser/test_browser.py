"""End to end: a reporter in headless Chromium with JavaScript off, against a real server.

`python -m reporting` runs in a subprocess with its own instance folder (it bootstraps a demo
organisation and writes the demo caseworker key there). Chromium, driven by Playwright with
JavaScript disabled as in Tor Browser's "Safest" level, makes a report with a file, comes back
with the codename in a fresh browser context, adds information with another file and logs out.
Then the test plays caseworker: it decrypts what the server stored with the demo key and checks
that it is exactly what was typed and uploaded, and that none of it is anywhere in clear.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

import crypto
from tests.support.browser import (
    Server,
    click_and_load,
    files_containing,
    launch_chromium,
    running_server,
)
from tests.support.tools import require_module, require_tool

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CANARY = "canary-" + os.urandom(12).hex()
NARRATIVE = (
    "Two men from the public security bureau of my home town phoned my mother.\n"
    f"They said I must come back before the new year. Reference {CANARY}.\n"
    "They also asked for the names of people I meet at church."
)
FOLLOWUP = (
    f"They phoned again this week ({CANARY}).\nThis time they asked my brother for my new address."
)
FAMILY_RELATION = "mother"
METHOD_LABELS = {
    "threats_to_relatives": "Threats against relatives",
    "pressure_to_return": "Pressure to return to the home country",
}
CONSENT_LABEL = "Share it with partner organisations without anything that identifies me"


def _file_bytes(size: int) -> bytes:
    """Random bytes with the canary in several places (start, middle, end)."""
    marker = CANARY.encode("ascii")
    body = bytearray(os.urandom(size))
    for offset in (0, size // 2, size - len(marker)):
        body[offset : offset + len(marker)] = marker
    return bytes(body)


EVIDENCE = _file_bytes(300 * 1024)
EVIDENCE_DESCRIPTION = "the summons letter, page 1"
PLACE = "the service station behind the Kaiserstrasse restaurant"
# Over Werkzeug's 500 KB spooling threshold: the upload must still never reach disk in clear.
MORE_EVIDENCE = _file_bytes(600 * 1024)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return require_tool("chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("browser-e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    sync_api = require_module("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright, chromium_path)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """A browser context with JavaScript off, that checks every page it sees."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(
            java_script_enabled=False, base_url=server.url, locale="en-GB"
        )
        self.context.set_default_timeout(10_000)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = self.context.new_page()

    def goto(self, path: str) -> Page:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, path
        self.check_page()
        return self.page

    def check_page(self) -> None:
        """What must hold on every reporter page: no JS, a quick exit, nothing third-party."""
        page = self.page
        where = page.url
        # With scripting off, <noscript> content is parsed as elements; with it on, as text.
        assert page.locator("noscript #no-js").count() == 1, f"JavaScript is on at {where}"
        quick_exit = page.locator("a.quick-exit")
        assert quick_exit.count() == 1, f"no quick-exit link on {where}"
        assert quick_exit.is_visible(), f"the quick-exit link is hidden on {where}"
        href = quick_exit.get_attribute("href") or ""
        target = urlsplit(href)
        assert target.scheme == "https" and target.hostname, href
        assert target.hostname not in ("127.0.0.1", "localhost"), href
        # Everything the page loaded came from this server.
        origin = urlsplit(self.server.url).netloc
        assert all(urlsplit(url).netloc == origin for url in self.requests), self.requests

    def heading(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies()}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser, server: Server) -> Iterator[Any]:
    """Open fresh JavaScript-less contexts; close them at the end of the test."""
    opened: list[Visit] = []

    def open_visit() -> Visit:
        opened.append(Visit(browser, server))
        return opened[-1]

    yield open_visit
    for each in opened:
        each.close()


# --- reading what the server stored, as a caseworker would ----------------------------------


def _decrypt_all(server: Server) -> dict[str, bytes]:
    """Every blob under <instance>/blobs, decrypted with the demo caseworker key, by id."""
    key_text = (server.instance / "demo-caseworker-key.txt").read_text(encoding="ascii")
    identities = crypto.parse_identities(key_text)
    blobs = sorted((server.instance / "blobs").glob("??/*.age"))
    assert blobs, "no blobs were stored"
    plain = {}
    for path in blobs:
        blob_id = path.name.removesuffix(".age")
        assert path.parent.name == blob_id[:2]
        plain[blob_id] = crypto.decrypt(path.read_bytes(), identities)
    return plain


def _documents(plain: dict[str, bytes]) -> list[dict[str, Any]]:
    """The JSON documents among the blobs (padded with spaces, which JSON ignores)."""
    documents = []
    for data in plain.values():
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue  # an attachment
        if isinstance(document, dict) and document.get("schema") == "reporting/v2":
            documents.append(document)
    return documents


def _attachment(plain: dict[str, bytes], info: dict[str, Any]) -> bytes:
    """An attachment's bytes: its blob is padded with zero bytes after `size`."""
    data = plain[info["blob"]]
    assert len(data) >= info["size"]
    assert data[info["size"] :].strip(b"\0") == b"", "padding is not all zero bytes"
    return data[: info["size"]]


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# --- the journey ----------------------------------------------------------------------------


def test_report_come_back_and_follow_up_without_javascript(
    server: Server, visit: Any, tmp_path: Path
) -> None:
    # A new reporter on the landing page.
    first = visit()
    page = first.goto("/")
    assert first.heading() == "Report threats and pressure safely"
    assert page.locator("html").get_attribute("lang") == "en"

    # Make a report.
    click_and_load(page, page.get_by_role("link", name="Make a report"))
    first.check_page()
    assert urlsplit(page.url).path == "/report"
    assert first.heading() == "Make a report"

    for label in METHOD_LABELS.values():
        page.get_by_label(label, exact=True).check()
    page.get_by_label("Tell us what happened").fill(NARRATIVE)
    page.get_by_label("Country where it happened").select_option(label="Germany")
    page.get_by_label("City", exact=True).fill("Frankfurt")
    # Three family-member fieldsets repeat the same labels: the first one by its id.
    page.locator("#family-0-relation").fill(FAMILY_RELATION)
    page.get_by_label(CONSENT_LABEL, exact=True).check()
    page.get_by_label("Language for our replies").select_option(label="简体中文")
    page.get_by_label("The station or office involved", exact=True).fill(PLACE)
    # Five rows of a file and its description: the second one, so the first goes empty.
    page.locator("#attachments-1").set_input_files(
        {"name": "evidence.bin", "mimeType": "application/octet-stream", "buffer": EVIDENCE}
    )
    page.locator("#attachments_rows-1-description").fill(EVIDENCE_DESCRIPTION)
    assert page.locator("input[name=website]").input_value() == ""  # the honeypot
    click_and_load(page, page.get_by_role("button", name="Send the report securely"))
    first.check_page()

    # The codename, shown once.
    assert first.heading() == "Your report was received", page.content()
    codename = page.locator("#codename").inner_text().strip()
    words = codename.split(" ")
    assert len(words) == 7, codename
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)?", word) for word in words), codename  # "t-shirt"
    assert first.cookie_names() <= {"session"}, first.cookie_names()

    # Later, in a fresh browser (no cookies): come back with the codename.
    second = visit()
    page = second.goto("/return")
    assert second.heading() == "Come back to a report"
    page.get_by_label("Your codename").fill(codename)
    click_and_load(page, page.get_by_role("button", name="Continue"))
    second.check_page()
    assert urlsplit(page.url).path == "/case"
    assert second.heading() == "Your report"
    status = page.get_by_role("region", name="Status")
    assert status.locator(".status").inner_text().strip() == "Received"
    assert "arrived safely" in status.inner_text()
    messages = page.locator("ol.messages > li")
    assert messages.count() == 1
    assert "1 file attached" in messages.first.inner_text()
    assert CANARY not in page.content()  # the report is not shown back in clear

    # Add information, with a second (larger) file.
    page.get_by_role("textbox", name="Add information").fill(FOLLOWUP)
    page.get_by_label("More evidence").set_input_files(
        {"name": "more.bin", "mimeType": "application/octet-stream", "buffer": MORE_EVIDENCE}
    )
    click_and_load(page, page.get_by_role("button", name="Send securely", exact=True))
    second.check_page()
    assert urlsplit(page.url).path == "/case"
    flash = page.locator(".flash-success")
    assert flash.inner_text().strip() == "Your information was sent securely to the caseworkers."
    assert page.locator("ol.messages > li").count() == 2
    assert "Information you added" in page.locator("ol.messages > li").nth(1).inner_text()

    # Log out: back to the landing page, and the case is no longer reachable.
    click_and_load(page, page.get_by_role("button", name="Log out"))
    second.check_page()
    assert urlsplit(page.url).path == "/"
    assert second.heading() == "Report threats and pressure safely"
    assert "You are logged out" in page.locator(".flashes").inner_text()
    page.goto("/case")
    second.check_page()
    assert urlsplit(page.url).path == "/return"
    assert second.cookie_names() <= {"session"}, second.cookie_names()

    # The caseworker's side: decrypt everything with the demo key.
    plain = _decrypt_all(server)
    documents = _documents(plain)
    reports = [d for d in documents if d["kind"] == "report" and d["narrative"] == _crlf(NARRATIVE)]
    assert len(reports) == 1, [d.get("kind") for d in documents]
    report = reports[0]
    assert sorted(report["methods"]) == sorted(METHOD_LABELS)
    assert report["where"] == {"country": "DE", "city": "Frankfurt", "place": {"text": PLACE}}
    assert [m["relation"] for m in report["family"]] == [FAMILY_RELATION]
    assert report["consent"] == "anonymised"
    assert report["reply_language"] == "zh_Hans"
    assert report["interface_language"] == "en"
    [info] = report["attachments"]
    assert info["filename"] == "evidence.bin"
    assert info["content_type"] == "application/octet-stream"
    assert info["size"] == len(EVIDENCE)
    assert info["description"] == EVIDENCE_DESCRIPTION
    assert info["sha256"] == hashlib.sha256(EVIDENCE).hexdigest()
    assert _attachment(plain, info) == EVIDENCE

    followups = [d for d in documents if d["kind"] == "followup"]
    assert len(followups) == 1
    assert followups[0]["text"] == _crlf(FOLLOWUP)
    [more] = followups[0]["attachments"]
    assert more["filename"] == "more.bin"
    assert more["size"] == len(MORE_EVIDENCE)
    assert _attachment(plain, more) == MORE_EVIDENCE

    # Nothing the reporter wrote or sent is anywhere in clear on the server.
    needles = [CANARY.encode("ascii"), codename.encode("ascii")]
    output = server.output()
    for needle in needles:
        assert needle not in output, f"{needle!r} is in the server's output"
        assert files_containing(server.instance, needle) == []
        assert files_containing(server.tmpdir, needle) == []
    assert b"Traceback" not in output, output.decode(errors="replace")
    assert b"127.0.0.1 -" not in output  # no access log

    database = server.instance / "reporting.sqlite3"
    assert database.exists()
    # A consistent copy (including anything still in the WAL), dumped as SQL text.
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as connection:
        dump = "\n".join(connection.iterdump())
    assert "CREATE TABLE" in dump
    assert CANARY not in dump
    assert codename not in dump
    assert "Frankfurt" not in dump and "evidence.bin" not in dump


def test_language_switch_to_simplified_chinese(visit: Any) -> None:
    reader = visit()
    page = reader.goto("/report")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Tell us what happened").fill(NARRATIVE)
    # On a page with a form, the language is a button of the form: what was typed stays.
    click_and_load(
        page, page.get_by_role("navigation", name="Language").get_by_role("button", name="简体中文")
    )
    reader.check_page()
    assert page.locator("#narrative").input_value() == NARRATIVE
    # Back on the page the reader was on, now in Chinese.
    assert urlsplit(page.url).path == "/report"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert reader.heading() == "提交报告"
    assert page.locator("a.quick-exit").inner_text().strip() == "快速离开"
    current = page.locator("nav.languages button[aria-current=true]")
    assert current.inner_text().strip() == "简体中文"

    # The choice sticks for the rest of the visit.
    reader.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert reader.heading() == "安全地报告威胁和施压"


def test_codename_page_switches_language_and_keeps_the_codename(visit: Any) -> None:
    """Issue 14: a Chinese reader presses 简体中文 on the codename page and keeps the codename;
    typed answers, the reply language and the chosen file survive a switch on the form (the
    file is listed as already received, with a box to remove it)."""
    reader = visit()
    page = reader.goto("/report")
    page.get_by_label("Tell us what happened").fill(NARRATIVE)
    page.get_by_label("City", exact=True).fill("Frankfurt")
    page.locator("#attachments-0").set_input_files(
        {"name": "evidence.bin", "mimeType": "application/octet-stream", "buffer": EVIDENCE}
    )
    languages = page.get_by_role("navigation", name="Language")
    click_and_load(page, languages.get_by_role("button", name="繁體中文"))
    reader.check_page()
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.locator("#narrative").input_value() == NARRATIVE
    assert page.locator("#city").input_value() == "Frankfurt"
    assert page.locator("#reply_language").input_value() == "zh_Hant"  # the reading language
    assert page.locator(".kept-files").is_visible()
    assert page.locator(".kept-file").count() == 1
    assert page.locator("input[name=remove_kept]").count() == 1
    assert page.locator(".error-summary").count() == 0
    # Enter in a one-line field sends the form, as its own button would (not a language
    # button, though those come first in the page).
    page.locator("#city").press("Enter")
    reader.check_page()
    codename = page.locator("#codename").inner_text().strip()
    assert len(codename.split()) == 7

    for name, lang in (("简体中文", "zh-Hans"), ("ئۇيغۇرچە", "ug"), ("English", "en")):
        click_and_load(page, page.locator("nav.languages").get_by_role("button", name=name))
        reader.check_page()
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("#codename").inner_text().strip() == codename
    # Once the reporter goes on, Back never brings the codename back from a cache (no-store):
    # Chromium says it must send the form again, and the session no longer shows it.
    reader.goto("/case")
    try:
        page.go_back()
    except Exception as error:  # playwright's Error, imported only for type checking here
        assert "ERR_CACHE_MISS" in str(error)
    else:
        assert codename not in page.content()


LONG_PLACE = "Overseas Chinese Service Centre of the Fuzhou Public Security Bureau (Wenzhou)"


def test_the_registry_and_the_file_rows_fit_a_360px_phone(browser: Browser, server: Server) -> None:
    """With a registry loaded, the place is a plain select beside a text input, and every
    input of the place and the file rows stays within a 360 px screen; a chosen place is
    stored by its id and its name as the reporter saw it."""
    database = server.instance / "reporting.sqlite3"
    with sqlite3.connect(database) as connection:
        [(organisation,)] = connection.execute("SELECT id FROM organisation").fetchall()
        connection.execute(
            "INSERT INTO place (organisation_id, registry_id, name, city, country, kind, source)"
            " VALUES (?, 'de-fra-1', ?, 'Frankfurt am Main', 'DE', 'station', '')",
            (organisation, LONG_PLACE),
        )
    context = browser.new_context(
        java_script_enabled=False,
        base_url=server.url,
        locale="en-GB",
        viewport={"width": 360, "height": 740},
    )
    try:
        page = context.new_page()
        page.goto("/report")
        choice = page.locator("select[name=place-choice]")
        inputs = [choice, page.locator("input[name=place-other]")]
        for row in range(5):
            inputs += [page.locator(f"#attachments-{row}"),
                       page.locator(f"#attachments_rows-{row}-description")]  # fmt: skip
        for element in inputs:
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        shown = f"{LONG_PLACE} — Frankfurt am Main, DE"
        choice.select_option(label=shown)
        page.get_by_label("Tell us what happened").fill(NARRATIVE + " (360)")
        click_and_load(page, page.get_by_role("button", name="Send the report securely"))
        assert page.locator("#codename").count() == 1, page.content()
    finally:
        context.close()
        with sqlite3.connect(database) as connection:
            connection.execute("DELETE FROM place")
    reports = [
        d for d in _documents(_decrypt_all(server))
        if d["kind"] == "report" and d["narrative"].endswith("(360)")
    ]  # fmt: skip
    assert [r["where"]["place"] for r in reports] == [{"registry_id": "de-fra-1", "name": shown}]


def test_files_kept_after_an_error_can_be_removed_without_javascript(
    visit: Any, server: Server
) -> None:
    """A form that comes back with an error lists the files it brought; ticking "Remove" on
    one leaves it out (and deletes it), and the report is sent with the other."""
    kept, dropped = _file_bytes(20 * 1024), _file_bytes(30 * 1024)
    reader = visit()
    page = reader.goto("/report")
    page.locator("#attachments-0").set_input_files(
        {"name": "kept.bin", "mimeType": "application/octet-stream", "buffer": kept}
    )
    page.locator("#attachments-1").set_input_files(
        {"name": "dropped.bin", "mimeType": "application/octet-stream", "buffer": dropped}
    )
    page.locator("#attachments_rows-0-description").fill("the one to keep")
    page.locator("#submit").click()  # no description of what happened: the form comes back
    reader.check_page()
    assert page.locator(".error-summary").count() == 1
    assert page.locator(".kept-file").count() == 2
    assert "the one to keep" in page.locator(".kept-files").inner_text()
    assert page.locator("#attachments_rows-0-description").input_value() == ""
    page.locator(".kept-file", has_text="dropped.bin").get_by_label("Remove").check()
    page.get_by_label("Tell us what happened").fill(NARRATIVE)
    page.locator("#submit").click()
    reader.check_page()
    assert len(page.locator("#codename").inner_text().split()) == 7

    plain = _decrypt_all(server)
    [document] = [
        d
        for d in _documents(plain)
        if any(a.get("description") == "the one to keep" for a in d.get("attachments", []))
    ]
    [attachment] = document["attachments"]
    assert attachment["filename"] == "kept.bin"
    assert _attachment(plain, attachment) == kept
    assert all(not data.startswith(dropped) for data in plain.values())  # deleted, not kept

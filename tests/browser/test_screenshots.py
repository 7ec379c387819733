"""Every reporter page in every interface language, as a phone and a desktop browser show it.

Headless Chromium with JavaScript off (as Tor Browser's "Safest" level) walks a real server
through each page in each language, at 360 px and 1280 px, and checks two things a reader
would see at once:

- nothing is wider than the screen (a page that scrolls sideways on a phone hides the end of
  its lines, and in Uyghur, which runs right to left, it hides their beginning);
- no letter is drawn as a box: for every element with text, Chromium reports the fonts it
  really drew the text with (DevTools `CSS.getPlatformFontsForNode`), and each character must
  be in one of those fonts. On Uyghur and Tibetan pages the text in those scripts must come
  from the fonts the portal serves (reporting/static/fonts), not from whatever this machine
  has installed, since a reader's phone may have none.

Playwright's `evaluate` and the DevTools protocol work with the page's JavaScript disabled;
the page itself runs none (tests/browser/test_browser.py proves that with its <noscript> marker).

The screenshots go to build/screenshots/<language>/<page>-<width>.png for a translation
reviewer (docs/translating.md). SCREENSHOT_LANGUAGES=ug,bo limits the run to some languages.
Chinese pages need a CJK system font (.ci/run installs fonts-wqy-zenhei).
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fontTools.ttLib import TTFont
from sqlalchemy import select

from reporting.web.languages import INTERFACE_LANGUAGES, text_direction
from tests.support.browser import Server, click_and_load, launch_chromium, running_server
from tests.support.tools import require_module, require_tool

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
FONTS = ROOT / "reporting" / "static" / "fonts"
WIDTHS = (360, 1280)
PORTAL_EXAMPLE = ROOT / "deploy" / "portal.toml.example"
ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
CHOSEN = os.environ.get("SCREENSHOT_LANGUAGES")
LANGUAGES = [
    lang.code for lang in INTERFACE_LANGUAGES if not CHOSEN or lang.code in CHOSEN.split(",")
]
# The scripts whose fonts the portal serves, and the Unicode block each is checked over.
SERVED_SCRIPTS = {"ug": (0x0600, 0x06FF), "bo": (0x0F00, 0x0FFF)}
NARRATIVE = "Two men phoned my mother and said I must come back before the new year. " * 2
REPLY = {
    "en": "Thank you. We have read your report and will write again this week.",
    "zh_Hans": "谢谢。我们已经读了您的报告，本周会再回复您。",  # noqa: RUF001
    "zh_Hant": "謝謝。我們已經讀了您的報告，本週會再回覆您。",  # noqa: RUF001
    "ug": "رەھمەت. دوكلاتىڭىزنى ئوقۇدۇق، بۇ ھەپتە يەنە يازىمىز.",
    "bo": "ཐུགས་རྗེ་ཆེ། ཁྱེད་ཀྱི་སྙན་ཞུ་བཀླགས་ཟིན། གཟའ་འཁོར་འདིར་ཡང་བསྐྱར་འབྲི་གི་ཡིན།",
}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """With the example portal file, so the landing page shows an operator's name in each
    script, how to check the address, and a whole onion address (which must fit a phone)."""
    with running_server(
        tmp_path_factory.mktemp("screenshots"), portal=PORTAL_EXAMPLE, onion=ONION
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium_path = require_tool("chromium")
    sync_api = require_module("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright, chromium_path)
        try:
            yield chromium
        finally:
            chromium.close()


# --- which font drew each character ---------------------------------------------------------


@cache
def system_font_files() -> dict[str, tuple[str, int]]:
    """PostScript name -> (file, index in a collection), as fontconfig (and Chromium) see them."""
    listing = subprocess.run(
        ["fc-list", "--format", "%{postscriptname}\t%{file}\t%{index}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files: dict[str, tuple[str, int]] = {}
    for line in listing.splitlines():
        name, file, index = line.split("\t")
        files.setdefault(name, (file, int(index or 0)))
    return files


@cache
def served_fonts() -> dict[str, list[Path]]:
    """PostScript name -> our font files with that name (a full subset and a name-only one)."""
    fonts: dict[str, list[Path]] = {}
    for path in sorted(FONTS.glob("*.woff")):
        with TTFont(path) as font:
            name = font["name"].getDebugName(6) or path.stem
        fonts.setdefault(name, []).append(path)
    return fonts


def cmap_of(path: str | Path, index: int = 0) -> frozenset[int]:
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


@cache
def font_cmap(postscript_name: str, custom: bool) -> frozenset[int]:
    """The characters a font Chromium reported has glyphs for.

    A served full subset and its name-only subset share a PostScript name; their union is the
    full subset, and tests/unit/test_fonts.py checks that the name-only one covers the names.
    """
    if custom:
        paths = served_fonts().get(postscript_name)
        assert paths, f"Chromium used a web font {postscript_name!r} the portal does not serve"
        return frozenset().union(*(cmap_of(path) for path in paths))
    file, index = system_font_files()[postscript_name]
    return cmap_of(file, index)


def needs_glyph(char: str) -> bool:
    """Spaces, controls and format marks (ZWJ, RLM) are not drawn as glyphs of their own."""
    return unicodedata.category(char)[0] not in ("Z", "C")


def text_elements(node: dict[str, Any]) -> Iterator[tuple[int, str]]:
    """(node id, own text) of every element below `node` that has text of its own."""
    if node.get("nodeName") in ("HEAD", "NOSCRIPT", "SCRIPT", "STYLE", "TEMPLATE"):
        return
    children = node.get("children", [])
    own = "".join(child.get("nodeValue", "") for child in children if child["nodeType"] == 3)
    if node["nodeType"] == 1 and own.strip():
        yield node["nodeId"], own
    for child in children + node.get("shadowRoots", []):
        yield from text_elements(child)


def boxes_and_borrowed(page: Page, context: BrowserContext, code: str) -> list[str]:
    """Every character drawn with a font that lacks it; on ug/bo pages, script text drawn
    with a font the portal does not serve."""
    cdp = context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        problems = []
        checked = 0
        for node_id, text in text_elements(document):
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
            if not fonts:
                continue  # not rendered (visually hidden, a closed <select>'s options)
            checked += 1
            covered = frozenset().union(
                *(font_cmap(f["postScriptName"], f["isCustomFont"]) for f in fonts)
            )
            missing = sorted({c for c in text if needs_glyph(c) and ord(c) not in covered})
            if missing:
                used = [f["familyName"] for f in fonts]
                problems.append(f"boxes for {missing} in {text.strip()[:60]!r} (fonts {used})")
            if code in SERVED_SCRIPTS:
                first, last = SERVED_SCRIPTS[code]
                if any(first <= ord(c) <= last for c in text) and not any(
                    f["isCustomFont"] for f in fonts
                ):
                    problems.append(f"not in the served font: {text.strip()[:60]!r}")
        assert checked > 5, "Chromium reported fonts for (almost) no text"
        return problems
    finally:
        cdp.detach()


# --- the walk -------------------------------------------------------------------------------


class Reader:
    """One reader's browser context, JavaScript off, in one interface language."""

    def __init__(self, browser: Browser, server: Server, code: str) -> None:
        self.code = code
        self.server = server
        self.context: BrowserContext = browser.new_context(
            java_script_enabled=False,
            base_url=server.url,
            locale="en-US",  # as Tor Browser asks, whatever its user reads
            viewport={"width": WIDTHS[0], "height": 800},
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.open(f"/language/{code}?next=/", 200)

    def open(self, path: str, status: int) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (path, response)

    def capture(self, name: str) -> None:
        """Check the page as shown now at each width, and save a screenshot of each."""
        page = self.page
        expected_dir = text_direction(self.code)
        html = page.locator("html")
        assert html.get_attribute("dir") == expected_dir, name
        assert page.locator("noscript #no-js").count() == 1, "JavaScript is on"
        folder = SHOTS / self.code
        folder.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.evaluate("document.fonts.ready.then(() => true)")
            scroll_width, inner_width = page.evaluate(
                "[document.scrollingElement.scrollWidth, window.innerWidth]"
            )
            if scroll_width > inner_width:
                self.problems.append(f"{name} at {width} px: {scroll_width} px wide")
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        self.problems += [
            f"{name}: {problem}" for problem in boxes_and_borrowed(page, self.context, self.code)
        ]
        self.problems += [f"{name}: {problem}" for problem in self.mirroring(expected_dir)]

    def mirroring(self, direction: str) -> list[str]:
        """In a right-to-left page the quick exit, the tick boxes and the error bars swap sides."""
        page = self.page
        problems = []
        rtl = direction == "rtl"
        exit_box = page.locator("a.quick-exit").bounding_box()
        assert exit_box is not None
        on_left = exit_box["x"] + exit_box["width"] / 2 < WIDTHS[0] / 2
        if on_left is not rtl:
            problems.append(f"the quick exit is on the {'left' if on_left else 'right'}")
        choice = page.locator(".choice").first
        if choice.count():
            tick = choice.locator("input").bounding_box()
            label = choice.locator("label").bounding_box()
            assert tick is not None and label is not None
            if (tick["x"] > label["x"]) is not rtl:
                problems.append("a tick box is on the wrong side of its label")
        for bar in page.locator(".has-error").all()[:1]:
            left, right = bar.evaluate(
                "e => [getComputedStyle(e).borderLeftWidth, getComputedStyle(e).borderRightWidth]"
            )
            if (right != "0px") is not rtl or (left != "0px") is rtl:
                problems.append(f"an error bar is on the wrong side ({left} | {right})")
        return problems

    def submit(self, form: str) -> None:
        click_and_load(self.page, self.page.locator(form).locator("[type=submit]").first)

    def close(self) -> None:
        self.context.close()


def reply_to_new_reports(server: Server, text: str) -> int:
    """Play caseworker: a reply, encrypted to the reporter's key, to every unanswered report."""
    from reporting import create_app
    from reporting.infra import db
    from reporting.models import Message, MessageKind, Report
    from tests.support.casework import store_client_reply

    # The server's own settings: its instance folder, and nothing from this environment.
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("REPORTING_")]:
            patch.delenv(name)
        app = create_app({"INSTANCE_PATH": server.instance})
    with app.app_context():
        answered = select(Message.report_id).where(Message.kind == MessageKind.REPLY)
        report_ids = db.session().scalars(select(Report.id).where(Report.id.not_in(answered))).all()
    for report_id in report_ids:
        store_client_reply(app, report_id, text)
    return len(report_ids)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_reporter_page_fits_and_shows_every_letter(
    browser: Browser, server: Server, code: str
) -> None:
    reader = Reader(browser, server, code)
    try:
        page = reader.page
        reader.capture("landing")
        assert page.locator(".onion-address").inner_text().strip() == ONION
        assert page.locator(".site-name bdi").inner_text().strip() != ""
        reader.open("/no-such-page", 404)
        reader.capture("error-404")
        reader.open("/logout", 405)
        reader.capture("error-405")
        # An expired form: the CSRF token is spoilt in the page (page JavaScript stays off).
        reader.open("/return", 200)
        page.evaluate("document.querySelector('input[name=csrf_token]').value = 'expired'")
        page.locator("#codename").fill("seven words that are not a codename")
        reader.submit("main form")
        assert page.locator(".error-code").count() == 1, page.content()
        reader.capture("error-400")

        reader.open("/report", 200)
        reader.capture("form")
        reader.submit("main form")  # nothing filled in
        assert page.locator(".error-summary").count() == 1
        reader.capture("form-errors")

        page.locator("#narrative").fill(NARRATIVE)
        page.locator("input[name=consent]").first.check()
        reader.submit("main form")
        codename = page.locator("#codename").inner_text().strip()
        assert len(codename.split()) == 7, codename
        reader.capture("codename")
        # Its words read left to right whatever the page's direction.
        assert page.locator("#codename").evaluate("e => getComputedStyle(e).direction") == "ltr"
        assert reply_to_new_reports(server, REPLY[code]) == 1

        returning = Reader(browser, server, code)
        try:
            returning.open("/return", 200)
            returning.capture("return")
            returning.page.locator("#codename").fill(codename)
            returning.submit("main form")
            assert re.search(r"/case$", returning.page.url), returning.page.url
            assert REPLY[code] in returning.page.locator(".reply-text").inner_text()
            returning.capture("case-reply")
            returning.page.locator("textarea[name=message]").fill(NARRATIVE)
            returning.submit("main form[action$='/case/followup']")
            assert returning.page.locator(".flash-success").count() == 1
            returning.capture("follow-up")
            # What the reporter controls afterwards: urgency, consent, deletion.
            returning.page.locator("input[name=urgent][value=yes]").check()
            returning.submit("main form[action$='/case/urgent']")
            assert returning.page.locator(".flash-success").count() == 1
            returning.page.locator("input[name=consent][value=none]").check()
            returning.submit("main form[action$='/case/consent']")
            assert returning.page.locator(".flash-success").count() == 1
            returning.capture("case-controls")
            returning.open("/case/delete", 200)
            returning.capture("delete-confirm")
            returning.submit("main form")  # the box not ticked
            assert returning.page.locator(".error-summary").count() == 1
            returning.capture("delete-errors")
            returning.page.locator("input[name=confirm]").check()
            returning.submit("main form")
            assert returning.page.locator(".flash-success").count() == 1
            returning.capture("deleted")
            reader.problems += returning.problems
        finally:
            returning.close()

    finally:
        reader.close()
    assert not reader.problems, "\n".join(reader.problems)

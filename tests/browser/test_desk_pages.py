"""The desk's evidence, linked cases, statistics, exports and keys pages in headless Chromium
with JavaScript off, each photographed at 1280 px into build/screenshots/desk/.

The desk app is served on 127.0.0.1 in this process over a real client home: the cache of
tests/support/desk_cache.py (linked reports, a photo with its GPS position, a PDF, a text
file, the canary in the narrative and the text file), and for the Keys page the real
server of tests/support/key_pins.py, whose partner key is then swapped. The full
cycle's desk (the desk started as a caseworker starts it) is tests/browser/test_desk.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import make_server

import crypto
from caseworker_client import evidence
from caseworker_client.config import Home
from caseworker_client.context import Context
from caseworker_client.desk import create_app, guard
from caseworker_client.desk.serve import HOST, QuietHandler
from tests.support.client_cache import REPORT_ID, Cache
from tests.support.desk import chromium_profile, shot, submit
from tests.support.desk_cache import (
    CANARY,
    EVIDENCE_ID,
    OTHER_ID,
    PHONE,
    add_evidence,
    linked_cache,
    own_folders,
    sha256,
)
from tests.support.key_pins import PARTNER, Desk, fingerprint, pinned_keys_desk
from tests.support.pdfs import pdf_file, text_page
from tests.support.scans import scan_files

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Response


# The fixtures of the tests these pages share (tests/support/): Chromium with its own
# profile, the client cache and the folders it scans, the server with a partner whose key
# is pinned.
@pytest.fixture
def browser_profile(tmp_path: Path) -> Iterator[tuple[BrowserContext, Path]]:
    with chromium_profile(tmp_path) as browser:
        yield browser


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    return own_folders(tmp_path, monkeypatch)


@pytest.fixture
def cache(folders: dict[str, Path]) -> Cache:
    return linked_cache(folders)


@pytest.fixture
def pins_world(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    with pinned_keys_desk(tmp_path, database_url) as desk:
        yield desk


@contextmanager
def serving(home: Path) -> Iterator[tuple[str, str]]:
    """The desk over `home` on a random port of 127.0.0.1: its root and one-time link."""
    admission = guard.Admission()
    app = create_app(Context(Home(home), lambda: ""), admission)
    server = make_server(HOST, 0, app, threaded=True, request_handler=QuietHandler)
    guard.listen_on(app, server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}", admission.url()
    finally:
        server.shutdown()
        thread.join()


def open_desk(page: Page, link: str, root: str) -> None:
    opened = page.goto(link)
    assert opened is not None and opened.status == 200 and page.url == root + "/"


def test_evidence_linked_cases_statistics_and_exports_in_the_browser(
    browser_profile: tuple[BrowserContext, Path],  # first: Chromium keeps the usual TMPDIR
    cache: Cache,
    folders: dict[str, Path],
) -> None:
    context, profile = browser_profile
    pdf = pdf_file([text_page("Summons to the station, Monday 9:00"), text_page("Page two")])
    photo_blob, pdf_blob = add_evidence(
        cache,
        [
            ("summons.jpg", "image/jpeg", cache.photo, sha256(b"other bytes")),
            ("summons.pdf", "application/pdf", pdf, sha256(pdf)),
        ],
    )
    with serving(cache.home) as (root, link):
        page = context.new_page()
        requests: list[str] = []
        pictures: list[tuple[int, str]] = []
        page.on("request", lambda request: requests.append(request.url))

        def picture_answer(answer: Response) -> None:
            if "/pictures/" in answer.url:
                pictures.append((answer.status, answer.headers["content-type"]))

        page.on("response", picture_answer)
        open_desk(page, link, root)

        # The case page: its files link to their views, its linked section to the other report.
        page.goto(f"{root}/reports/{REPORT_ID}")
        linked = page.locator("section.linked-cases")
        assert PHONE in linked.inner_text()
        assert linked.locator(f"a[href='/reports/{OTHER_ID}']").count() == 1
        shot(page, "case-linked")

        # Evidence: the photo re-encoded (its digest differs from the one recorded), the PDF's
        # pages as images, a text file not shown at all; saving the original after the warning.
        page.goto(f"{root}/reports/{EVIDENCE_ID}/files/{photo_blob}")
        assert "Different bytes" in page.locator(".verdict").inner_text()
        assert evidence.ORIGINAL_WARNING in page.locator(".original-warning").inner_text()
        shot(page, "evidence-image")
        page.goto(f"{root}/reports/{EVIDENCE_ID}/files/{pdf_blob}")
        assert "Checked" in page.locator(".verdict").inner_text()
        if page.locator("figure.picture img").count() != 2:
            assert "cannot render safely here" in page.content()
        shot(page, "evidence-pdf")
        page.goto(f"{root}/reports/{REPORT_ID}/files/{REPORT_ID}t")
        assert "no preview for this kind of file" in page.content()
        chosen = folders["user home"] / "chosen folder"
        page.fill("input[name=folder]", str(chosen))
        submit(page, "/save", "I read the warning: save the original")
        (saved,) = chosen.iterdir()
        assert f"saved {saved}" in page.locator(".notice.done").inner_text()
        shot(page, "evidence-saved")
        assert pictures and all(
            status == 200 and kind in ("image/jpeg", "image/png") for status, kind in pictures
        )

        # Linked cases, statistics with their chart, exports offered as downloads.
        page.goto(f"{root}/linked")
        assert "Cluster 1: 2 reports" in page.content()
        shot(page, "linked")
        with page.expect_response(f"{root}/statistics/chart.png") as chart:
            page.goto(f"{root}/statistics")
        assert chart.value.status == 200 and chart.value.headers["content-type"] == "image/png"
        assert "Netherlands" in page.locator("div.figures").inner_text()
        shot(page, "statistics")
        page.goto(f"{root}/exports")
        shot(page, "exports")
        for action, button in (
            ("/exports/aggregate", "Download the figures"),
            ("/exports/cases", "Download the cases for Uwazi"),
        ):
            with page.expect_download() as download:
                page.locator(f"form[action='{action}'] input[type=submit]").click()
            name = download.value.suggested_filename
            assert name.startswith(("figures-", "cases-")) and name.endswith(".csv")
            download.value.delete()  # the caseworker chose not to keep it
        assert all(url.startswith(root) for url in requests), requests
        context.close()

    saved.rename(folders["cwd"].parent / "moved aside")  # the one file asked for
    assert scan_files(folders["user home"], CANARY) >= 10
    scan_files(folders["tmp"], CANARY)
    scan_files(folders["cwd"], CANARY)
    assert scan_files(profile, CANARY) > 10  # every page and picture was no-store


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_changed_partner_key_from_the_refused_escalation_to_the_keys_page(
    pins_world: Desk, browser_profile: tuple[BrowserContext, Path]
) -> None:
    context, _ = browser_profile
    world = pins_world
    world.context().pull()  # the partner's key is pinned on first sight
    attacker = crypto.generate_identity()
    world.swap_partner_key(attacker)
    with serving(world.home) as (root, link):
        page = context.new_page()
        open_desk(page, link, root)
        page.goto(f"{root}/reports/{world.report_id}")
        page.select_option("form[action$='/escalate'] select[name=partner]", label=PARTNER)
        # Refused before the preview: nothing is shown as if it could go to those keys.
        submit(page, "/escalate", "Preview what the partner will receive")
        assert "nothing was sent" in page.locator("h1").inner_text()
        assert fingerprint(attacker) in page.locator("table.fingerprints").inner_text()
        shot(page, "key-changed-error")

        with page.expect_navigation():
            page.click("a.keys-link")
        changed = page.locator("section.key-change")
        assert fingerprint(world.partner_key) in changed.inner_text()
        assert fingerprint(attacker) in changed.inner_text()
        shot(page, "keys-changed")
        submit(page, "/keys/accept", "I compared them with their owner: accept the new keys")
        assert "The new keys are trusted now" in page.content()
        assert fingerprint(attacker) in page.locator("section.pin").last.inner_text()
        shot(page, "keys")

"""The caseworker's desk end to end: a real server, worker and partner receiver, the desk
started as a caseworker starts it, and headless Chromium with JavaScript off.

A reporter files a report with a canary in every text field and a photo carrying its GPS
position. The caseworker opens the desk from its one-time link, finds the report in the
inbox (and by searching its decrypted words), reads it whole, replies, adds a note, sets
status, assignee, tag and severity, and escalates it to the partner leaving out the
people named: the preview shows exactly that package, and the partner's receiver gets it
so (a follow-up that arrives between the preview and the sending is previewed
first). The reporter comes back and reads the reply. The desk stops when its terminal hangs
up, and nothing decrypted was written: not in the client's home, the desk's temporary
folder or working folder, nor in the browser's profile (every page is no-store).

A screenshot of each desk page at 1280 px goes to build/screenshots/desk/ for review.
"""

from __future__ import annotations

import io
import re
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

import crypto
from reporting.infra import db
from reporting.models import Partner
from tests.support.desk import chromium_profile, shot, submit
from tests.support.full_cycle import (
    PARTNER,
    PHOTO,
    Reporter,
    World,
    partner_opens,
    running_world,
    wait_for_deliveries,
)
from tests.support.portal import multipart, text_inputs
from tests.support.processes import Process, clean_environ
from tests.support.scans import scan_files

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REPLY = "Thank you, we read your report and will call the legal aid partner this week."
NOTE = "Internal: ask the legal aid partner about a lawyer in Rotterdam."
STATUS_NOTE = "A caseworker is looking into this."


@pytest.fixture
def full_cycle_world(
    tmp_path: Path, database_url: str, require_tool: Callable[[str], str]
) -> Iterator[World]:
    """The full cycle's world: a server, a worker and the partner's receiver."""
    with running_world(tmp_path, database_url, require_tool) as world:
        yield world


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """One database is enough here (the full cycle runs on both)."""
    return postgres_url


@pytest.fixture
def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}-金丝雀"


def file_report(world: World, canary: str) -> str:
    """A report with the canary in every text field, shareable in full, with a photo."""
    reporter = Reporter(world.url)
    data: dict[str, Any] = {
        "csrf_token": reporter.csrf("/report"),
        **{name: canary for name in text_inputs()},
        "narrative": f"{canary} Two men called my mother and said I must come back.",
        "methods": ["association_or_station", "threats_to_relatives"],
        "country": "NL",
        "family-0-may_share": "y",
        "consent": "full",
        "reply_language": "en",
        "attachments": [(io.BytesIO(PHOTO), "IMG_0001.jpg", "image/jpeg")],
        "attachments_rows-0-description": f"{canary} the summons",
    }
    return reporter.file(data)


def start_desk(world: World, tmp: Path, cwd: Path) -> tuple[Process, str]:
    """`reporting-caseworker desk` as a caseworker runs it; returns it and its link."""
    script = shutil.which("reporting-caseworker", path=str(Path(sys.executable).parent))
    assert script, "the reporting-caseworker script is not installed"
    env = clean_environ(REPORTING_CASEWORKER_HOME=str(world.home), TMPDIR=str(tmp))
    desk = world.processes.start("desk", [script, "desk", "--no-browser"], env, cwd=cwd)
    deadline = time.monotonic() + 30
    while not (found := re.search(r"http://127\.0\.0\.1:\d+/open\?token=\S+", desk.output())):
        assert desk.running() and time.monotonic() < deadline, desk.output()
        time.sleep(0.1)
    return desk, found.group(0)


def status_of(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def browser_profile(tmp_path: Path) -> Iterator[tuple[BrowserContext, Path]]:
    """Chromium with JavaScript off and a profile folder of its own, scanned afterwards."""
    with chromium_profile(tmp_path) as browser:
        yield browser


def test_the_desk_from_its_link_to_the_partner_and_back_to_the_reporter(
    full_cycle_world: World,
    canary: str,
    tmp_path: Path,
    browser_profile: tuple[BrowserContext, Path],
) -> None:
    world, (context, profile) = full_cycle_world, browser_profile
    # The caseworker's client, set up as the README says: a key, then the desk, which
    # signs in to the service itself.
    world.cw("keygen")
    desk_tmp, desk_cwd = tmp_path / "desk tmp", tmp_path / "desk cwd"
    desk_tmp.mkdir()
    desk_cwd.mkdir()
    desk, link = start_desk(world, desk_tmp, desk_cwd)
    assert "not signed in" in desk.output()
    root = link.split("/open")[0]
    port = root.rsplit(":", 1)[1]

    # Nobody but the link's browser: no cookie, a rebinding Host, all refused.
    assert status_of(root + "/") == 403
    assert status_of(root + "/sign-in") == 403
    assert status_of(root + "/", host=f"rebound.attacker.example:{port}") == 421

    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    refused = page.goto(root + "/")
    assert refused is not None and refused.status == 403
    shot(page, "refused")
    opened = page.goto(link)
    assert opened is not None and opened.status == 200
    assert page.url == root + "/sign-in"  # the token is gone from the address bar
    assert status_of(link) == 403  # and cannot be used again

    # Signing in through the desk: a wrong password first, then the right one.
    page.fill("input[name=server]", world.url)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not the password")
    page.fill("input[name=code]", world.account.code())
    with page.expect_navigation():
        page.click("form.stacked input[type=submit]")
    assert "Not signed in" in page.content()
    assert page.locator("input[name=password]").input_value() == ""  # never sent back
    shot(page, "sign-in")
    page.fill("input[name=password]", world.account.password)
    page.fill("input[name=code]", world.account.code())
    with page.expect_navigation():
        page.click("form.stacked input[type=submit]")
    # No key of alice's on the service yet: the desk offers to register it.
    assert page.url == root + "/your-key", page.url
    assert "age1" in page.locator("code.key").inner_text()
    shot(page, "your-key")
    with page.expect_navigation():
        page.click("main form input[type=submit]")
    assert page.url == root + "/", page.url
    assert "Registered" in world.cw("register-key").stdout  # the command line uses the session
    codename = file_report(world, canary)
    page.goto(root + "/")

    # The inbox: the report with its decrypted summary, found by its words.
    assert page.locator("h1").inner_text() == "Inbox"
    row = page.locator("table.inbox tbody tr").first
    assert canary in row.inner_text()  # where (the city), decrypted here
    assert "Pressure through" in row.inner_text()  # what was done, by its label
    shot(page, "inbox")
    page.goto(root + "/")  # pulling decrypted it (the server now counts it read) ...
    assert "unread" in row.inner_text()  # ... yet it is news here until opened
    page.fill("input[name=q]", canary.split("-")[1])
    with page.expect_navigation():
        page.click("form.filters button")
    assert page.locator("table.inbox tbody tr a").count() == 1
    shot(page, "inbox-search")
    page.goto(root + "/?q=no-such-words-anywhere")
    assert "No reports match" in page.content()

    # The case: every field the reporter wrote, laid out from the catalogue.
    page.goto(root + "/")
    with page.expect_navigation():
        page.locator("table.inbox tbody tr a").first.click()
    case_url = page.url
    content = page.content()
    assert "Cannot be opened" not in content
    assert content.count(canary) >= len(text_inputs()), "a field of the report is not shown"
    assert "IMG_0001.jpg" in content and "SHA-256" in content
    shot(page, "case")
    page.goto(root + "/")
    assert "unread" not in page.locator("table.inbox tbody").inner_text()
    page.goto(case_url)

    # Every action, each a POST form with its CSRF token.
    page.locator("form[action$='/reply'] textarea").fill(REPLY)
    submit(page, "/reply", "Send the reply")
    assert "Reply sent" in page.content() and REPLY in page.content()
    page.locator("form[action$='/note'] textarea").fill(NOTE)
    submit(page, "/note", "Add the note")
    page.select_option("form[action$='/status'] select", "in_progress")
    page.locator("form[action$='/status'] textarea").fill(STATUS_NOTE)
    submit(page, "/status", "Set the status")
    page.select_option("form[action$='/assign'] select", "alice")
    submit(page, "/assign", "Assign")
    page.select_option("form[action$='/tags'] select", "family")
    submit(page, "/tags", "Add the tag")
    page.select_option("form[action$='/severity'] select", "high")
    submit(page, "/severity", "Set the severity")
    facts = page.locator("dl.facts").inner_text()
    for value in ("in progress", "high", "alice", "family"):
        assert value in facts, facts
    assert NOTE in page.content()
    # Who did what, from the server's audit log: content-free, to the hour.
    history = page.locator("table.history").inner_text()
    for done in ("replied to the reporter", "added a note", "status=in_progress", "severity=high"):
        assert done in history, history
    assert "alice" in history
    shot(page, "case-worked")
    # The inbox's filters see the new triage state.
    for query, rows in (("status=in_progress&tag=family&assignee=alice", 1), ("status=closed", 0)):
        page.goto(f"{root}/?{query}")
        assert page.locator("table.inbox tbody tr a").count() == rows, query
    page.goto(f"{root}/?urgent=1")
    assert page.locator("table.inbox tbody tr a").count() == 0  # not marked urgent
    # What the client refuses is said on a page of its own.
    missing = page.goto(f"{root}/reports/0000000000")
    assert missing is not None and missing.status == 409
    assert "no report id starts with" in page.content()
    shot(page, "error")
    page.goto(case_url)

    # Escalation: the preview shows the package without the people named, then it goes.
    page.select_option("form[action$='/escalate'] select[name=partner]", label=PARTNER)
    page.check("input[name=redact][value='who.people']")
    submit(page, "/escalate", "Preview what the partner will receive")
    preview = page.content()
    assert f"What {PARTNER} will receive" in page.locator("h1").inner_text()
    assert "who.people" in page.locator("dl.facts").inner_text()
    assert "People or organisations involved" not in preview
    assert f"{canary} Two men called my mother" in preview  # the narrative goes
    assert "metadata (GPS position, phone…) removed" in preview
    assert world.stored() == {}  # nothing sent yet
    shot(page, "escalation-preview")

    # The reporter writes again before the caseworker confirms: nothing goes, and the new
    # package (with the follow-up) is shown to be checked again.
    reporter = Reporter(world.url)
    reporter.come_back(codename)
    followup = f"{canary} They came to my parents' home again."
    body, ctype = multipart({"csrf_token": reporter.csrf("/case"), "message": followup})
    assert reporter.request("/case/followup", body, ctype)[0] == 200
    submit(page, "/escalate/send", "Send it to the partner")
    assert "The report changed" in page.content() and followup in page.content()
    assert world.stored() == {}
    shot(page, "escalation-changed")
    submit(page, "/escalate/send", "Send it to the partner")
    assert "Escalation sent" in page.content()
    assert page.url.startswith(case_url.split("?")[0])
    package, files = partner_opens(wait_for_deliveries(world, 2), world.partner_identity)
    assert "who.people" in package["redacted"]
    assert "people" not in package["report"]["who"]
    assert package["report"]["narrative"].startswith(canary)
    assert [f["text"] for f in package["followups"]] == [followup]
    assert b"GPS" not in files["image/jpeg"] and b"Exif" not in files["image/jpeg"]

    # The server swaps the partner's key: the desk shows both fingerprints and sends nothing.
    attacker = crypto.generate_identity()
    with world.app.app_context(), db.database().transaction() as session:
        session.scalars(select(Partner)).one().recipients = f"{attacker.recipient}\n"
    page.goto(case_url)
    page.select_option("form[action$='/escalate'] select[name=partner]", label=PARTNER)
    submit(page, "/escalate", "Preview what the partner will receive")
    refusal = page.locator(".notice").inner_text()
    assert "nothing was encrypted or sent" in refusal
    for key in (attacker, world.partner_identity):
        assert crypto.recipient_fingerprint(str(key.recipient)) in refusal
    shot(page, "key-changed")
    assert len(world.stored()) == 2

    # Linked cases, statistics and the two exports, from the reports pulled from the server.
    page.goto(root + "/linked")
    assert page.locator("h1").inner_text() == "Linked cases"
    page.goto(root + "/statistics")
    figures = page.locator("div.figures").inner_text()
    assert "Pressure through" in figures and canary not in figures  # labels and counts only
    page.goto(root + "/exports")
    exported = {}
    for action in ("/exports/aggregate", "/exports/cases"):
        with page.expect_download() as download:
            page.locator(f"form[action='{action}'] input[type=submit]").click()
        exported[action] = Path(download.value.path()).read_text(encoding="utf-8")
        download.value.delete()  # the caseworker chose not to keep it
    assert canary not in exported["/exports/aggregate"]  # figures, never words
    assert "suppressed" in exported["/exports/aggregate"]  # two reports: below 5
    assert canary in exported["/exports/cases"]  # full consent: the case for Uwazi

    # A post from elsewhere, even with the desk's cookie, is refused without its CSRF token.
    [cookie] = context.cookies(root)
    forged = urllib.request.Request(
        f"{case_url.split('?')[0]}/reply",
        data=b"text=forged",
        headers={"Cookie": f"{cookie['name']}={cookie['value']}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused_post:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(forged, timeout=10)
    assert refused_post.value.code == 400 and b"Form refused" in refused_post.value.read()
    # Nothing was loaded from anywhere but the desk.
    assert all(url.startswith(root) for url in requests), requests
    context.close()

    # The reporter reads the reply and the status note; never the internal note.
    case = Reporter(world.url).come_back(codename)
    assert REPLY in case and STATUS_NOTE in case and NOTE not in case

    # Closing the terminal stops the desk.
    desk.popen.send_signal(signal.SIGHUP)
    assert desk.popen.wait(timeout=20) == 0
    assert "The desk has stopped." in desk.output()
    output = desk.output()
    assert canary not in output and link.split("=")[1] not in output.split(link, 1)[1]

    # Nothing decrypted was written: the client home holds ciphertext and metadata only.
    assert scan_files(world.home, canary) >= 5
    scan_files(desk_tmp, canary)
    scan_files(desk_cwd, canary)
    assert scan_files(profile, canary) > 10  # the browser kept no decrypted page

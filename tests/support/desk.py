"""The caseworker desk under test: its test client let in through the one-time link, the
CSRF token a desk page would render, and headless Chromium photographing its pages.

The desk app (caseworker_client/desk/) is told it listens on PORT, so that its Host check
and cookie name match what the test client sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from flask.testing import FlaskClient

from caseworker_client.desk import guard
from tests.support.browser import CHROMIUM_ARGS
from tests.support.tools import require_module, require_tool

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

PORT = 50123
BASE = f"http://127.0.0.1:{PORT}"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots" / "desk"


def admitted(app: Flask, admission: guard.Admission) -> FlaskClient:
    client = app.test_client()
    opened = client.get(f"/open?token={admission.token}", base_url=BASE)
    assert opened.status_code == 303 and opened.headers["Location"] == "/"
    return client


def csrf_from_session(app: Flask, client: FlaskClient) -> str:
    """A CSRF token of this client's session, as a desk page would render it."""
    from flask_wtf.csrf import generate_csrf

    cookie = client.get_cookie(f"desk-{PORT}", domain="127.0.0.1")
    assert cookie is not None
    with app.test_request_context(
        base_url=BASE, headers={"Cookie": f"{cookie.key}={cookie.value}"}
    ):
        token = generate_csrf()
        from flask import session

        signed = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    client.set_cookie(f"desk-{PORT}", signed, domain="127.0.0.1")
    return str(token)


@contextmanager
def chromium_profile(tmp_path: Path) -> Iterator[tuple[BrowserContext, Path]]:
    """Chromium with JavaScript off and a profile folder of its own, scanned afterwards."""
    chromium = require_tool("chromium")
    sync_api = require_module("playwright.sync_api")
    profile = tmp_path / "chromium profile"
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            java_script_enabled=False,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
        )
        context.set_default_timeout(30_000)
        try:
            yield context, profile
        finally:
            context.close()


def shot(page: Page, name: str) -> None:
    """Save the page at 1280 px for review, after checking it fits the window's width
    (a long unbroken identifier once pushed the inbox past it)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    wide, window = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert wide <= window, f"{name}: {wide} px wide in a {window} px window"
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)


def submit(page: Page, action: str, button: str) -> None:
    """Press a button of the form that posts to `action` and wait for the page it leads to."""
    form = page.locator(f"form[action$='{action}']")
    with page.expect_navigation():
        form.locator(f"input[type=submit][value='{button}']").click()

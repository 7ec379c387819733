"""The desk's Keys page: the pinned keys, a changed one's fingerprints side by side, and
accepting it only with the fingerprints shown; an action refused for a changed key says
so on a page that leads there.

The server is the real app on loopback and its database is changed as someone holding
the server would (tests/support/key_pins.py's world); the desk is the real app over the
client's home, through Flask's test client with its link, cookie and CSRF tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import crypto
from caseworker_client import pins
from caseworker_client.desk import create_app, guard
from reporting.models import MessageKind
from tests.support.desk import BASE, PORT, admitted, csrf_from_session
from tests.support.key_pins import PARTNER, Desk, fingerprint, pinned_keys_desk


@pytest.fixture
def pins_world(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """The server on loopback and the client's home (tests/support/key_pins.py)."""
    with pinned_keys_desk(tmp_path, database_url) as desk:
        yield desk


DeskClient = tuple[Flask, FlaskClient]


@pytest.fixture
def world(pins_world: Desk) -> Desk:
    pins_world.context().pull()  # the keys are pinned on first sight
    return pins_world


@pytest.fixture
def browser(world: Desk) -> tuple[Flask, FlaskClient]:
    admission = guard.Admission()
    app = create_app(world.context(), admission)
    guard.listen_on(app, PORT)
    return app, admitted(app, admission)


def post(app: Flask, client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(
        path, base_url=BASE, data={**data, "csrf_token": csrf_from_session(app, client)}
    )


def changed_rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="changed">(.*?)</tr>', html, re.S)
    return [re.findall(r"<code>(.*?)</code>", row) for row in rows]


def pinned_partner_keys(world: Desk) -> list[tuple[str, ...]]:
    return [pin.keys for pin in pins.pinned(world.context()) if pin.name == PARTNER]


def test_the_keys_page_lists_the_pinned_keys(world: Desk, browser: DeskClient) -> None:
    _, client = browser
    page = client.get("/keys", base_url=BASE)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert fingerprint(world.partner_key) in page.text
    assert fingerprint(world.alice.identity) in page.text
    assert "Changed:" not in page.text and "<form" not in page.text.split("<main>")[1]


def test_a_changed_key_is_shown_side_by_side_and_accepted_with_what_was_seen(
    world: Desk, browser: DeskClient
) -> None:
    app, client = browser
    attacker = crypto.generate_identity()
    world.swap_partner_key(attacker)
    page = client.get("/keys", base_url=BASE).text
    assert f"Changed: the partner {PARTNER}" in page
    assert changed_rows(page) == [[fingerprint(world.partner_key), fingerprint(attacker)]]
    assert f'name="seen" value="{fingerprint(attacker)}"' in page

    subject = f"partner:{world.partner_id}"
    unsent = client.post("/keys/accept", base_url=BASE, data={"subject": subject})
    assert unsent.status_code == 400 and "Form refused" in unsent.text  # no CSRF token
    unseen = post(app, client, "/keys/accept", {"subject": subject})
    assert unseen.status_code == 400 and "Nothing was changed" in unseen.text
    assert pinned_partner_keys(world) == [(str(world.partner_key.recipient),)]

    accepted = post(
        app, client, "/keys/accept", {"subject": subject, "seen": fingerprint(attacker)}
    )
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/keys?done=accepted"
    assert pinned_partner_keys(world) == [(str(attacker.recipient),)]
    after = client.get("/keys?done=accepted", base_url=BASE).text
    assert "The new keys are trusted now" in after and "Changed:" not in after


def test_accepting_keys_that_changed_again_pins_nothing_and_leads_to_the_keys_page(
    world: Desk, browser: DeskClient
) -> None:
    app, client = browser
    shown = crypto.generate_identity()
    world.swap_partner_key(shown)
    assert fingerprint(shown) in client.get("/keys", base_url=BASE).text
    later = crypto.generate_identity()
    world.swap_partner_key(later)  # the server changes them again while the caseworker looks
    data = {"subject": f"partner:{world.partner_id}", "seen": fingerprint(shown)}
    refused = post(app, client, "/keys/accept", data)
    assert refused.status_code == 409
    assert changed_rows(refused.text) == [[fingerprint(world.partner_key), fingerprint(later)]]
    assert 'class="keys-link" href="/keys#partner-' in refused.text
    assert pinned_partner_keys(world) == [(str(world.partner_key.recipient),)]


def test_an_escalation_refused_for_a_changed_key_links_to_the_keys_page(
    world: Desk, browser: DeskClient
) -> None:
    app, client = browser
    attacker = crypto.generate_identity()
    world.swap_partner_key(attacker)
    path = f"/reports/{world.report_id}/escalate"
    # Refused before the preview: nothing is shown as if it could go to those keys.
    refused = post(app, client, path, {"partner": str(world.partner_id)})
    assert refused.status_code == 409 and refused.headers["Cache-Control"] == "no-store"
    assert f"The keys of the partner {PARTNER} changed: nothing was sent" in refused.text
    assert changed_rows(refused.text) == [[fingerprint(world.partner_key), fingerprint(attacker)]]
    assert f'href="/keys#partner-{world.partner_id}"' in refused.text
    assert world.messages(MessageKind.ESCALATION) == []


def test_a_note_refused_for_an_organisation_key_added_links_to_the_keys_page(
    world: Desk, browser: DeskClient
) -> None:
    app, client = browser
    escrow = crypto.generate_identity()
    world.add_organisation_key(escrow)
    path = f"/reports/{world.report_id}/note"
    refused = post(app, client, path, {"text": "Internal: call the lawyer."})
    assert refused.status_code == 409
    assert "The keys of your organisation changed: nothing was sent" in refused.text
    assert changed_rows(refused.text) == [["-", fingerprint(escrow)]]
    assert 'href="/keys#organisation"' in refused.text
    assert world.messages(MessageKind.NOTE) == []
    page = client.get("/keys", base_url=BASE).text
    assert "Changed: your organisation" in page and fingerprint(escrow) in page

"""The client trusts the keys it first saw: a server that swaps a partner's key, or adds one
to the organisation's, gets nothing encrypted to it until the caseworker has compared the
new fingerprints and accepted them (`reporting-caseworker keys accept`).

The server is the real app on loopback; the attacker changes its database as someone who
holds the server would; the client is the `reporting-caseworker` command, in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import crypto
from caseworker_client import pins
from caseworker_client.config import Home, write_private
from reporting.infra import db
from reporting.models import MessageKind, Partner, Report
from tests.support.api import add_partner
from tests.support.key_pins import (
    PARTNER,
    WEBHOOK,
    Desk,
    fingerprint,
    pinned_keys_desk,
)

NOTE = "Internal: the partner may call the reporter on Monday."


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    with pinned_keys_desk(tmp_path, database_url) as desk:
        yield desk


def test_first_sight_pins_and_unchanged_keys_pass(desk: Desk) -> None:
    pulled = desk.cw("pull")
    assert f"Pinned 1 key(s) of the partner {PARTNER} (partner:{desk.partner_id})" in pulled.output
    assert "Pinned 1 key(s) of your organisation (organisation)" in pulled.output
    again = desk.cw("pull")
    assert "Pinned" not in again.output  # said once
    desk.cw("note", desk.report_id[:8], "-m", NOTE)
    desk.cw("escalate", desk.report_id[:8], "--to", PARTNER)
    (escalation,) = desk.messages(MessageKind.ESCALATION)
    assert desk.opens(escalation, desk.partner_key) is not None
    listed = desk.cw("keys")
    assert fingerprint(desk.partner_key) in listed.output
    assert fingerprint(desk.alice.identity) in listed.output
    assert "CHANGED" not in listed.output


def test_a_swapped_partner_key_gets_nothing_until_accepted(desk: Desk) -> None:
    desk.cw("pull")
    attacker = crypto.generate_identity()
    desk.swap_partner_key(attacker)
    refused = desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert desk.messages(MessageKind.ESCALATION) == []  # nothing was sent
    assert "nothing was encrypted or sent" in refused.output
    assert fingerprint(desk.partner_key) in refused.output
    assert fingerprint(attacker) in refused.output
    assert f"reporting-caseworker keys accept partner:{desk.partner_id}" in refused.output
    assert "compromised" in refused.output

    listed = desk.cw("keys")
    assert "CHANGED on the server" in listed.output
    assert fingerprint(desk.partner_key) in listed.output and fingerprint(attacker) in listed.output

    # Reading still works while the change is pending.
    assert "They called my mother again." in desk.cw("show", desk.report_id[:8]).output

    declined = desk.cw("keys", "accept", f"partner:{desk.partner_id}", input="n\n", ok=False)
    assert fingerprint(attacker) in declined.output and "nothing was changed" in declined.output
    desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert desk.messages(MessageKind.ESCALATION) == []

    accepted = desk.cw("keys", "accept", PARTNER, input="y\n")
    assert f"Now trusting 1 key(s) of the partner {PARTNER}" in accepted.output
    desk.cw("escalate", desk.report_id[:8], "--to", PARTNER)
    (escalation,) = desk.messages(MessageKind.ESCALATION)
    assert desk.opens(escalation, attacker) is not None
    assert desk.opens(escalation, desk.partner_key) is None


def test_accept_pins_only_the_keys_the_caseworker_saw(desk: Desk) -> None:
    desk.cw("pull")
    shown = crypto.generate_identity()
    desk.swap_partner_key(shown)
    change = pins.change_of(desk.context(), PARTNER)
    assert change.new_fingerprints == [fingerprint(shown)]
    later = crypto.generate_identity()
    desk.swap_partner_key(later)  # the server changes them again while the caseworker looks
    with pytest.raises(pins.KeyChanged) as raised:
        pins.accept(desk.context(), change.subject, change.new_fingerprints)
    assert raised.value.old == (str(desk.partner_key.recipient),)
    assert raised.value.new == (str(later.recipient),)
    assert [pin.keys for pin in pins.pinned(desk.context()) if pin.name == PARTNER] == [
        (str(desk.partner_key.recipient),)
    ]
    desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert desk.messages(MessageKind.ESCALATION) == []


def test_a_partner_without_keys_is_refused_and_its_old_keys_still_count(desk: Desk) -> None:
    desk.cw("pull")
    desk.swap_partner_key(None)
    refused = desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert "has no public key registered" in refused.output
    attacker = crypto.generate_identity()
    desk.swap_partner_key(attacker)
    refused = desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert fingerprint(desk.partner_key) in refused.output and "keys accept" in refused.output
    assert desk.messages(MessageKind.ESCALATION) == []


def test_an_organisation_key_added_by_the_server_gets_no_reply_or_note(desk: Desk) -> None:
    desk.cw("pull")
    desk.cw("note", desk.report_id[:8], "-m", NOTE)
    escrow = crypto.generate_identity()
    desk.add_organisation_key(escrow)
    for command in ("note", "reply"):
        refused = desk.cw(command, desk.report_id[:8], "-m", NOTE, ok=False)
        assert "different keys for your organisation" in refused.output
        assert fingerprint(escrow) in refused.output
        assert "reporting-caseworker keys accept organisation" in refused.output
    refused = desk.cw("status", desk.report_id[:8], "triaged", "-m", "Looking", ok=False)
    assert "different keys for your organisation" in refused.output
    with desk.app.app_context():  # refused before the status changed, not just the note
        report = db.session().get_one(Report, desk.report_id)
        assert (str(report.status), report.status_note_blob_id) == ("new", None)
    assert len(desk.messages(MessageKind.NOTE)) == 1
    assert desk.messages(MessageKind.REPLY) == []

    desk.cw("keys", "accept", "organisation", "--yes")
    desk.cw("note", desk.report_id[:8], "-m", NOTE)
    notes = desk.messages(MessageKind.NOTE)
    assert len(notes) == 2
    assert [desk.opens(blob, escrow) is not None for blob in notes].count(True) == 1


def test_registering_ones_own_new_key_keeps_the_pin_valid(desk: Desk) -> None:
    desk.cw("pull")
    old = desk.alice.identity
    new_home_identity = crypto.generate_identity()
    write_private(desk.home / "identity.txt", crypto.identity_file_text(new_home_identity).encode())
    desk.cw("register-key")
    desk.cw("note", desk.report_id[:8], "-m", NOTE)
    (note,) = desk.messages(MessageKind.NOTE)
    assert desk.opens(note, new_home_identity) is not None
    assert desk.opens(note, old) is None


def test_a_partner_made_again_under_its_name_is_a_change(desk: Desk) -> None:
    desk.cw("pull")
    attacker = crypto.generate_identity()
    with desk.app.app_context(), db.database().transaction() as session:
        session.get_one(Partner, desk.partner_id).name = "Old legal aid"
    add_partner(desk.app, desk.alice.organisation_id, PARTNER, attacker, WEBHOOK)
    refused = desk.cw("escalate", desk.report_id[:8], "--to", PARTNER, ok=False)
    assert fingerprint(attacker) in refused.output
    assert fingerprint(desk.partner_key) in refused.output
    assert desk.messages(MessageKind.ESCALATION) == []


@pytest.mark.parametrize("damage", ["{not json", '{"version": 1}', '{"servers": {"x": 1}}'])
def test_a_damaged_pin_file_is_a_clear_error(desk: Desk, damage: str) -> None:
    desk.cw("pull")
    pin_file = desk.home / "pins.json"
    server = Home(desk.home).load_session()
    assert server is not None
    pin_file.write_text(damage.replace('"x"', f'"{server.server}"'))
    for args in (("note", desk.report_id[:8], "-m", NOTE), ("keys",)):
        refused = desk.cw(*args, ok=False)
        assert "pins.json is damaged" in refused.output or "expected form" in refused.output
    # Reading goes on, with the warning.
    assert "pins.json" in desk.cw("pull").output
    assert desk.messages(MessageKind.NOTE) == []
    assert pin_file.read_text() == damage.replace('"x"', f'"{server.server}"')  # left as it was

"""The whole cycle with real processes: portal, caseworker client, worker, partner's receiver.

A reporter submits over HTTP to `python -m reporting`; the caseworker, using the
installed `reporting-caseworker` command in its own home folder, makes a key,
logs in with a TOTP code, pulls, decrypts and replies; the reporter comes back
with the codename and reads the reply; the caseworker escalates to a partner
whose webhook is the reference receiver, and `python -m worker` delivers it. The
escalation opens with the partner's key and with no other. A report whose
reporter said "do not share" cannot be escalated, by the client or by force.

The partner's webhook is set up as receiver/README.md says: the receiver makes the
secret (`reporting-ngo-receiver --new-secret FILE`), the admin pastes it on the partner's
admin page, the receiver runs with that file, and it accepts the worker's deliveries.
The escalated photos (a JPEG with EXIF GPS, a PNG with a GPS text chunk) reach the
partner without their metadata, and with --keep-originals as the reporter sent them.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

import crypto
from caseworker_client.api import Api, ApiError, Part
from tests.support.full_cycle import (
    NARRATIVE,
    NOTES,
    PARTNER,
    PHOTO,
    PNG_GPS,
    SCREENSHOT,
    Reporter,
    World,
    partner_opens,
    running_world,
    wait_for_deliveries,
)

REPLY = "We received your report. 我们收到了您的报告。"
STATUS_NOTE = "A caseworker is looking into this."


@pytest.fixture
def world(tmp_path: Path, database_url: str, require_tool: Callable[[str], str]) -> Iterator[World]:
    with running_world(tmp_path, database_url, require_tool) as running:
        yield running


def assert_no_metadata(jpeg: bytes, png: bytes) -> None:
    """Neither image holds anything that places or names its author."""
    for marker in (b"Exif", b"PhoneMaker", b"GPS", PNG_GPS.encode(), b"tEXt", b"iTXt", b"eXIf"):
        assert marker not in jpeg and marker not in png, marker
    with Image.open(io.BytesIO(jpeg)) as image:
        assert not image.getexif() and image.size == (64, 48)
    with Image.open(io.BytesIO(png)) as image:
        assert not image.info.get("GPSPosition") and not image.getexif() and image.size == (40, 30)


def report_ids(world: World) -> dict[str, str]:
    """consent → report id, as the server lists them."""
    session = json.loads((world.home / "session.json").read_text())
    listing = Api(session["server"], session["token"]).get("/reports")
    return {r["consent"]: r["id"] for r in listing["reports"]}


def test_report_reply_return_and_escalation(world: World, tmp_path: Path) -> None:
    # The caseworker makes a key on their machine, logs in with a TOTP code, registers it.
    keygen = world.cw("keygen")
    recipient = re.search(r"age1pq1\w+", keygen.stdout)
    assert recipient
    refused = world.cw("login", world.url, "--username", "alice", input="wrong\n000000\n", ok=False)
    assert refused.returncode == 1 and "Error:" in refused.stderr
    login = f"{world.account.password}\n{world.account.code()}\n"
    assert "Logged in" in world.cw("login", world.url, "--username", "alice", input=login).stdout
    assert oct((world.home / "session.json").stat().st_mode & 0o777) == "0o600"
    world.cw("register-key")

    # Reporters file two reports: one that may be shared in full, one that may not be shared.
    reporter = Reporter(world.url)
    codename = reporter.submit("full")
    Reporter(world.url).submit("none")

    # pull downloads everything; a second pull after losing a file fetches just that one.
    assert "2 report(s) on the server; 2 new" in world.cw("pull").stdout
    blobs = sorted((world.home / "cache" / "blobs").glob("*.age"))
    assert len(blobs) == 8  # two reports, each a document and three files
    blobs[0].unlink()
    assert "0 new or changed; 1 file(s) downloaded" in world.cw("pull").stdout
    ids = report_ids(world)
    listed = world.cw("list").stdout
    assert ids["full"][:10] in listed and ids["none"][:10] in listed

    # Linked cases and exports are worked out here, from the reports decrypted in memory.
    assert "Cluster 1: 2 reports" in world.cw("links").stdout
    world.cw("export", "cases", "-o", str(tmp_path / "cases.csv"))
    cases = (tmp_path / "cases.csv").read_text()
    assert NARRATIVE in cases and cases.count("Case ") == 1  # the "none" report stays out
    assert "Mr Wang" not in cases and "138" not in cases and "Fuzhou" not in cases
    figures_path = tmp_path / "figures.json"
    world.cw("export", "aggregate", "--format", "json", "--min-count", "2", "-o", str(figures_path))
    figures = figures_path.read_text()
    assert json.loads(figures)["reports"] == 2 and "rotterdam" in figures
    assert NARRATIVE[:20] not in figures and "Mr Wang" not in figures

    # show decrypts locally, and saves the files: the copy of the photo without its metadata.
    evidence = tmp_path / "evidence"
    shown = world.cw("show", ids["full"][:8], "--save", str(evidence), "--strip-metadata").stdout
    assert NARRATIVE in shown and "Rotterdam" in shown and "Mr Wang" in shown
    assert sorted(p.name for p in evidence.iterdir()) == [
        "01-IMG_0001.jpg", "02-notes.txt", "03-map.png",
    ]  # fmt: skip
    assert (evidence / "02-notes.txt").read_bytes() == NOTES
    clean_photo = (evidence / "01-IMG_0001.jpg").read_bytes()
    assert b"PhoneMaker" not in clean_photo and b"Exif" not in clean_photo

    # Reply, note, triage; the reporter comes back and reads the reply and the status note.
    world.cw("reply", ids["full"][:8], "--message", REPLY)
    world.cw("note", ids["full"][:8], input="Internal: call the legal aid partner.\n")
    world.cw("status", ids["full"][:8], "in_progress", "--message", STATUS_NOTE)
    world.cw("assign", ids["full"][:8], "alice")
    world.cw("tag", ids["full"][:8], "family")
    world.cw("severity", ids["full"][:8], "high")
    case = Reporter(world.url).come_back(codename)
    assert REPLY in case and STATUS_NOTE in case
    assert "Internal: call" not in case
    row = next(line for line in world.cw("list").stdout.splitlines() if ids["full"][:10] in line)
    assert row.split()[2:6] == ["in_progress", "high", "alice", "family"]
    history = world.cw("history", ids["full"][:8]).stdout
    for done in (
        "alice  replied to the reporter",
        "alice  added a note",
        "alice  changed the status (status=in_progress)",
        "alice  changed the triage (tags=family)",
        "alice  changed the triage (severity=high)",
    ):
        assert done in history, history

    # The caseworker sees their reply and note decrypted too.
    shown = world.cw("show", ids["full"][:8]).stdout
    assert REPLY in shown and "Internal: call the legal aid partner." in shown

    # Escalation: the package goes to the partner only, delivered by the worker to the
    # receiver, which accepts it with the secret it made (it stores only what verifies).
    escalated = world.cw("escalate", ids["full"][:8], "--to", PARTNER, "--redact", "who.people")
    assert "4 delivery(ies) queued" in escalated.stdout
    assert "01 IMG_0001.jpg: metadata removed" in escalated.stdout
    assert "02 ../notes.txt: sent as the reporter sent it" in escalated.stdout
    assert "03 map.png: metadata removed" in escalated.stdout
    stored = wait_for_deliveries(world, 4)
    partner_key = world.partner_identity
    org_key = crypto.parse_identities((world.home / "identity.txt").read_text())
    with world.app.app_context():
        salt = world.app.config["SETTINGS"].codename_salt
    reporter_key = crypto.derive_keys(codename, salt).identity
    for body in stored.values():
        for other in (org_key, [reporter_key]):
            with pytest.raises(crypto.NoIdentityMatchError):
                crypto.decrypt(body, other)
    package, files = partner_opens(stored, partner_key)
    assert (package["kind"], package["consent"], package["redacted"]) == (
        "escalation", "full", ["who.people"],
    )  # fmt: skip
    assert package["report"]["narrative"] == NARRATIVE
    assert [m["relation"] for m in package["report"]["family"]] == ["mother"]  # may be shared
    assert "people" not in package["report"]["who"]
    assert "re-encoded from their pixels" in package["attachments_note"]
    metadata = {e["filename"]: e["metadata"] for e in package["attachments"]}
    assert metadata == {"IMG_0001.jpg": "removed", "../notes.txt": "original", "map.png": "removed"}
    assert files["text/plain"] == NOTES
    assert_no_metadata(files["image/jpeg"], files["image/png"])
    shown = world.cw("show", ids["full"][:8]).stdout
    assert f"Escalation to {PARTNER}" in shown and "only the partner can open it" in shown

    # Asked for explicitly, the originals go as the reporter sent them, metadata and all.
    kept = world.cw("escalate", ids["full"][:8], "--to", PARTNER, "--keep-originals")
    assert "metadata included (--keep-originals)" in kept.stdout
    newer = {k: v for k, v in wait_for_deliveries(world, 8).items() if k not in stored}
    package, files = partner_opens(newer, partner_key)
    assert {e["metadata"] for e in package["attachments"]} == {"original"}
    assert (files["image/jpeg"], files["image/png"]) == (PHOTO, SCREENSHOT)

    # "Do not share": the client refuses and sends nothing; forced, the server refuses too.
    blocked = world.cw("escalate", ids["none"][:8], "--to", PARTNER, ok=False)
    assert blocked.returncode == 1 and "do not share" in blocked.stderr
    session = json.loads((world.home / "session.json").read_text())
    api = Api(session["server"], session["token"])
    forced = tmp_path / "forced.age"
    forced.write_bytes(crypto.encrypt(b"{}", [partner_key.recipient]))
    with pytest.raises(ApiError) as caught:
        api.post_multipart(
            f"/reports/{ids['none']}/escalations",
            {"partner": str(api.get("/organisation")["partners"][0]["id"])},
            [Part("document", forced, "escalation.age")],
            tmp_path,
        )
    assert (caught.value.status, caught.value.code) == (409, "consent_refused")
    kinds = [m["kind"] for m in api.get(f"/reports/{ids['none']}")["messages"]]
    assert kinds == ["report"]
    time.sleep(1)
    assert len(world.stored()) == 8

    # Logging out ends the token on the server, not only here.
    saved = (world.home / "session.json").read_bytes()
    world.cw("logout")
    assert "not logged in" in world.cw("pull", ok=False).stderr
    with pytest.raises(ApiError) as caught:
        api.get("/me")
    assert caught.value.status == 401
    (world.home / "session.json").write_bytes(saved)  # a stolen copy of the old token
    assert "log in again" in world.cw("pull", ok=False).stderr
    listed = world.cw("list")  # falls back to what was pulled, with a warning
    assert ids["full"][:10] in listed.stdout and "log in again" in listed.stderr
    assert "Reply to the reporter" in world.cw("show", ids["full"][:8]).stdout

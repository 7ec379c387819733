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

import http.cookiejar
import io
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image, PngImagePlugin

import crypto
from caseworker_client.api import Api, ApiError, Part
from reporting import create_app
from reporting.infra import db, migrate
from reporting.infra.config import DeliverySettings
from reporting.models import Role, TriageTag
from reporting.organisations.recipients import find_organisation
from tests.support.admin import post, signed_in
from tests.support.casework import Account, make_account
from tests.support.portal import multipart
from tests.support.processes import Process, Processes, RedisServer, clean_environ, free_port

ORGANISATION = "Full cycle NGO"
PARTNER = "Legal aid"
NARRATIVE = "Two men from the public security bureau called my mother and said I must come back."
REPLY = "We received your report. 我们收到了您的报告。"
STATUS_NOTE = "A caseworker is looking into this."
WORKER_SETTINGS = {
    "REPORTING_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "REPORTING_DELIVERY_BACKOFF_SECONDS": "0.2",
    "REPORTING_DELIVERY_BACKOFF_MAX_SECONDS": "1",
    "REPORTING_SWEEP_INTERVAL_SECONDS": "1",
    "REPORTING_DELIVERY_LEASE_SECONDS": "4",
    "REPORTING_DELIVERY_REQUEUE_SECONDS": "3",
}


def photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (52.0, 22.0, 1.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


PNG_GPS = "GPS 51.9244 N 4.4777 E"


def screenshot_with_gps() -> bytes:
    """A PNG whose text chunks place its author (as map apps and some phones write them)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("GPSPosition", PNG_GPS)
    info.add_itxt("Comment", f"Taken at {PNG_GPS}")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, "PNG", pnginfo=info)
    return out.getvalue()


PHOTO = photo_with_gps()
SCREENSHOT = screenshot_with_gps()
NOTES = b"Call log: +31 6 0000 0000, 14 calls.\n"


class Reporter:
    """A browser without JavaScript: a cookie jar and plain form posts."""

    def __init__(self, url: str) -> None:
        self.url = url
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), cookies)

    def request(self, path: str, body: bytes | None = None, ctype: str = "") -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, data=body)
        if ctype:
            request.add_header("Content-Type", ctype)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf(self, path: str) -> str:
        _, page = self.request(path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def submit(self, consent: str) -> str:
        """File a report with three files; returns the codename."""
        data: dict[str, Any] = {
            "csrf_token": self.csrf("/report"),
            "methods": ["association_or_station", "threats_to_relatives"],
            "narrative": NARRATIVE,
            "country": "NL",
            "city": "Rotterdam",
            "people": "Mr Wang, wechat wang_88",
            "actor_phones": "+86 138 0013 8000",
            "family-0-relation": "mother",
            "family-0-location": "Fuzhou",
            "family-0-may_share": "y",
            "consent": consent,
            "reply_language": "zh_Hans",
            "attachments": [
                (io.BytesIO(PHOTO), "IMG_0001.jpg", "image/jpeg"),
                (io.BytesIO(NOTES), "../notes.txt", "text/plain"),
                (io.BytesIO(SCREENSHOT), "map.png", "image/png"),
            ],
        }
        return self.file(data)

    def file(self, data: dict[str, Any]) -> str:
        """Post a report form (its CSRF token included); returns the codename."""
        body, ctype = multipart(data)
        status, page = self.request("/report", body, ctype)
        assert status == 200, page[-2000:]
        match = re.search(r'id="codename"[^>]*>\s*([^<]+?)\s*<', page)
        assert match, "no codename on the page"
        return match.group(1)

    def come_back(self, codename: str) -> str:
        """Sign in with the codename and return the case page."""
        body = urllib.parse.urlencode({"csrf_token": self.csrf("/return"), "codename": codename})
        status, page = self.request("/return", body.encode(), "application/x-www-form-urlencoded")
        assert status == 200, page[-2000:]
        return page


@dataclass
class World:
    url: str
    app: Flask
    account: Account
    partner_identity: Any
    received: Path
    home: Path
    processes: Processes

    def cw(self, *args: str, input: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the installed `reporting-caseworker` with this caseworker's home folder."""
        script = shutil.which("reporting-caseworker", path=str(Path(sys.executable).parent))
        assert script, "the reporting-caseworker script is not installed"
        result = subprocess.run(
            [script, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=180,
            env=clean_environ(REPORTING_CASEWORKER_HOME=str(self.home)),
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def stored(self) -> dict[str, bytes]:
        return {p.stem: p.read_bytes() for p in self.received.glob("*.age")}


def set_up_organisation(app: Flask, receiver_url: str, secret: str) -> tuple[Account, Any]:
    """An enrolled caseworker (no key yet), a tag, and a partner whose webhook channel an
    admin adds on the admin pages, pasting the secret the partner's receiver made."""
    account = make_account(app, "alice", ORGANISATION, with_key=False)
    boss = make_account(app, "boss", ORGANISATION, Role.ADMIN, with_key=False)
    partner_identity = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, ORGANISATION)
        assert organisation is not None
        session.add(TriageTag(organisation_id=organisation.id, name="family"))
    admin = signed_in(app, boss)
    added = post(
        admin,
        "/admin/partners/new",
        {"name": PARTNER, "recipients": str(partner_identity.recipient)},
    )
    assert added.status_code == 302, added.text
    partner_page = added.headers["Location"]
    webhook = {"webhook-url": receiver_url, "webhook-secret": secret}
    pasted = post(admin, f"{partner_page}/webhook", webhook, "webhook")
    assert pasted.status_code == 302, pasted.text
    assert secret not in admin.get(partner_page).text  # stored for signing, never shown back
    return account, partner_identity


def start_receiver(processes: Processes, tmp_path: Path) -> tuple[str, str, Path]:
    script = shutil.which("reporting-ngo-receiver", path=str(Path(sys.executable).parent))
    assert script, "the reporting-ngo-receiver script is not installed"
    secret_file, store, port = tmp_path / "receiver-secret", tmp_path / "received", free_port()
    subprocess.run([script, "--new-secret", str(secret_file)], check=True, capture_output=True)
    process = processes.start(
        "receiver",
        [script, "--store", str(store), "--secret-file", str(secret_file), "--port", str(port)],
    )
    process.wait_for_port(port)
    return f"http://127.0.0.1:{port}/", secret_file.read_text().strip(), store


def wait_for_health(url: str, process: Process) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            assert process.running(), process.output()[-3000:]
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)


@pytest.fixture
def world(tmp_path: Path, database_url: str, require_tool: Callable[[str], str]) -> Iterator[World]:
    processes = Processes(tmp_path / "logs")
    try:
        # Redis as in production: kombu's filesystem transport (the embedded default) can
        # hand the worker a message file before the web app has finished writing it.
        redis = RedisServer(
            require_tool("redis-server"), free_port(), tmp_path / "redis", processes
        )
        redis.start()
        instance = tmp_path / "instance"
        # The admin pages check a webhook's address as the worker does: loopback is allowed
        # here as REPORTING_WEBHOOK_ALLOWED_NETWORKS allows it for the worker.
        app = create_app(
            {
                "INSTANCE_PATH": instance,
                "DATABASE_URL": database_url,
                "DELIVERY": DeliverySettings(allowed_networks=("127.0.0.0/8",)),
            }
        )
        migrate.upgrade(database_url)
        receiver_url, secret, received = start_receiver(processes, tmp_path)
        account, partner_identity = set_up_organisation(app, receiver_url, secret)
        port = free_port()
        env = clean_environ(
            PORT=str(port),
            REPORTING_INSTANCE_PATH=str(instance),
            REPORTING_DATABASE_URL=database_url,
            REPORTING_REDIS_URL=redis.url,
            REPORTING_NO_WORKER="1",
        )
        server = processes.start("server", [sys.executable, "-m", "reporting"], env)
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, server)
        processes.start("worker", [sys.executable, "-m", "worker"], {**env, **WORKER_SETTINGS})
        yield World(
            url, app, account, partner_identity, received, tmp_path / "client home", processes
        )
    finally:
        processes.stop_all()
        print(processes.tails())  # shown only when the test fails


def partner_opens(stored: dict[str, bytes], key: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What the partner reads: the package, and each file (cut to the size the package
    gives it) by the content type the package names."""
    documents, plaintexts = [], []
    for body in stored.values():
        plaintext = crypto.decrypt(body, [key])
        try:
            documents.append(json.loads(plaintext))
        except ValueError:
            plaintexts.append(plaintext)
    [package] = documents
    files = {}
    for entry in package["attachments"]:
        size = entry["size"]
        [match] = [p for p in plaintexts if not any(p[size:]) and sniff(p) == entry["content_type"]]
        files[entry["content_type"]] = match[:size]
    return package, files


def sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "image/png" if data.startswith(b"\x89PNG") else "text/plain"


def assert_no_metadata(jpeg: bytes, png: bytes) -> None:
    """Neither image holds anything that places or names its author."""
    for marker in (b"Exif", b"PhoneMaker", b"GPS", PNG_GPS.encode(), b"tEXt", b"iTXt", b"eXIf"):
        assert marker not in jpeg and marker not in png, marker
    with Image.open(io.BytesIO(jpeg)) as image:
        assert not image.getexif() and image.size == (64, 48)
    with Image.open(io.BytesIO(png)) as image:
        assert not image.info.get("GPSPosition") and not image.getexif() and image.size == (40, 30)


def wait_for_deliveries(world: World, count: int, timeout: float = 90) -> dict[str, bytes]:
    deadline = time.monotonic() + timeout
    while len(stored := world.stored()) < count:
        assert time.monotonic() < deadline, f"{len(stored)} of {count} deliveries arrived"
        time.sleep(0.2)
    return stored


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

"""The full cycle's world: a real server, worker and partner receiver, and the reporter and
caseworker who use them (tests/processes/test_full_cycle.py, tests/browser/test_desk.py).

The partner's webhook is set up as receiver/README.md says: the receiver makes the secret,
the admin pastes it on the partner's admin page, and the receiver runs with that file.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image, PngImagePlugin

import crypto
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


@contextmanager
def running_world(
    tmp_path: Path, database_url: str, require_tool: Callable[[str], str]
) -> Iterator[World]:
    """The server, worker, Redis and partner receiver, all stopped when the test ends."""
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


def wait_for_deliveries(world: World, count: int, timeout: float = 90) -> dict[str, bytes]:
    deadline = time.monotonic() + timeout
    while len(stored := world.stored()) < count:
        assert time.monotonic() < deadline, f"{len(stored)} of {count} deliveries arrived"
        time.sleep(0.2)
    return stored

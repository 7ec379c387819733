"""`reporting-caseworker desk` as a process: it unlocks the identity once before serving,
serves 127.0.0.1 only, and stops on Ctrl+C (SIGINT) as on a closed terminal (SIGHUP,
tests/browser/test_desk.py). No server is needed to start it: its first page says the
reports could not be fetched."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import clean_environ

PASSPHRASE = "correct horse battery staple for the desk"


def script() -> str:
    found = shutil.which("reporting-caseworker", path=str(Path(sys.executable).parent))
    assert found, "the reporting-caseworker script is not installed"
    return found


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A client home with a passphrase-protected identity and a session for a server that
    is not running (the desk starts without asking it anything)."""
    home = tmp_path / "client home"
    env = clean_environ(
        REPORTING_CASEWORKER_HOME=str(home), REPORTING_CASEWORKER_PASSPHRASE=PASSPHRASE
    )
    subprocess.run([script(), "keygen", "--passphrase"], env=env, check=True, timeout=120)
    session = {"server": "http://127.0.0.1:9", "username": "alice", "token": "t" * 40}
    (home / "session.json").write_text(json.dumps(session))
    (home / "session.json").chmod(0o600)
    return home


def start(home: Path, passphrase: str) -> subprocess.Popen[str]:
    env = clean_environ(REPORTING_CASEWORKER_HOME=str(home))
    desk = subprocess.Popen(
        [script(), "desk", "--no-browser"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert desk.stdin is not None
    desk.stdin.write(passphrase + "\n")  # what the terminal prompt reads, once
    desk.stdin.close()
    return desk


def finish(desk: subprocess.Popen[str], timeout: float = 120) -> str:
    """Everything the desk printed, once it has exited (it is killed if it lingers)."""
    assert desk.stdout is not None
    try:
        desk.wait(timeout=timeout)
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait()
        output = desk.stdout.read()
        desk.stdout.close()
    return output


def get(url: str, cookie: str = "") -> tuple[int, dict[str, str], str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_desk_unlocks_once_serves_loopback_and_stops_on_ctrl_c(home: Path) -> None:
    desk = start(home, PASSPHRASE)
    try:
        assert desk.stdout is not None
        line = desk.stdout.readline()
        link = re.search(r"http://127\.0\.0\.1:(\d+)/open\?token=[\w-]+", line)
        assert link, line
        status, headers, _ = get(link.group(0))
        assert status == 303 and headers["Location"] == "/"
        cookie = headers["Set-Cookie"].split(";")[0]
        root = f"http://127.0.0.1:{link.group(1)}"
        status, _, page = get(root + "/", cookie)
        # The passphrase was read once, at the start: the page needs no second one.
        assert status == 200 and "Showing the reports pulled earlier" in page
        desk.send_signal(signal.SIGINT)
    finally:
        output = finish(desk, timeout=20)
    assert desk.returncode == 0 and "The desk has stopped." in output


def test_a_wrong_passphrase_stops_the_desk_before_it_serves(home: Path) -> None:
    desk = start(home, "not the passphrase")
    output = finish(desk)
    assert desk.returncode == 1
    assert "wrong passphrase" in output and "http://" not in output
    assert "Traceback" not in output


def test_logged_out_the_desk_opens_on_its_sign_in_page(home: Path) -> None:
    (home / "session.json").unlink()
    desk = start(home, PASSPHRASE)
    try:
        assert desk.stdout is not None
        said = desk.stdout.readline()
        assert "not signed in" in said
        line = desk.stdout.readline()
        link = re.search(r"http://127\.0\.0\.1:(\d+)/open\?token=[\w-]+", line)
        assert link, line
        status, headers, _ = get(link.group(0))
        cookie = headers["Set-Cookie"].split(";")[0]
        root = f"http://127.0.0.1:{link.group(1)}"
        for path in ("/", "/reports/abc"):
            status, headers, _ = get(root + path, cookie)
            assert (status, headers["Location"]) == (303, "/sign-in")
        status, _, page = get(root + "/sign-in", cookie)
        assert status == 200 and 'name="password"' in page
        desk.send_signal(signal.SIGINT)
    finally:
        output = finish(desk, timeout=20)
    assert desk.returncode == 0 and "Traceback" not in output

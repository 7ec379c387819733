"""Helpers for end-to-end tests: a real `python -m reporting` server and headless Chromium.

The browser runs with JavaScript disabled, as Tor Browser does at its "Safest" level.
Debian's chromium is used through Playwright (never `playwright install`, which downloads
a browser).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import free_port

# Ports Chromium refuses with ERR_UNSAFE_PORT (net/base/port_util.cc), above 1023.
CHROMIUM_UNSAFE_PORTS = frozenset(
    (1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6679, 6697, 10080)
) | frozenset(range(6665, 6670))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    """A running `python -m reporting`, with its state folder and captured output."""

    url: str
    instance: Path
    output_path: Path
    tmpdir: Path
    process: subprocess.Popen[bytes]

    def output(self) -> bytes:
        """Everything the server printed so far (stdout and stderr together)."""
        return self.output_path.read_bytes()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"the server did not answer {url}; its output:\n{output}")
        time.sleep(0.1)


@contextmanager
def running_server(
    root: Path, timeout: float = 30.0, portal: Path | None = None, onion: str | None = None
) -> Iterator[Server]:
    """Start `python -m reporting` with its state under `root`; stop it afterwards. `portal`
    is a portal file to copy into its instance folder, `onion` its onion address."""
    port = free_port()
    instance = root / "instance"
    if portal is not None:
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        (instance / "portal.toml").write_bytes(portal.read_bytes())
    tmpdir = root / "tmp"  # the server's TMPDIR, so temporary files can be inspected
    tmpdir.mkdir(parents=True, exist_ok=True)
    # Nothing from the caller's environment may point the server at other state.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")}
    env.update(
        {
            "PORT": str(port),
            "REPORTING_INSTANCE_PATH": str(instance),
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": str(tmpdir),
        }
    )
    if onion:
        env["REPORTING_ONION_ADDRESS"] = onion
    output_path = root / "server-output.log"
    with output_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reporting"],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/healthz", process, output_path, timeout)
        yield Server(url, instance, output_path, tmpdir, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def launch_chromium(playwright: Any, executable: str) -> Any:
    """Headless Debian chromium, with nothing phoning home."""
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every regular file under `root` whose bytes contain `needle`."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            found.append(path)
    return found


def click_and_load(page: Any, target: Any) -> None:
    """Click what sends a form or follows a link, and return once the next page has loaded.

    A click returns as soon as the navigation starts; a slow answer (a codename derivation on
    a busy machine takes seconds) would leave `page.url` and the old page in place for the
    checks that follow. Every click here navigates, since the pages run without JavaScript.
    """
    with page.expect_navigation(wait_until="load"):
        target.click()

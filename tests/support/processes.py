"""Real processes for tests: started in their own process group, logged to a file, and
always stopped (and waited for) at the end, whatever happened in between."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# Ports Chromium refuses with ERR_UNSAFE_PORT (net/base/port_util.cc), above 1023: never
# handed out, so any test's server can be opened in the browser too.
CHROMIUM_UNSAFE_PORTS = frozenset(
    (1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6679, 6697, 10080)
) | frozenset(range(6665, 6670))


def free_port() -> int:
    """A loopback port nobody listens on right now (and that Chromium agrees to open)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port > 1023 and port not in CHROMIUM_UNSAFE_PORTS:
            return port


def get_when_up(url: str, server: subprocess.Popen[str], timeout: float = 20.0) -> bytes:
    """The body of `url` once the server answers; raises if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without any REPORTING_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_port(self, port: int, timeout: float = 20.0) -> None:
        """Return once `port` accepts connections; fail if the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if not self.running():
                    raise AssertionError(
                        f"{self.name} exited ({self.popen.returncode}):\n{self.output()[-3000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} is not listening on {port}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the process itself (not its group), as a crash would, and reap it."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole group, then SIGKILL it if it lingers; always reaped."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.popen.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        self.popen.wait()
        # A process we SIGKILLed may have left children in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


class Processes:
    """Starts processes; `stop_all` stops every one of them, last started first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.started: list[Process] = []

    def start(
        self,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> Process:
        log = self.folder / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=dict(env) if env is not None else clean_environ(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped whole, spared our Ctrl-C
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def python(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> Process:
        return self.start(name, [sys.executable, *args], env)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def tails(self, chars: int = 2000) -> str:
        """The end of every log, for a failing test's report."""
        return "\n".join(
            f"--- {p.name} (pid {p.pid}, exit {p.popen.returncode}) ---\n{p.output()[-chars:]}"
            for p in self.started
        )


@dataclass
class RedisServer:
    """A private, memory-only redis-server on its own port, in its own folder."""

    binary: str
    port: int
    folder: Path
    processes: Processes
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
            "--bind", "127.0.0.1", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = self.processes.start("redis", command, clean_environ())
        self.process.wait_for_port(self.port)

    def shutdown(self) -> None:
        """Stop it (it keeps nothing: --save "" and no AOF), so its port refuses connections."""
        if self.process is not None:
            self.process.stop()
            self.process = None

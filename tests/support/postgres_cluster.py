"""A PostgreSQL cluster of a test's own, which it may restart or stop without touching the
shared server at 127.0.0.1:5432 that every other test uses."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port
from tests.support.tools import unavailable

# PostgreSQL refuses to run as root: a root test runs the cluster as this user.
SERVICE_USER = "postgres"


def _binaries() -> Path | None:
    """The folder of initdb and pg_ctl (Debian keeps them out of PATH), newest version first."""
    found = shutil.which("pg_ctl")
    folders = [Path(found).parent] if found else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    folders += sorted((Path(v) for v in versions), key=lambda p: _version(p), reverse=True)
    return next((f for f in folders if (f / "initdb").exists() and (f / "pg_ctl").exists()), None)


def _version(folder: Path) -> tuple[int, ...]:
    digits = folder.parent.name.split(".")
    return tuple(int(d) for d in digits if d.isdigit())


@dataclass
class Cluster:
    """One running cluster: trust authentication on loopback, at its own port."""

    bin: Path
    data: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            user=self.user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.data.parent,
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data}"
        self._run("pg_ctl", action, "-w", "-D", str(self.data), "-o", options, *extra)

    def start(self) -> None:
        log = self.data.parent / "postgres.log"
        self._pg_ctl("start", "-l", str(log))

    def restart_immediately(self) -> None:
        """What a crash and an automatic restart look like to a client: every connection
        is cut at once, and new ones are accepted again afterwards."""
        self._pg_ctl("restart", "-m", "immediate", "-l", str(self.data.parent / "postgres.log"))

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster; always stopped and removed at the end. Skips (fails in CI)
    when PostgreSQL's server programs are not installed."""
    binaries = _binaries()
    if binaries is None:
        unavailable(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed",
            ".ci/run must install them",
        )
    user = SERVICE_USER if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: as root that folder is closed to the service user.
    folder = Path(tempfile.mkdtemp(prefix="reporting-pg-"))
    data = folder / "data"
    data.mkdir(mode=0o700)
    if user is not None:
        shutil.chown(folder, user)
        shutil.chown(data, user)
    cluster = Cluster(binaries, data, free_port(), user)
    try:
        cluster._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):  # never started, or already down
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)

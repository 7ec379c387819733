"""The partial ciphertext a killed upload leaves is swept on its own, within an hour: by the
beat and whenever an app starts; an upload still in progress keeps its file, however old."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from reporting import create_app
from reporting.infra.blobs import PARTIAL_MAX_AGE_SECONDS, PARTIAL_SWEEP_SECONDS, BlobStore
from reporting.infra.queue import SWEEP_UPLOADS_TASK, celery_config
from tests.support.processes import ROOT, clean_environ

# A process that starts a blob, writes some of it, says so, and then waits to be killed.
UPLOADER = textwrap.dedent(
    """
    import sys, time
    import crypto
    from pathlib import Path
    from reporting.infra.blobs import BlobStore
    writer = BlobStore(Path(sys.argv[1])).writer([crypto.generate_identity().recipient])
    writer.write(b"x" * 300_000)
    print(writer.id, flush=True)
    time.sleep(600)
    """
)
LONG_AGO = time.time() - PARTIAL_MAX_AGE_SECONDS - 600


@pytest.fixture
def uploaders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        kill(process)


def start_upload(blobs: Path, started: list[subprocess.Popen[str]]) -> Path:
    """A real upload in another process, stalled half-way; returns its partial file."""
    process = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, str(blobs)],
        cwd=ROOT,
        env=clean_environ(),
        stdout=subprocess.PIPE,
        text=True,
    )
    started.append(process)
    assert process.stdout is not None
    blob_id = process.stdout.readline().strip()
    partial = blobs / ".tmp" / f"{blob_id}.part"
    assert partial.exists()
    return partial


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL, as an out-of-memory kill or a crash would: no clean-up code runs."""
    process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def age(path: Path) -> None:
    os.utime(path, (LONG_AGO, LONG_AGO))


def test_a_killed_uploads_file_goes_and_a_live_ones_stays(
    tmp_path: Path, uploaders: list[subprocess.Popen[str]]
) -> None:
    blobs = tmp_path / "blobs"
    store = BlobStore(blobs)
    killed = start_upload(blobs, uploaders)
    kill(uploaders[0])
    stalled = start_upload(blobs, uploaders)  # still running: a slow upload over Tor
    young = start_upload(blobs, uploaders)
    kill(uploaders[2])  # killed, but too recently to be sure nothing will touch it
    age(killed)
    age(stalled)

    assert store.sweep_partial_files() == 1

    assert not killed.exists()
    assert stalled.exists() and young.exists()


def test_the_beat_sweeps_partial_files_within_an_hour(
    app: Flask, uploaders: list[subprocess.Popen[str]]
) -> None:
    from worker.app import create_celery

    settings = app.config["SETTINGS"]
    [entry] = [
        e
        for e in celery_config(settings)["beat_schedule"].values()
        if e["task"] == SWEEP_UPLOADS_TASK
    ]
    assert PARTIAL_MAX_AGE_SECONDS + entry["schedule"] <= 3600
    assert entry["schedule"] == PARTIAL_SWEEP_SECONDS
    killed = start_upload(settings.blob_path, uploaders)
    kill(uploaders[0])
    age(killed)

    celery = create_celery(app)
    celery.tasks[SWEEP_UPLOADS_TASK].apply()

    assert not killed.exists()


def test_starting_the_service_sweeps_partial_files(
    tmp_path: Path, database_url: str, uploaders: list[subprocess.Popen[str]]
) -> None:
    instance = tmp_path / "instance"
    config = {"TESTING": True, "INSTANCE_PATH": instance, "DATABASE_URL": database_url}
    create_app(config)
    killed = start_upload(instance / "blobs", uploaders)
    kill(uploaders[0])
    age(killed)

    create_app(config)

    assert not killed.exists()

"""Everything under the instance path is the service user's alone (files 0600, folders 0700),
whatever umask the service was started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from reporting import create_app
from reporting.infra import doctor, migrate
from reporting.infra.blobs import BlobStore
from reporting.infra.instance_files import private_file
from tests.support.portal import add_caseworker, file_part, submit_report


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Start as a careless shell would (umask 022); the process's own umask is put back."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def everything_below(root: Path) -> list[Path]:
    found = [root]
    for folder, subfolders, names in os.walk(root):
        found += [Path(folder) / name for name in (*subfolders, *names)]
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def embedded_app(instance: Path) -> Flask:
    """The embedded default: SQLite, blobs and the broker's queue all in the instance folder."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": instance})
    migrate.upgrade(app.config["SETTINGS"].database_url)
    add_caseworker(app)
    return app


def submit_with_attachment(app: Flask) -> None:
    page = submit_report(app.test_client(), attachments=file_part(b"%PDF-1.4 evidence"))
    assert page.status_code == 200


@pytest.mark.slow
def test_a_submission_leaves_only_private_files(tmp_path: Path, loose_umask: None) -> None:
    instance = tmp_path / "instance"
    app = embedded_app(instance)

    submit_with_attachment(app)

    paths = everything_below(instance)
    assert any(p.name.endswith(".age") for p in paths)
    assert any(p.name == "reporting.sqlite3" for p in paths)
    loose = {str(p): oct(mode(p)) for p in paths if mode(p) != (0o700 if p.is_dir() else 0o600)}
    assert loose == {}
    assert doctor.check_files(app.config["SETTINGS"]) == []


@pytest.mark.slow
def test_files_made_before_with_loose_modes_are_closed_at_start(
    tmp_path: Path, loose_umask: None
) -> None:
    instance = tmp_path / "instance"
    embedded_app(instance)
    (instance / "blobs").chmod(0o755)
    (instance / "reporting.sqlite3").chmod(0o644)
    (instance / "secret_key").chmod(0o644)

    create_app({"TESTING": True, "INSTANCE_PATH": instance})

    assert mode(instance / "blobs") == 0o700
    assert mode(instance / "reporting.sqlite3") == 0o600
    assert mode(instance / "secret_key") == 0o600


def test_folders_and_files_are_made_private_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0)
    try:
        store = BlobStore(tmp_path / "new" / "blobs")
        database = private_file(tmp_path / "new" / "reporting.sqlite3")
    finally:
        os.umask(before)

    assert {mode(p) for p in (tmp_path / "new", store.root, store.temp)} == {0o700}
    assert mode(database) == 0o600


def test_the_doctor_finds_a_loose_file_anywhere_below(tmp_path: Path, loose_umask: None) -> None:
    app = embedded_app(tmp_path / "instance")
    beat_schedule = tmp_path / "instance" / "beat-schedule"
    beat_schedule.write_bytes(b"")
    beat_schedule.chmod(0o644)

    [finding] = doctor.check_files(app.config["SETTINGS"])

    assert str(beat_schedule) in str(finding)

"""A seized disk dates nothing more precisely than the day: after a report (with a file)
arrives, is queued for delivery and is read back, every file and folder under the instance
path has access and modification times at midnight UTC."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from crypto import webhooks
from reporting import create_app
from reporting.infra import db, migrate
from reporting.infra.instance_files import DAY_SECONDS, start_of_day
from reporting.models import ChannelKind, DeliveryChannel
from reporting.organisations.recipients import find_organisation
from tests.support.portal import add_caseworker, codename_from, come_back, file_part, submit_report


def without_access_times(root: Path) -> Iterator[Path]:
    """Every path below `root`, listed without touching a folder's access time (which a
    plain listing sets, and which is what the test looks at)."""
    yield root
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOATIME)
    try:
        entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in os.scandir(fd)]
    finally:
        os.close(fd)
    for name, is_folder in entries:
        if is_folder:
            yield from without_access_times(root / name)
        else:
            yield root / name


def time_of_day(seconds: float) -> str | None:
    """The time of day a timestamp gives away, or None if it is a midnight (UTC)."""
    if seconds % DAY_SECONDS == 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def embedded_app_with_a_webhook(instance: Path) -> Flask:
    app = create_app({"TESTING": True, "INSTANCE_PATH": instance})
    migrate.upgrade(app.config["SETTINGS"].database_url)
    caseworker = add_caseworker(app)
    with app.app_context(), db.database().transaction() as session:
        session.add(
            DeliveryChannel(
                organisation=find_organisation(session, caseworker.organisation_name),
                kind=ChannelKind.WEBHOOK,
                target="https://ngo.example/hook",
                secret=webhooks.new_secret(),
            )
        )
    return app


@pytest.mark.slow
def test_every_file_and_folder_shows_only_the_day(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = embedded_app_with_a_webhook(instance)

    page = submit_report(app.test_client(), attachments=file_part(b"%PDF-1.4 evidence"))
    assert page.status_code == 200
    assert come_back(app.test_client(), codename_from(page)).status_code == 302

    paths = list(without_access_times(instance))
    kinds = {p.suffix for p in paths if p.is_file()}
    assert {".age", ".sqlite3", ".msg"} <= kinds  # blobs, the database, the queued deliveries
    revealing = {}
    for path in paths:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            continue
        for name, seconds in (("atime", info.st_atime), ("mtime", info.st_mtime)):
            if (shown := time_of_day(seconds)) is not None:
                revealing[f"{path.relative_to(instance)} {name}"] = shown
    assert revealing == {}
    # And the day is today's: nothing pretends to be older than it is.
    assert os.stat(instance / "reporting.sqlite3").st_mtime == start_of_day()

"""The operator's `flask` commands: migrations, organisations, demo set-up, listing, sweeping."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect, select

import crypto
from reporting.infra import db, migrate
from reporting.infra.db import Base
from reporting.infra.operator_commands import DEMO_KEY_FILE, ORPHAN_MIN_AGE_SECONDS
from tests.support import databases
from tests.support.portal import submit_report

PQ = str(crypto.generate_identity().recipient)
PQ_2 = str(crypto.generate_identity().recipient)
CLASSIC = str(crypto.generate_identity(post_quantum=False).recipient)


def test_db_upgrade_is_idempotent(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_migrations_match_the_models(app: Flask) -> None:
    """A model changed without a migration would make this fail."""
    with app.app_context(), db.database().engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.slow
def test_downgrade_removes_every_table(app: Flask, database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    with app.app_context():
        tables = set(inspect(db.database().engine).get_table_names())
    assert tables <= {"alembic_version"}
    databases.migrate_fresh(database_url)


def test_org_create_add_recipient_and_list(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["org", "create", "Safeguard"]).exit_code == 0
    result = runner.invoke(args=["org", "add-recipient", "Safeguard", PQ, "--label", "Ana"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["org", "add-recipient", "Safeguard", PQ_2]).exit_code == 0
    listing = runner.invoke(args=["org", "list"]).output
    assert "Safeguard (2 recipients)" in listing and "Ana" in listing


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        (CLASSIC, "mixing kinds"),
        (PQ, "already one of"),
        ("age1notakey", "not an age public key"),
        (str(crypto.generate_identity()), "private key"),
    ],
    ids=["classic-beside-pq", "already-there", "not-a-key", "private-key"],  # keys are random
)
def test_add_recipient_refusals(runner: FlaskCliRunner, recipient: str, message: str) -> None:
    runner.invoke(args=["org", "create", "Safeguard"])
    runner.invoke(args=["org", "add-recipient", "Safeguard", PQ])
    result = runner.invoke(args=["org", "add-recipient", "Safeguard", recipient])
    assert result.exit_code == 1
    assert message in result.output


def test_org_errors_say_what_to_do(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["org", "create", "Safeguard"])
    duplicate = runner.invoke(args=["org", "create", "Safeguard"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = runner.invoke(args=["org", "add-recipient", "Nobody", PQ])
    assert unknown.exit_code == 1 and "flask org list" in unknown.output


def test_demo_makes_a_private_labelled_key_once(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    key_file = Path(app.instance_path) / DEMO_KEY_FILE
    assert "python -m crypto decrypt -i" in result.output and str(key_file) in result.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    text = key_file.read_text()
    assert text.startswith("# DEMO ONLY")
    [identity] = crypto.parse_identities(text)
    assert identity.recipient.post_quantum
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and key_file.read_text() == text


def test_demo_report_decrypts_with_the_demo_key(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["demo"])
    assert submit_report(app.test_client()).status_code == 200
    listing = runner.invoke(args=["reports", "list"]).output
    [path] = [
        line.split()[-1]
        for line in listing.splitlines()
        if line.split()[0] == "report" and line.endswith(".age")
    ]
    [identity] = crypto.parse_identities((Path(app.instance_path) / DEMO_KEY_FILE).read_text())
    assert b'"kind":"report"' in crypto.decrypt(Path(path).read_bytes(), [identity])


@pytest.mark.slow
def test_reports_list_shows_metadata_and_paths_only(
    app: Flask, runner: FlaskCliRunner, caseworker
) -> None:
    submit_report(app.test_client(), city="Vancouver")
    output = runner.invoke(args=["reports", "list"]).output
    assert "received" in output and ".age" in output
    assert "Vancouver" not in output


def test_blobs_sweep_removes_only_old_orphans_and_stale_temporaries(
    app: Flask, runner: FlaskCliRunner, caseworker
) -> None:
    submit_report(app.test_client())
    store = app.extensions["blobs"]
    kept = set(store.ids())
    old = long_ago = time.time() - ORPHAN_MIN_AGE_SECONDS - 60
    for blob_id in kept:  # referenced blobs stay, however old
        os.utime(store.path(blob_id), (old, old))

    def orphan(age: float) -> str:
        writer = store.writer([caseworker.identity.recipient])
        writer.write(b"orphan")
        writer.commit()
        os.utime(store.path(writer.id), (age, age))
        return writer.id

    old_orphan, fresh_orphan = orphan(long_ago), orphan(time.time())
    stale = store.temp / "abandoned.part"
    stale.write_bytes(b"ciphertext")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    fresh = store.temp / "in-progress.part"
    fresh.write_bytes(b"ciphertext")

    result = runner.invoke(args=["blobs", "sweep"])
    assert result.exit_code == 0
    assert (
        "Removed 1 orphaned files, 1 stale temporary files and 0 unclaimed kept files."
        in result.output
    )
    assert set(store.ids()) == kept | {fresh_orphan}
    assert old_orphan not in set(store.ids())
    assert not stale.exists() and fresh.exists()


@pytest.mark.slow
def test_upgrading_a_database_that_has_reports(app: Flask, database_url: str, caseworker) -> None:
    """Columns added by later migrations need defaults for the rows already there."""
    submit_report(app.test_client())
    migrate.downgrade(database_url, "0001")
    migrate.upgrade(database_url)
    with app.app_context():
        from reporting.models import Organisation, Report

        report = db.session().scalars(select(Report)).one()
        assert report.read is False and report.closed_on is None
        organisation = db.session().scalars(select(Organisation)).one()
        assert organisation.retention_days == 90 and organisation.notification_due is False

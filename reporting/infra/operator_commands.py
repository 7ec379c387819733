"""`flask` commands for operators: migrations, organisations, the demo set-up, sweeps.

Each command says what it did, and on failure what went wrong and what to do.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from crypto import generate_identity, identity_file_text
from reporting.infra import db as database
from reporting.infra import migrate
from reporting.infra.config import INSTANCE_PATH_VAR, Settings
from reporting.intake import kept_files
from reporting.models import (
    Attachment,
    Blob,
    Caseworker,
    KeptUpload,
    Message,
    Organisation,
    Report,
    Role,
)
from reporting.organisations.recipients import (
    OrganisationError,
    add_recipient,
    create_organisation,
    find_organisation,
)

DEMO_ORGANISATION = "Demo organisation"
DEMO_KEY_FILE = "demo-caseworker-key.txt"
ORPHAN_MIN_AGE_SECONDS = 3600

db_cli = AppGroup("db", help="Create or update the database schema.")
org_cli = AppGroup("org", help="Organisations and the public keys reports are encrypted to.")
blobs_cli = AppGroup("blobs", help="The store of encrypted files.")
reports_cli = AppGroup("reports", help="Stored reports (metadata only; contents are encrypted).")


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration that the database lacks."""
    migrate.upgrade(_settings().database_url)
    click.echo("The database schema is up to date.")


@org_cli.command("create")
@click.argument("name")
def org_create(name: str) -> None:
    """Create an organisation called NAME."""
    try:
        with database.database().transaction() as db:
            create_organisation(db, name)
    except OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Created {name!r}. Add its caseworkers' public keys with `flask org add-recipient`."
    )


@org_cli.command("add-recipient")
@click.argument("name")
@click.argument("recipient")
@click.option("--label", default="", help="Whose key this is, for operators (not secret).")
def org_add_recipient(name: str, recipient: str, label: str) -> None:
    """Encrypt NAME's new reports to RECIPIENT too (an age1pq1… or age1… public key)."""
    try:
        with database.database().transaction() as db:
            organisation = find_organisation(db, name)
            if organisation is None:
                raise OrganisationError(
                    f"no organisation named {name!r}; `flask org list` shows them"
                )
            add_recipient(db, organisation, recipient, label)
    except OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New reports for {name!r} are now also encrypted to that key.")


@org_cli.command("list")
def org_list() -> None:
    """List organisations and their recipients."""
    with database.database().transaction() as db:
        for organisation in db.scalars(select(Organisation).order_by(Organisation.name)):
            count = len(organisation.recipients)
            click.echo(f"{organisation.name} ({count} recipient{'' if count == 1 else 's'})")
            for row in organisation.recipients:
                click.echo(f"  {row.recipient[:40]}… {row.label}")


def bootstrap_demo(app: Flask) -> Path | None:
    """Create a demo organisation and key if there is no organisation yet; returns the key path."""
    key_path = Path(app.instance_path) / DEMO_KEY_FILE
    with app.app_context(), database.database().transaction() as db:
        if db.scalar(select(Organisation)) is not None:
            return key_path if key_path.exists() else None
        identity = generate_identity()
        text = (
            "# DEMO ONLY. This caseworker key was made by `make run` for trying the service.\n"
            "# It is stored on the server, so it protects nothing: never use it for real reports.\n"
            + identity_file_text(identity)
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        organisation = create_organisation(db, DEMO_ORGANISATION)
        add_recipient(db, organisation, str(identity.recipient), "demo caseworker (demo only)")
    return key_path


def _shown_path(path: Path) -> str:
    """A path as a command line should hold it: relative to here when it lies below here."""
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return shlex.quote(shown)


def commands_of_this_environment() -> tuple[str, str]:
    """How to run `flask --app reporting` and `python` with the interpreter running now.

    `make run` starts the service with the virtual environment's Python without activating
    the environment, so a bare `flask` or `python` in the operator's shell is some other
    installation (the system's), which cannot import this project. The commands point at
    the running interpreter's own environment instead.
    """
    python = Path(sys.executable)
    flask_script = python.parent / "flask"
    if flask_script.is_file() and os.access(flask_script, os.X_OK):
        flask = _shown_path(flask_script)
    else:
        flask = f"{_shown_path(python)} -m flask"
    instance = os.environ.get(INSTANCE_PATH_VAR)
    prefix = f"{INSTANCE_PATH_VAR}={shlex.quote(instance)} " if instance else ""
    return f"{prefix}{flask} --app reporting", f"{prefix}{_shown_path(python)}"


def has_admin(app: Flask, organisation_name: str) -> bool:
    """Whether the organisation has an active admin already (so needs no first one)."""
    with app.app_context(), database.database().transaction() as db:
        organisation = find_organisation(db, organisation_name)
        if organisation is None:
            return False
        found = db.scalar(
            select(Caseworker.id)
            .where(
                Caseworker.organisation_id == organisation.id,
                Caseworker.role == Role.ADMIN,
                Caseworker.active.is_(True),
            )
            .limit(1)
        )
    return found is not None


def demo_instructions(app: Flask, key_path: Path) -> str:
    """How to read a report stored on the demo set-up, with commands that work as printed."""
    flask, python = commands_of_this_environment()
    blobs = _shown_path(app.config["SETTINGS"].blob_path)
    key = _shown_path(key_path)
    lines = [
        f"Demo set-up: reports are encrypted to the demo caseworker key in {key}.",
        "To read a stored report, list its files:",
        f"  {flask} reports list",
        "then decrypt one:",
        f"  {python} -m crypto decrypt -i {key} {blobs}/<xx>/<id>.age",
        "(Attachments are padded with zero bytes; the report's JSON gives each file's size.)",
    ]
    if has_admin(app, DEMO_ORGANISATION):
        lines.append("Caseworkers and admins sign in at /casework/login.")
    else:
        lines += [
            "For the caseworker side (/casework/), make a first admin with an authenticator app:",
            f"  {flask} caseworker create-admin {shlex.quote(DEMO_ORGANISATION)} admin",
        ]
    return "\n".join(lines)


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Set up a demo organisation with a demo caseworker key (for trying the service)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key_path = bootstrap_demo(app)
    if key_path is None:
        click.echo("Organisations exist already; no demo key was made.")
        return
    click.echo(demo_instructions(app, key_path))


@reports_cli.command("list")
def reports_list() -> None:
    """List reports with the paths of their encrypted files."""
    store = current_app.extensions["blobs"]
    with database.database().transaction() as db:
        for report in db.scalars(select(Report).order_by(Report.received_on)):
            click.echo(f"report {report.id}  received {report.received_on}  {report.status}")
            for message in report.messages:
                click.echo(f"  {message.kind:<8} {store.path(message.document_blob_id)}")
                for attachment in message.attachments:
                    click.echo(f"    file   {store.path(attachment.blob_id)}")


def referenced_blob_ids(db) -> set[str]:  # type: ignore[no-untyped-def]
    """Every blob id some row points at."""
    ids = set(db.scalars(select(Message.document_blob_id)))
    ids.update(db.scalars(select(Attachment.blob_id)))
    ids.update(i for i in db.scalars(select(Report.status_note_blob_id)) if i)
    ids.update(db.scalars(select(Blob.id)))
    ids.update(db.scalars(select(KeptUpload.id)))  # kept_files.py: swept at their hour
    return ids


@blobs_cli.command("sweep")
def blobs_sweep() -> None:
    """Delete encrypted files that no row refers to, and abandoned temporary files."""
    store = current_app.extensions["blobs"]
    with database.database().transaction() as db:
        known = referenced_blob_ids(db)
    # A blob is renamed into place just before its row commits: leave young ones alone.
    orphan_cutoff = time.time() - ORPHAN_MIN_AGE_SECONDS
    orphans = [
        blob_id
        for blob_id in store.ids()
        if blob_id not in known and store.path(blob_id).stat().st_mtime < orphan_cutoff
    ]
    for blob_id in orphans:
        store.remove(blob_id)
    # The beat and each start-up do this too (reporting/infra/blobs.py); here for a manual run.
    stale = store.sweep_partial_files()
    # The beat does this too: files kept for a form that was never sent, past their hour.
    unclaimed = kept_files.sweep_expired(database.database(), store)
    click.echo(
        f"Removed {len(orphans)} orphaned files, {stale} stale temporary files and "
        f"{unclaimed} unclaimed kept files."
    )


def init_app(app: Flask) -> None:
    for command in (db_cli, org_cli, blobs_cli, reports_cli, demo):
        app.cli.add_command(command)

"""`flask` commands for delivery channels and the outbox: where ciphertext goes, what is stuck."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from reporting.delivery.outbox import retry_dead
from reporting.infra import db as database
from reporting.infra.operator_commands import org_cli
from reporting.infra.queue import send_deliveries
from reporting.models import Delivery, DeliveryState, Organisation
from reporting.organisations import partners
from reporting.organisations.administration import (
    MAX_DELETION_DELAY_DAYS,
    MAX_RETENTION_DAYS,
    AdminError,
    update_settings,
)
from reporting.organisations.recipients import find_organisation

deliveries_cli = AppGroup("deliveries", help="The outbox: deliveries to NGOs' channels.")


def _organisation(db, name: str) -> Organisation:  # type: ignore[no-untyped-def]
    organisation = find_organisation(db, name)
    if organisation is None:
        raise click.ClickException(f"no organisation named {name!r}; `flask org list` shows them")
    return organisation


def _read_secret(secret_file: Path | None) -> str:
    """The receiver's secret: from a file, else typed or pasted (hidden), never an argument
    (the process list would show it)."""
    if secret_file is None:
        if sys.stdin.isatty():
            return str(click.prompt("The receiver's signing secret (whsec_…)", hide_input=True))
        return sys.stdin.readline()
    try:
        return secret_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise click.ClickException(
            f"{secret_file} does not hold a whsec_ secret (not a text file); the receiver's "
            "`reporting-ngo-receiver --new-secret FILE` makes one"
        ) from None


@org_cli.command("add-webhook")
@click.argument("name")
@click.argument("url")
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The file the NGO's `reporting-ngo-receiver --new-secret FILE` wrote "
    "(otherwise the secret is asked for, hidden).",
)
def add_webhook(name: str, url: str, secret_file: Path | None) -> None:
    """Deliver NAME's ciphertext to URL (Standard Webhooks, signed with the receiver's secret).

    The same checks as the admin page: a URL the worker may deliver to, and the whsec_
    secret that the NGO's receiver made.
    """
    secret = _read_secret(secret_file)
    try:
        with database.database().transaction() as db:
            organisation = _organisation(db, name)
            partners.add_webhook(db, organisation.id, None, url, secret)
    except AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New reports for {name!r} will be delivered to {url.strip()}, signed with the")
    click.echo("receiver's secret. Start the receiver with that secret file, if it is not running.")


@org_cli.command("add-email")
@click.argument("name")
@click.argument("address")
def add_email(name: str, address: str) -> None:
    """Deliver NAME's ciphertext as armored age attachments to ADDRESS."""
    try:
        with database.database().transaction() as db:
            partners.add_email(db, _organisation(db, name).id, None, address)
    except AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New reports for {name!r} will be e-mailed (encrypted) to {address.strip()}.")


@org_cli.command("notify")
@click.argument("name")
@click.argument("address", required=False, default="")
def set_notify(name: str, address: str) -> None:
    """Send content-free "new reports" notices to ADDRESS (none when left out)."""
    _update(name, notify_email=address)
    click.echo(f"Notices for {name!r}: {address.strip() or 'off'}.")


@org_cli.command("retention")
@click.argument("name")
@click.argument("days", type=click.IntRange(min=1, max=MAX_RETENTION_DAYS))
def set_retention(name: str, days: int) -> None:
    """Delete NAME's closed reports DAYS days after closing."""
    _update(name, retention_days=days)
    click.echo(f"Closed reports of {name!r} are deleted {days} days after closing.")


@org_cli.command("deletion-delay")
@click.argument("name")
@click.argument("days", type=click.IntRange(min=0, max=MAX_DELETION_DELAY_DAYS))
def set_deletion_delay(name: str, days: int) -> None:
    """Purge a report DAYS days after its reporter asks for deletion (a request may be made
    under coercion: the delay lets caseworkers reach out first)."""
    _update(name, deletion_delay_days=days)
    click.echo(
        f"Reports of {name!r} whose reporter asks for deletion are purged after {days} days."
    )


@org_cli.command("max-age")
@click.argument("name")
@click.argument("days", type=click.IntRange(min=1, max=MAX_RETENTION_DAYS))
def set_max_age(name: str, days: int) -> None:
    """Purge any report of NAME DAYS days after it arrived, whatever its status."""
    _update(name, max_report_age_days=days)
    click.echo(f"Reports of {name!r} are purged at the latest {days} days after they arrived.")


def _update(
    name: str,
    *,
    retention_days: int | None = None,
    notify_email: str | None = None,
    **days: int,
) -> None:
    """Change one of NAME's settings through the admin page's function, the others as they are."""
    try:
        with database.database().transaction() as db:
            organisation = _organisation(db, name)
            update_settings(
                db,
                organisation,
                None,
                organisation.retention_days if retention_days is None else retention_days,
                organisation.notify_email if notify_email is None else notify_email,
                **days,
            )
    except AdminError as error:
        raise click.ClickException(str(error)) from None


@deliveries_cli.command("list")
@click.option("--state", type=click.Choice([s.value for s in DeliveryState]), default=None)
def list_deliveries(state: str | None) -> None:
    """Count deliveries by state, and list the dead ones (or those in STATE)."""
    with database.database().transaction() as db:
        counts = db.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        click.echo(", ".join(f"{s}: {n}" for s, n in counts) or "no deliveries")
        # Dead deliveries are listed unless another state was asked for: they need an operator.
        shown = state or DeliveryState.DEAD
        for row in db.scalars(select(Delivery).where(Delivery.state == shown)):
            click.echo(f"{row.id}  {row.channel.kind}  attempts {row.attempts}  {row.last_error}")


@deliveries_cli.command("retry")
@click.argument("ids", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Retry every dead delivery.")
def retry(ids: tuple[str, ...], all_dead: bool) -> None:
    """Start dead deliveries over (after fixing what killed them)."""
    if not ids and not all_dead:
        raise click.ClickException("name delivery ids, or use --all-dead")
    queued = retry_dead(database.database(), None if all_dead else list(ids))
    send_deliveries(queued)
    click.echo(f"{len(queued)} deliveries will be tried again.")


def init_app(app: Flask) -> None:
    app.cli.add_command(deliveries_cli)

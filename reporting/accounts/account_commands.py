"""`flask caseworker …` and `flask audit …`: the first admin, accounts at a glance, and
checking the audit log's hash chain.

Each command says what it did, and on failure what went wrong and what to do.
"""

from __future__ import annotations

import io
import sys
import time

import click
import segno
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import totp
from reporting.accounts import audit, caseworkers
from reporting.accounts.caseworkers import AccountError
from reporting.infra import db as database
from reporting.models import AuditEntry, Caseworker, Organisation, Role
from reporting.organisations.recipients import find_organisation

CODE_TRIES = 3

caseworker_cli = AppGroup("caseworker", help="Caseworker accounts (admins invite the others).")
audit_cli = AppGroup("audit", help="The hash-chained log of caseworker actions.")


def _organisation(db: Session, name: str) -> Organisation:
    organisation = find_organisation(db, name)
    if organisation is None:
        raise click.ClickException(
            f"no organisation named {name!r}; create it with `flask org create` "
            "(`flask org list` shows the existing ones)"
        )
    return organisation


def _read_password(from_stdin: bool, username: str) -> str:
    """The new admin's password: hidden prompts (twice), or one line of standard input."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Password again")
    try:
        caseworkers.check_password_strength(password, username)
    except AccountError as error:
        raise click.ClickException(f"{error} Nothing was created.") from None
    return password


def _show_secret(secret: bytes, username: str) -> None:
    uri = totp.provisioning_uri(secret, username, caseworkers.TOTP_ISSUER)
    picture = io.StringIO()
    segno.make(uri, error="m").terminal(out=picture, compact=True)
    click.echo("Add this account to an authenticator app on your phone: scan the QR code,")
    click.echo("or type in the secret.")
    click.echo(picture.getvalue())
    click.echo(f"Secret: {totp.secret_text(secret)}")
    click.echo(f"Link:   {uri}")


def _ask_code(secret: bytes) -> tuple[str, float]:
    """A code that matches the new secret, and when it was checked."""
    for _ in range(CODE_TRIES):
        code = click.prompt("Code from your app", default="", show_default=False)
        checked_at = time.time()
        if totp.matching_step(secret, code, checked_at) is not None:
            return code, checked_at
        click.echo(
            "That code is not right. Type the 6 digits the app shows now "
            "(and check that the phone's clock is set automatically).",
            err=True,
        )
    raise click.ClickException(
        "no code matched, so nothing was created. Run the command again; the app must show "
        "codes for the new secret it prints."
    )


@caseworker_cli.command("create-admin")
@click.argument("organisation_name", metavar="ORGANISATION")
@click.argument("username")
@click.option("--display-name", default="", help="The name other caseworkers see.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def create_admin(
    organisation_name: str, username: str, display_name: str, password_stdin: bool
) -> None:
    """Create an admin of ORGANISATION called USERNAME: a password, an authenticator app,
    and recovery codes. The admin then invites the others on the web."""
    try:
        name = caseworkers.check_username(username)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    with database.database().transaction() as db:
        organisation = _organisation(db, organisation_name)
        if caseworkers.find_account(db, organisation.id, name) is not None:
            raise click.ClickException(
                f"the username {name!r} is taken; choose another "
                "(`flask caseworker list ORGANISATION` shows the accounts)"
            )
    password = _read_password(password_stdin, name)
    secret = totp.new_secret()
    _show_secret(secret, name)
    code, checked_at = _ask_code(secret)
    try:
        with database.database().transaction() as db:
            organisation = _organisation(db, organisation_name)
            caseworker = caseworkers.create_caseworker(
                db, organisation, name, Role.ADMIN, display_name
            )
            caseworkers.set_password(db, caseworker, password)
            caseworkers.start_totp_enrolment(caseworker, secret)
            codes = caseworkers.finish_enrolment(
                db, caseworker, code, detail="admin created by command", now=checked_at
            )
    except AccountError as error:
        raise click.ClickException(f"{error} Nothing was created.") from None
    click.echo(f"\nCreated the admin {name!r} of {organisation.name!r}.")
    click.echo("Recovery codes (each logs in once without the app; shown only now, so")
    click.echo("write them down and keep them away from this computer):")
    for recovery_code in codes:
        click.echo(f"  {recovery_code}")
    click.echo(f"Log in at /casework/login as {name!r} of {organisation.name!r} (the organisation")
    click.echo("may be left empty while the service hosts only one), register your public key")
    click.echo("on your account page,")
    click.echo("and invite your colleagues from the admin pages.")


def _state(caseworker: Caseworker) -> str:
    if not caseworker.active:
        return "disabled"
    if caseworker.invite_token_hash:
        return "invited"
    if not caseworker.totp_confirmed:
        return "enrolling"
    return "active"


@caseworker_cli.command("list")
@click.argument("organisation_name", metavar="ORGANISATION")
def list_caseworkers(organisation_name: str) -> None:
    """List the accounts of ORGANISATION: username, role, state, whether a key is registered."""
    with database.database().transaction() as db:
        organisation = _organisation(db, organisation_name)
        keyed = {r.caseworker_id for r in organisation.recipients if r.caseworker_id}
        rows = db.scalars(
            select(Caseworker)
            .where(Caseworker.organisation_id == organisation.id)
            .order_by(Caseworker.username)
        ).all()
        if not rows:
            click.echo(
                f"{organisation.name!r} has no accounts; see `flask caseworker create-admin`."
            )
        for caseworker in rows:
            key = "key registered" if caseworker.id in keyed else "no key"
            click.echo(
                f"{caseworker.username:<24} {caseworker.role.value:<10} "
                f"{_state(caseworker):<9} {key}"
            )


@audit_cli.command("verify")
@click.option(
    "--head",
    "noted_head",
    default=None,
    help="A head MAC noted earlier: check that it is still in the chain "
    "(removing the newest entries leaves a shorter chain that is otherwise valid).",
)
def audit_verify(noted_head: str | None) -> None:
    """Check every entry of the audit log against the hash chain; exit 1 on any break."""
    with database.database().transaction() as db:
        result = audit.verify(db, audit.chain())
        if noted_head is not None:
            found = db.scalar(select(AuditEntry.seq).where(AuditEntry.hash == noted_head.strip()))
            if found is None:
                result.problems.append(
                    "the noted head is not in the chain: entries were removed from its end, "
                    "or the head was mistyped"
                )
    click.echo(f"{result.count} entries; head MAC: {result.head}")
    if result.ok:
        click.echo("The chain is intact. Note the head MAC somewhere else to check later.")
        return
    click.echo(f"The audit log was tampered with ({len(result.problems)} problems):", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    raise click.exceptions.Exit(1)


@audit_cli.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
def audit_list(limit: int) -> None:
    """Show the newest entries: number, hour, action, who, on what."""
    with database.database().transaction() as db:
        entries = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit))
        for entry in reversed(entries.all()):
            actor = db.get(Caseworker, entry.actor_id) if entry.actor_id else None
            who = actor.username if actor else "-"
            click.echo(
                f"{entry.seq:>7} {entry.at:%Y-%m-%d %H:00} {entry.action:<20} {who:<24} "
                f"{entry.target or '-'} {entry.detail}".rstrip()
            )


def init_app(app: Flask) -> None:
    for command in (caseworker_cli, audit_cli):
        app.cli.add_command(command)

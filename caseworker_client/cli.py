"""`reporting-caseworker`: the click commands. They ask, call one function, and print.

Expected failures (a refused login, an unreachable server, a wrong passphrase,
a refused escalation) are one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from caseworker_client import render, report_actions
from caseworker_client.api import ApiError
from caseworker_client.config import Home
from caseworker_client.context import EXPECTED_ERRORS, Context
from caseworker_client.escalate import redactable
from caseworker_client.identity import create_identity
from caseworker_client.listing import table_rows
from caseworker_client.pin_commands import keys
from caseworker_client.signin import log_in, register_own_key

PASSPHRASE_VAR = "REPORTING_CASEWORKER_PASSPHRASE"  # noqa: S105 - a variable name
DESK_LIBRARIES = ("flask", "flask_wtf", "wtforms", "werkzeug")
INSTALL_DESK = (
    "the desk needs Flask and Flask-WTF, which the plain client does not install. In the "
    "client's environment run `pip install -r caseworker_client/requirements-desk.txt` "
    "(from the project's folder), then start the desk again"
)


# OSError: a folder that cannot be written, a full disk; said in one line like the others.
HANDLED: tuple[type[Exception], ...] = (*EXPECTED_ERRORS, OSError)


class Commands(click.Group):
    """Turns the errors a caseworker can act on into one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HANDLED as error:
            raise click.ClickException(str(error)) from None


def ask(prompt: str, secret: bool = False, confirm: bool = False) -> str:
    """Ask on the terminal (hidden for secrets); without one, read a line from standard input."""
    if sys.stdin.isatty():
        answer: str = click.prompt(prompt, hide_input=secret, confirmation_prompt=confirm)
        return answer
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException(f"{prompt}: no terminal to ask on and nothing on standard input")
    return line.rstrip("\r\n")


def identity_passphrase() -> str:
    return os.environ.get(PASSPHRASE_VAR) or ask("Passphrase of your identity file", secret=True)


def message_text(message: str | None, what: str) -> str:
    """The text from --message, standard input, or the caseworker's editor; never empty."""
    if message is None:
        if not sys.stdin.isatty():
            message = sys.stdin.read()
        else:
            message = click.edit(
                f"\n# Write the {what} above. Lines starting with # are dropped.\n"
            )
            message = "\n".join(
                line for line in (message or "").splitlines() if not line.startswith("#")
            )
    if not (message or "").strip():
        raise click.ClickException(f"the {what} is empty; nothing was sent")
    return (message or "").strip()


@click.group(cls=Commands)
@click.option(
    "--identity",
    "identity",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Identity file to use (default: identity.txt in the home folder).",
)
@click.pass_context
def main(ctx: click.Context, identity: Path | None) -> None:
    """Read, answer and escalate reports; everything is decrypted on this machine."""
    home = Home.from_environment(str(identity) if identity else None)
    home.ensure()
    ctx.obj = Context(home, identity_passphrase, lambda text: click.echo(text, err=True))


@main.command()
@click.option("--classic", is_flag=True, help="An X25519 key (age1…) instead of post-quantum.")
@click.option("--passphrase", is_flag=True, help="Protect the identity file with a passphrase.")
@click.pass_obj
def keygen(ctx: Context, classic: bool, passphrase: bool) -> None:
    """Make your key pair; only the public key ever leaves this machine."""
    secret = None
    if passphrase:
        secret = os.environ.get(PASSPHRASE_VAR) or ask(
            "Passphrase for the identity file", secret=True, confirm=True
        )
    recipient = create_identity(ctx.home.identity, classic=classic, passphrase=secret)
    click.echo(f"Your identity (secret key) is in {ctx.home.identity} (mode 0600).")
    click.echo("Keep it on this machine and back it up offline; never send it to anyone.")
    click.echo(f"Your public key: {recipient}")
    click.echo(
        "Register it: `reporting-caseworker register-key` once logged in, "
        "or paste it on your account page in the web interface."
    )


@main.command()
@click.argument("server_url")
@click.option(
    "--organisation",
    default="",
    help="Your organisation's name; needed only when the service hosts several.",
)
@click.option("--username", help="Your username (asked if not given).")
@click.pass_obj
def login(ctx: Context, server_url: str, organisation: str, username: str | None) -> None:
    """Log in to SERVER_URL with your password and authenticator code."""
    username = username or ask("Username")
    password = ask("Password", secret=True)
    code = ask("Code from your authenticator app (or a recovery code)")
    done = log_in(ctx, server_url, organisation, username, password, code)
    idle_text = f"{done.idle_minutes} minutes" if done.idle_minutes is not None else "a while"
    click.echo(f"Logged in to {done.server} as {username}.")
    click.echo(
        f"The session ends after {idle_text} without use, and at {done.ends_at} at the "
        "latest; `reporting-caseworker logout` ends it now."
    )
    if not done.has_key:
        click.echo(
            "No public key is registered for you yet: run `reporting-caseworker register-key`."
        )


@main.command()
@click.pass_obj
def logout(ctx: Context) -> None:
    """End the session on the server and forget the token here."""
    if ctx.logged_in():
        try:
            ctx.api.post("/logout")
        finally:
            ctx.home.forget_session()
    click.echo("Logged out.")


@main.command("register-key")
@click.pass_obj
def register_key(ctx: Context) -> None:
    """Send the public key of your identity to the server (new reports are encrypted to it)."""
    recipient = register_own_key(ctx)
    click.echo(f"Registered {recipient[:24]}… for {ctx.session.username}.")


@main.command()
@click.pass_obj
def pull(ctx: Context) -> None:
    """Download new reports and messages (ciphertext only); safe to interrupt and re-run."""
    result = ctx.pull(click.progressbar)
    click.echo(
        f"{result.reports} report(s) on the server; {result.fetched} new or changed; "
        f"{result.downloaded} file(s) downloaded to {ctx.store.root}."
    )


@main.command("list")
@click.option("--offline", is_flag=True, help="Only what is cached here; do not ask the server.")
@click.pass_obj
def list_reports(ctx: Context, offline: bool) -> None:
    """Reports as the server last described them, and which are pulled here."""
    if not offline and ctx.logged_in():
        try:
            ctx.refresh_index()
            ctx.organisation()
        except ApiError as error:
            click.echo(f"Warning: showing the list pulled earlier: {error}", err=True)
    rows = table_rows(ctx)
    click.echo("\n".join(rows) if rows else "No reports yet: run `reporting-caseworker pull`.")


@main.command()
@click.argument("report")
@click.option("--save", "save", type=click.Path(file_okay=False, path_type=Path),
              help="Decrypt the attachments into this folder.")  # fmt: skip
@click.option("--strip-metadata", is_flag=True, help="Save images re-encoded without metadata.")
@click.pass_obj
def show(ctx: Context, report: str, save: Path | None, strip_metadata: bool) -> None:
    """Decrypt REPORT (an id or its start) and print it; optionally save its files."""
    if strip_metadata and save is None:
        raise click.UsageError("--strip-metadata applies to the files saved with --save DIR")
    report_id = ctx.report_id(report)
    warning = ctx.refresh(report_id)
    if warning:
        click.echo(f"Warning: {warning}", err=True)
    opened = report_actions.open_report(ctx, report_id)
    click.echo(report_actions.report_text(ctx, opened))
    if save is not None:
        for line in report_actions.save_attachments(ctx, opened, save, strip_metadata):
            click.echo(render.clean(line))


@main.command()
@click.argument("report")
@click.option("--message", "-m", help="The reply (otherwise standard input or your editor).")
@click.pass_obj
def reply(ctx: Context, report: str, message: str | None) -> None:
    """Encrypt a reply to the reporter (and your organisation) and send it."""
    report_id = ctx.report_id(report)
    report_actions.reply(ctx, report_id, message_text(message, "reply"))
    click.echo("Reply sent: the reporter reads it when they come back with their codename.")


@main.command()
@click.argument("report")
@click.option("--message", "-m", help="The note (otherwise standard input or your editor).")
@click.pass_obj
def note(ctx: Context, report: str, message: str | None) -> None:
    """Add an internal note, encrypted to your organisation only (never shown to the reporter)."""
    report_id = ctx.report_id(report)
    report_actions.note(ctx, report_id, message_text(message, "note"))
    click.echo("Note added.")


@main.command()
@click.argument("report")
@click.argument("status", type=click.Choice(report_actions.STATUSES))
@click.option("--message", "-m", help="A note for the reporter shown beside the status.")
@click.pass_obj
def status(ctx: Context, report: str, status: str, message: str | None) -> None:
    """Set the status of REPORT."""
    report_actions.set_status(ctx, ctx.report_id(report), status, message)
    click.echo(f"Status set to {status}" + (" with a note for the reporter." if message else "."))


@main.command()
@click.argument("report")
@click.argument("username", required=False)
@click.option("--none", "unassign", is_flag=True, help="Leave the report unassigned.")
@click.pass_obj
def assign(ctx: Context, report: str, username: str | None, unassign: bool) -> None:
    """Assign REPORT to USERNAME (or to nobody with --none)."""
    if unassign == (username is not None):
        raise click.UsageError("give either a USERNAME or --none")
    report_actions.assign(ctx, ctx.report_id(report), None if unassign else username)
    click.echo(f"Assigned to {username}." if username else "Unassigned.")


@main.command()
@click.argument("report")
@click.argument("tags", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Remove these tags instead of adding them.")
@click.pass_obj
def tag(ctx: Context, report: str, tags: tuple[str, ...], remove: bool) -> None:
    """Add TAGS to REPORT (or remove them)."""
    now = report_actions.tag(ctx, ctx.report_id(report), tags, remove)
    click.echo(f"Tags: {', '.join(now) or '(none)'}")


@main.command()
@click.argument("report")
@click.argument("level", type=click.Choice([*report_actions.SEVERITIES, "none"]))
@click.pass_obj
def severity(ctx: Context, report: str, level: str) -> None:
    """Set the severity of REPORT (low, medium, high, critical, or none)."""
    report_actions.set_severity(ctx, ctx.report_id(report), level)
    click.echo(f"Severity set to {level}.")


@main.command()
@click.argument("report")
@click.option("--to", "partner", required=True, help="The partner's name (or id).")
@click.option("--redact", multiple=True, type=click.Choice(redactable()),
              help="Leave out this field too (repeatable), e.g. who.people.")  # fmt: skip
@click.option("--message", "-m", default="", help="A cover note for the partner.")
@click.option("--keep-originals", is_flag=True,
              help="Send images as the reporter sent them, metadata (GPS…) included.")  # fmt: skip
@click.pass_obj
def escalate(
    ctx: Context,
    report: str,
    partner: str,
    redact: tuple[str, ...],
    message: str,
    keep_originals: bool,
) -> None:
    """Send REPORT to a partner, as far as the reporter consented, encrypted to the partner.

    Images (JPEG, PNG, WebP) go without their metadata unless --keep-originals is given.
    """
    answer, redacted, sent = report_actions.escalate(
        ctx, ctx.report_id(report), partner, redact, message, keep_originals
    )
    click.echo(f"Escalated to {partner}: {answer.get('deliveries', 0)} delivery(ies) queued.")
    if redacted:
        click.echo(f"Left out: {', '.join(redacted)}.")
    if sent:
        click.echo("Files:")
        for line in sent:
            click.echo(f"  {render.clean(line)}")


main.add_command(keys)


@main.command()
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reporting-stats.png"), show_default=True,
              help="Where to save the bar chart.")  # fmt: skip
@click.pass_obj
def stats(ctx: Context, png: Path) -> None:
    """Counts by category, host country and month over the reports decrypted here."""
    from caseworker_client.stats import chart, table

    counts, failed = report_actions.decrypted_counts(ctx)
    click.echo(table(counts), nl=False)
    if failed:
        click.echo(f"{len(failed)} pulled report(s) could not be opened with your key.", err=True)
    chart(counts, png)
    click.echo(f"Chart saved to {png}.")


@main.command()
@click.argument("report")
@click.pass_obj
def history(ctx: Context, report: str) -> None:
    """Who did what to REPORT, to the hour, from the server's audit log."""
    from caseworker_client.history import history as report_history
    from caseworker_client.history import history_lines

    events = report_history(ctx, ctx.report_id(report))
    for line in history_lines(events) or ["Nothing recorded yet."]:
        click.echo(line)


@main.command()
@click.option("--no-browser", is_flag=True, help="Print the link only; do not open a browser.")
@click.pass_obj
def desk(ctx: Context, no_browser: bool) -> None:
    """Read and work the cases in your browser; decrypted on this machine only.

    Serves on 127.0.0.1 until you press Ctrl+C or close this terminal.
    """
    try:
        from caseworker_client.desk.serve import serve
    except ImportError as error:
        if (error.name or "").split(".")[0] not in DESK_LIBRARIES:
            raise
        raise click.ClickException(INSTALL_DESK) from None
    serve(ctx, click.echo, open_browser=not no_browser)


def _add_analysis_commands() -> None:
    from caseworker_client.analysis_commands import export, links

    main.add_command(links)
    main.add_command(export)


_add_analysis_commands()

"""`reporting-caseworker keys`: the keys this client trusts, and accepting changed ones.

A thin layer over caseworker_client/pins.py, which the desk calls too.
"""

from __future__ import annotations

import click

from caseworker_client import pins
from caseworker_client.api import ApiError
from caseworker_client.context import Context


@click.group(invoke_without_command=True)
@click.pass_context
def keys(click_ctx: click.Context) -> None:
    """List the keys this client encrypts to (pinned on first sight) and those that changed."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Context = click_ctx.obj
    try:
        changed = {change.subject: change for change in pins.changes(ctx)}
    except ApiError as error:
        click.echo(f"Warning: showing the pinned keys only: {error}", err=True)
        changed = {}
    shown = pins.pinned(ctx)
    if not shown and not changed:
        click.echo("No keys pinned yet: they are pinned the first time `pull` sees them.")
    for pin in shown:
        click.echo(f"{pin.subject}  {pin.title}, pinned on {pin.pinned_on}")
        if pin.subject not in changed:
            click.echo("\n".join(f"  {fingerprint}" for fingerprint in pins.fingerprints(pin.keys)))
    for change in changed.values():
        if not any(pin.subject == change.subject for pin in shown):
            click.echo(f"{change.subject}  {change.title}, new under a pinned partner's name")
        click.echo(f"  CHANGED on the server: `reporting-caseworker keys accept {change.subject}`")
        click.echo(pins.side_by_side(change))


@keys.command()
@click.argument("subject")
@click.option("--yes", is_flag=True, help="Accept without asking (for scripts).")
@click.pass_obj
def accept(ctx: Context, subject: str, yes: bool) -> None:
    """Trust the server's new keys for SUBJECT (`organisation`, `partner:ID` or its name)."""
    change = pins.change_of(ctx, subject)
    click.echo(f"Keys of {change.title} ({change.subject}):")
    click.echo(pins.side_by_side(change))
    if not yes:
        click.echo(
            "Accept only if the new fingerprints are the ones their owner read to you "
            "over another channel."
        )
        if not click.confirm("Trust the keys now on the server?", default=False):
            raise click.ClickException("nothing was changed")
    pin = pins.accept(ctx, change.subject, change.new_fingerprints)
    click.echo(f"Now trusting {len(pin.keys)} key(s) of {pin.title} ({pin.subject}).")

"""`flask registry …`: load, show or clear an organisation's registry of places."""

from __future__ import annotations

from typing import BinaryIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from reporting.infra import db as database
from reporting.models import Organisation
from reporting.organisations.place_registry import (
    RegistryError,
    places_of,
    read_registry,
    replace_registry,
)
from reporting.organisations.recipients import find_organisation, receiving_organisation

registry_cli = AppGroup(
    "registry", help="The places (stations, associations, consulates) the report form offers."
)
_ORG = click.option(
    "--org",
    "org_name",
    default="",
    help="The organisation (needed only when the service hosts several).",
)


def _organisation(db: Session, name: str) -> Organisation:
    if name:
        found = find_organisation(db, name)
        if found is None:
            raise click.ClickException(
                f"no organisation named {name!r}; `flask org list` shows them"
            )
        return found
    found = receiving_organisation(db, current_app.config["SETTINGS"].organisation)
    if found is None:
        raise click.ClickException(
            "which organisation? This service hosts several (or none yet): name one with --org"
        )
    return found


@registry_cli.command("load")
@click.argument("file", type=click.File("rb"))
@_ORG
def registry_load(file: BinaryIO, org_name: str) -> None:
    """Replace the organisation's registry with the places in FILE (UTF-8 CSV).

    The header names the columns: id, name, city, country, kind, source (id and name
    required; see docs/place-registry.md). Every row is checked first: one bad row and
    nothing changes.
    """
    try:
        rows = read_registry(file, progress=lambda n: click.echo(f"read {n} rows…", err=True))
    except RegistryError as error:
        for problem in error.problems[:50]:
            click.echo(problem, err=True)
        more = len(error.problems) - 50
        if more > 0:
            click.echo(f"… and {more} more problems", err=True)
        raise click.ClickException("nothing was loaded: fix the file and try again") from None
    with database.database().transaction() as db:
        organisation = _organisation(db, org_name)
        count = replace_registry(db, organisation, rows)
        name = organisation.name
    click.echo(f"Loaded {count} places for {name!r}; they replace its previous registry.")


@registry_cli.command("show")
@_ORG
def registry_show(org_name: str) -> None:
    """List the organisation's registry as the report form offers it."""
    with database.database().sessions() as db:
        organisation = _organisation(db, org_name)
        places = places_of(db, organisation.id)
        for place in places:
            click.echo(f"{place.registry_id}\t{place.label}\t{place.kind}")
        click.echo(f"{len(places)} places for {organisation.name!r}.", err=True)


@registry_cli.command("clear")
@_ORG
@click.confirmation_option(prompt="Remove every place of the registry?")
def registry_clear(org_name: str) -> None:
    """Remove the organisation's registry (the form then asks for the place as text only)."""
    with database.database().transaction() as db:
        organisation = _organisation(db, org_name)
        count = len(places_of(db, organisation.id))
        replace_registry(db, organisation, [])
    click.echo(f"Removed {count} places; reports already made keep the ones they named.")


def init_app(app: Flask) -> None:
    app.cli.add_command(registry_cli)

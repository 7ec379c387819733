"""`flask doctor`: what in the running configuration is unsafe for production, and what to do.

Each check is a plain function that returns findings, so tests hand it one bad setting at a
time. The command judges every configuration as a production one: on a development laptop
(SQLite, no Redis, no onion address) it fails, rightly. Only UNSAFE findings make it exit 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from reporting.infra import db as database
from reporting.infra.config import Settings
from reporting.infra.doctor.findings import PLACEHOLDER, Finding, Severity, unsafe
from reporting.infra.doctor.runtime import (
    check_debug,
    check_files,
    check_gunicorn,
    check_organisations,
    check_uploads,
    load_gunicorn_config,
)
from reporting.infra.doctor.settings import (
    check_allowed_hosts,
    check_database,
    check_onion,
    check_portal,
    check_redis,
    check_secret_key,
    estimated_bits,
)

__all__ = [
    "PLACEHOLDER",
    "Finding",
    "Severity",
    "check_allowed_hosts",
    "check_database",
    "check_debug",
    "check_files",
    "check_gunicorn",
    "check_onion",
    "check_organisations",
    "check_portal",
    "check_redis",
    "check_secret_key",
    "check_uploads",
    "diagnose",
    "estimated_bits",
    "load_gunicorn_config",
]

# Where deploy/gunicorn.conf.py is when the service runs from a checkout (deploy/README.md).
GUNICORN_CONFIGS = (
    Path(__file__).resolve().parents[3] / "deploy" / "gunicorn.conf.py",
    Path("/opt/reporting/deploy/gunicorn.conf.py"),
)


def diagnose(app: Flask, gunicorn_config: Path | None) -> list[Finding]:
    """Every check, against the app's settings and database and the gunicorn configuration."""
    settings: Settings = app.config["SETTINGS"]
    environ = dict(os.environ)
    findings = check_debug(app, environ) + check_secret_key(app.config["SECRET_KEY"])
    findings += check_database(settings.database_url) + check_redis(settings.redis_url)
    if gunicorn_config is None or not gunicorn_config.is_file():
        findings.append(
            Finding(
                Severity.WARNING,
                "The gunicorn configuration was not found, so its access log was not checked.",
                "Pass --gunicorn-config /opt/reporting/deploy/gunicorn.conf.py.",
            )
        )
    else:
        findings += check_gunicorn(load_gunicorn_config(gunicorn_config), environ)
    findings += check_onion(settings.onion_address)
    findings += check_allowed_hosts(settings.onion_address, settings.allowed_hosts)
    findings += check_portal(settings.portal)
    try:
        with app.app_context(), database.database().transaction() as db:
            findings += check_organisations(db, settings.organisation)
    except SQLAlchemyError as error:
        findings += unsafe(
            f"The database could not be read ({type(error).__name__}).",
            "Check REPORTING_DATABASE_URL and run `flask db upgrade`.",
        )
    return findings + check_uploads(app) + check_files(settings)


@click.command("doctor")
@click.option(
    "--gunicorn-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The gunicorn configuration file to check (default: deploy/gunicorn.conf.py).",
)
@with_appcontext
def doctor(gunicorn_config: Path | None) -> None:
    """Check the configuration for anything unsafe in production; exit 1 if anything is."""
    config = gunicorn_config or next((p for p in GUNICORN_CONFIGS if p.is_file()), None)
    findings = diagnose(current_app._get_current_object(), config)  # type: ignore[attr-defined]
    for finding in findings:
        click.echo(f"{finding.severity.upper()}: {finding.problem}\n  What to do: {finding.fix}")
    if any(f.severity is Severity.UNSAFE for f in findings):
        raise click.exceptions.Exit(1)
    click.echo("Nothing unsafe found." if not findings else "Nothing unsafe found (see above).")


def init_app(app: Flask) -> None:
    app.cli.add_command(doctor)

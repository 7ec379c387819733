"""`flask doctor`: each unsafe setting is reported with what to do, a safe configuration
passes, and the command's exit status says which it was."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask, Request
from sqlalchemy import select

import crypto
from reporting import create_app
from reporting.accounts.caseworkers import create_caseworker
from reporting.infra import db, doctor, migrate
from reporting.infra.doctor import Finding, Severity
from reporting.infra.portal_file import PORTAL_FILE, Portal, PortalTexts
from reporting.intake.uploads import EncryptingRequest
from reporting.models import Organisation, OrganisationRecipient
from reporting.organisations.recipients import create_organisation
from tests.support.databases import fresh_database
from tests.support.deploy import DEPLOY, env_example
from tests.support.portal import add_caseworker

GUNICORN_CONFIG = DEPLOY / "gunicorn.conf.py"
ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
REDIS = "redis://reporting:" + "5" * 64 + "@127.0.0.1:6379/0"


def unsafe_problems(findings: list[Finding]) -> list[str]:
    """The problems reported as unsafe; each must come with something to do."""
    assert all(f.fix for f in findings)
    return [f.problem for f in findings if f.severity is Severity.UNSAFE]


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    """An app for the checks that read settings only (it never touches its database)."""
    return create_app({"INSTANCE_PATH": tmp_path / "instance"})


# --- Debug mode ------------------------------------------------------------------------------


@pytest.mark.slow
def test_debug_mode_is_unsafe(tmp_path: Path, bare_app: Flask) -> None:
    debug_app = create_app({"INSTANCE_PATH": tmp_path / "debug", "DEBUG": True})
    assert unsafe_problems(doctor.check_debug(debug_app, {})) == [
        "Debug mode is on: an error page would show code and data to a visitor."
    ]
    assert unsafe_problems(doctor.check_debug(bare_app, {"FLASK_DEBUG": "1"}))
    assert doctor.check_debug(bare_app, {"FLASK_DEBUG": "0"}) == []


# --- The secret key --------------------------------------------------------------------------

PLACEHOLDERS = sorted({v for v in env_example()[0].values() if doctor.PLACEHOLDER in v})


@pytest.mark.parametrize(
    "key",
    [
        "dev",
        "0123456789abcdef" * 3,  # 48 hex digits: 192 bits
        "a" * 200,  # long, but one character
        "correct horse battery staple",
        "please-change-me-" + secrets.token_hex(32),
        "an-example-key-" + secrets.token_hex(32),
        *PLACEHOLDERS,
    ],
    ids=lambda key: re.sub("[0-9a-f]{64}", "random", key),  # the same id in every process
)
def test_a_short_or_placeholder_secret_key_is_unsafe(key: str) -> None:
    (problem,) = unsafe_problems(doctor.check_secret_key(key))
    assert "secret key" in problem


@pytest.mark.parametrize(
    "key", [secrets.token_hex(32), secrets.token_urlsafe(32)], ids=["hex", "urlsafe"]
)
def test_a_random_secret_key_passes(key: str) -> None:
    assert doctor.check_secret_key(key) == []


def test_the_generated_secret_key_passes(bare_app: Flask) -> None:
    assert doctor.check_secret_key(bare_app.config["SECRET_KEY"]) == []


# --- The database ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:////var/lib/reporting/reporting.sqlite3", "SQLite"),
        ("postgresql+psycopg://reporting:pw@db.example.org/reporting", "another machine"),
        ("postgresql+psycopg://reporting:pw@10.0.0.5/reporting", "another machine"),
    ],
)
def test_sqlite_or_a_remote_database_is_unsafe(url: str, problem: str) -> None:
    (found,) = unsafe_problems(doctor.check_database(url))
    assert problem in found


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://reporting@/reporting?host=/run/postgresql",
        "postgresql+psycopg:///reporting",
        "postgresql+psycopg://reporting:pw@127.0.0.1:5432/reporting",
        "postgresql+psycopg://reporting:pw@localhost/reporting",
    ],
)
def test_local_postgresql_passes(url: str) -> None:
    assert doctor.check_database(url) == []


# --- Redis -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (None, "No Redis"),
        ("redis://127.0.0.1:6379/0", "without a password"),
        ("redis://reporting@127.0.0.1:6379/0", "without a password"),
        ("redis://reporting:CHANGE-ME@127.0.0.1:6379/0", "placeholder"),
        ("redis://:" + "5" * 64 + "@redis.example.org:6379/0", "not on loopback"),
        ("redis://:" + "5" * 64 + "@0.0.0.0:6379/0", "not on loopback"),
        ("rediss://:" + "5" * 64 + "@192.0.2.7:6380/0", "not on loopback"),
    ],
)
def test_redis_without_password_or_off_loopback_is_unsafe(url: str | None, problem: str) -> None:
    (found,) = unsafe_problems(doctor.check_redis(url))
    assert problem in found


def test_open_remote_redis_gets_both_findings() -> None:
    assert len(unsafe_problems(doctor.check_redis("redis://redis.example.org:6379/0"))) == 2


@pytest.mark.parametrize(
    "url",
    [
        REDIS,
        "redis://:" + "5" * 64 + "@[::1]:6379/0",
        "redis://reporting:" + "5" * 64 + "@localhost:6379/0",
        "unix:///run/redis/redis.sock?password=" + "5" * 64,
    ],
)
def test_redis_with_password_on_loopback_passes(url: str) -> None:
    assert doctor.check_redis(url) == []


# --- gunicorn --------------------------------------------------------------------------------


def test_the_deploy_gunicorn_config_passes() -> None:
    settings = doctor.load_gunicorn_config(GUNICORN_CONFIG)
    assert doctor.check_gunicorn(settings, {}) == []


@pytest.mark.parametrize(
    ("change", "environ", "problem"),
    [
        ({"accesslog": "-"}, {}, "access log"),
        ({"accesslog": "/var/log/reporting/access.log"}, {}, "access log"),
        ({}, {"GUNICORN_CMD_ARGS": "--access-logfile -"}, "access log"),
        ({"syslog": True, "disable_redirect_access_to_syslog": False}, {}, "syslog"),
        ({"bind": "0.0.0.0:8000"}, {}, "beyond loopback"),
        ({"bind": ["127.0.0.1:8000", "[::]:8001"]}, {}, "beyond loopback"),
        ({"bind": ["127.0.0.1:8000", "192.0.2.1:8001"]}, {}, "beyond loopback"),
    ],
)
def test_access_logging_or_a_public_bind_is_unsafe(
    change: dict[str, Any], environ: dict[str, str], problem: str
) -> None:
    settings = {**doctor.load_gunicorn_config(GUNICORN_CONFIG), **change}
    (found,) = unsafe_problems(doctor.check_gunicorn(settings, environ))
    assert problem in found


def test_a_gunicorn_config_file_with_an_access_log_is_caught(tmp_path: Path) -> None:
    """Read from the file, as the command does."""
    config = tmp_path / "gunicorn.conf.py"
    text = GUNICORN_CONFIG.read_text(encoding="utf-8")
    config.write_text(text.replace("accesslog = None", 'accesslog = "-"'), encoding="utf-8")
    (found,) = unsafe_problems(doctor.check_gunicorn(doctor.load_gunicorn_config(config), {}))
    assert "access log" in found


# --- The onion address -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        None,
        "CHANGE-ME.onion",
        "example.onion",
        "reports.example.org",
        ONION.replace("d.onion", "a.onion"),  # 56 characters, but version byte 0
        "duskgytldkxiuqc6.onion",  # a retired v2 address
    ],
)
def test_a_missing_or_malformed_onion_address_is_unsafe(address: str | None) -> None:
    assert len(unsafe_problems(doctor.check_onion(address))) == 1


@pytest.mark.parametrize("address", [ONION, f"http://{ONION}/", ONION.upper()])
def test_a_v3_onion_address_passes(address: str) -> None:
    assert doctor.check_onion(address) == []


# --- Organisations and their keys (on SQLite and PostgreSQL) ---------------------------------


def organisation_problems(app: Flask, configured: str | None = None) -> list[str]:
    with app.app_context(), db.database().transaction() as session:
        return unsafe_problems(doctor.check_organisations(session, configured))


def test_no_organisation_is_unsafe(app: Flask) -> None:
    (problem,) = organisation_problems(app)
    assert "no organisation" in problem


def test_an_organisation_without_keys_is_unsafe(app: Flask) -> None:
    add_caseworker(app, "Keyed")
    with app.app_context(), db.database().transaction() as session:
        create_organisation(session, "Keyless")
    (problem,) = organisation_problems(app, "Keyed")
    assert problem.startswith("'Keyless' has no key in use")


def test_a_disabled_caseworkers_key_is_not_in_use(app: Flask) -> None:
    with app.app_context(), db.database().transaction() as session:
        organisation = create_organisation(session, "Solo")
        caseworker = create_caseworker(session, organisation, "alice")
        caseworker.active = False
        recipient = str(crypto.generate_identity().recipient)
        session.add(
            OrganisationRecipient(
                organisation=organisation, recipient=recipient, caseworker=caseworker
            )
        )
    (problem,) = organisation_problems(app)
    assert problem.startswith("'Solo' has no key in use")


def test_mixed_classic_and_post_quantum_keys_are_unsafe(app: Flask) -> None:
    caseworker = add_caseworker(app, "Mixed")
    classic = str(crypto.generate_identity(post_quantum=False).recipient)
    with app.app_context(), db.database().transaction() as session:
        organisation = session.scalar(select(Organisation))
        # add_recipient refuses this; the doctor finds it however it got there.
        session.add(OrganisationRecipient(organisation=organisation, recipient=classic))
    (problem,) = organisation_problems(app, caseworker.organisation_name)
    assert "mixes classic" in problem


def test_no_receiving_organisation_is_unsafe(app: Flask) -> None:
    add_caseworker(app, "First")
    add_caseworker(app, "Second")
    (problem,) = organisation_problems(app)  # two, and REPORTING_ORGANISATION unset
    assert "no receiving organisation" in problem
    assert organisation_problems(app, "Second") == []
    assert len(organisation_problems(app, "Third")) == 1


def test_one_organisation_with_post_quantum_keys_passes(app: Flask) -> None:
    add_caseworker(app)
    assert organisation_problems(app) == []


# --- Uploads ---------------------------------------------------------------------------------


class SpoolingRequest(EncryptingRequest):
    """A subclass that puts Werkzeug's temporary-file spooling back."""

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> IO[bytes]:
        return Request._get_file_stream(self, *args, **kwargs)


@pytest.mark.parametrize("request_class", [Request, SpoolingRequest])
def test_a_request_class_that_spools_uploads_is_unsafe(
    bare_app: Flask, request_class: type[Request]
) -> None:
    bare_app.request_class = request_class
    (problem,) = unsafe_problems(doctor.check_uploads(bare_app))
    assert "spooled to disk in clear" in problem


@pytest.mark.parametrize(
    ("key", "value"), [("MAX_FORM_MEMORY_SIZE", None), ("MAX_FORM_MEMORY_SIZE", 2**30)]
)
def test_unbounded_form_memory_is_unsafe(bare_app: Flask, key: str, value: int | None) -> None:
    bare_app.config[key] = value
    (problem,) = unsafe_problems(doctor.check_uploads(bare_app))
    assert "in memory" in problem


def test_no_request_size_limit_is_unsafe(bare_app: Flask) -> None:
    bare_app.config["MAX_CONTENT_LENGTH"] = None
    assert unsafe_problems(doctor.check_uploads(bare_app)) == ["Requests have no size limit."]


def test_the_apps_uploads_pass(bare_app: Flask) -> None:
    assert doctor.check_uploads(bare_app) == []


# --- Instance files --------------------------------------------------------------------------


@pytest.fixture
def private_app(tmp_path: Path) -> Flask:
    """An app whose instance folder, files and blob store are all private, as under systemd."""
    instance = tmp_path / "private"
    (instance / "blobs").mkdir(mode=0o700, parents=True)
    instance.chmod(0o700)
    app = create_app({"INSTANCE_PATH": instance})
    (instance / "blobs" / "ab").mkdir(mode=0o700)
    (instance / "reporting.sqlite3").touch(mode=0o600)
    return app


def test_private_instance_files_pass(private_app: Flask) -> None:
    assert doctor.check_files(private_app.config["SETTINGS"]) == []


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("", 0o755),
        ("secret_key", 0o644),
        ("codename_salt", 0o640),  # group-readable counts too
        ("reporting.sqlite3", 0o604),
        ("blobs", 0o750),
        ("blobs/ab", 0o705),
    ],
)
def test_readable_instance_files_are_unsafe(private_app: Flask, name: str, mode: int) -> None:
    path = private_app.config["SETTINGS"].instance_path / name
    path.chmod(mode)
    (problem,) = unsafe_problems(doctor.check_files(private_app.config["SETTINGS"]))
    assert problem == f"{path} is readable by other users (mode {oct(mode)})."


# --- The portal file ------------------------------------------------------------------------


def test_a_portal_that_names_nobody_gets_warnings() -> None:
    findings = doctor.check_portal(Portal())
    assert [f.severity for f in findings] == [Severity.WARNING, Severity.WARNING]
    assert findings[0].problem.startswith("The portal does not say who runs it")
    assert "how to check its onion address" in findings[1].problem
    assert all("portal.toml" in f.fix for f in findings)


def test_a_named_portal_with_a_verification_text_passes() -> None:
    named = Portal(texts=(("zh_Hans", PortalTexts(name="某机构", verify="见 example.org")),))
    assert doctor.check_portal(named) == []


# --- The command -----------------------------------------------------------------------------


@pytest.fixture
def production_app(tmp_path: Path, private_app: Flask) -> Iterator[Flask]:
    """Everything as deploy/ sets it up: PostgreSQL, Redis with a password, an onion address,
    one organisation with a post-quantum key, private files, the example portal file."""
    portal_file = Path(private_app.instance_path) / PORTAL_FILE
    portal_file.write_bytes((DEPLOY / "portal.toml.example").read_bytes())
    portal_file.chmod(0o600)
    with fresh_database("postgresql", tmp_path) as url:
        migrate.upgrade(url)
        app = create_app(
            {
                "INSTANCE_PATH": private_app.instance_path,
                "DATABASE_URL": url,
                "REDIS_URL": REDIS,
                "ONION_ADDRESS": ONION,
                "ALLOWED_HOSTS": (ONION, "127.0.0.1"),
            }
        )
        add_caseworker(app)
        yield app


@pytest.mark.slow
def test_the_command_passes_a_production_configuration(production_app: Flask) -> None:
    result = production_app.test_cli_runner().invoke(
        args=["doctor", "--gunicorn-config", str(GUNICORN_CONFIG)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Nothing unsafe found.\n"


@pytest.mark.slow
def test_the_command_exits_1_and_says_what_to_do(
    production_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gunicorn.conf.py"
    config.write_text('accesslog = "-"\nbind = "0.0.0.0:8000"\n', encoding="utf-8")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = production_app.test_cli_runner().invoke(
        args=["doctor", "--gunicorn-config", str(config)]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[::2]] == ["UNSAFE"] * 3
    assert all(line.startswith("  What to do: ") for line in lines[1::2])


@pytest.mark.slow
def test_a_missing_gunicorn_config_is_a_warning(production_app: Flask, tmp_path: Path) -> None:
    result = production_app.test_cli_runner().invoke(
        args=["doctor", "--gunicorn-config", str(tmp_path / "nowhere.py")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("WARNING: The gunicorn configuration was not found")


def test_the_development_defaults_fail(app: Flask) -> None:
    """The app fixture is the laptop set-up: no Redis, no onion (and SQLite on one run)."""
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "No Redis is configured" in result.output
    assert "No onion address is configured." in result.output
    assert "answers to any host name" in result.output


@pytest.mark.parametrize(
    ("allowed", "problem"),
    [
        ((), "The service answers to any host name a request gives."),
        (("127.0.0.1",), f"REPORTING_ALLOWED_HOSTS leaves out the reporter onion {ONION}."),
        ((ONION, "127.0.0.1"), None),
    ],
)
def test_the_allowed_host_names_must_name_the_onion(
    allowed: tuple[str, ...], problem: str | None
) -> None:
    found = unsafe_problems(doctor.check_allowed_hosts(ONION, allowed))
    assert found == ([problem] if problem else [])

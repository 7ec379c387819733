"""The files in deploy/: systemd units that systemd accepts, with the sandbox the threat model
relies on; a torrc that tor accepts, with both onions and their defences; an environment
example that names every setting the app reads, at its real default."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import DateTime, create_engine, text

from reporting.infra.config import load_settings
from reporting.infra.db import Base
from reporting.infra.doctor import check_onion
from tests.support.databases import fresh_database
from tests.support.deploy import (
    DEPLOY,
    ROOT,
    env_example,
    localised,
    unit_settings,
)
from tests.support.processes import Processes

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SANDBOX = {
    "User": "reporting",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "ProtectHome": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "ReadWritePaths": "/var/lib/reporting",
    "UMask": "0077",
    "EnvironmentFile": "/etc/reporting/reporting.env",
}


def torrc_services() -> tuple[dict[str, str], list[dict[str, list[str]]]]:
    """The torrc's global options, and each onion service's options in order."""
    options: dict[str, str] = {}
    services: list[dict[str, list[str]]] = []
    for line in (DEPLOY / "torrc").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        if key == "HiddenServiceDir":
            services.append({})
        if key.startswith("HiddenService") and key != "HiddenServiceNonAnonymousMode":
            services[-1].setdefault(key, []).append(value.strip())
        else:
            assert key not in options, f"{key} twice"
            options[key] = value.strip()
    return options, services


# --- systemd ---------------------------------------------------------------------------------


def test_there_are_units_for_web_worker_and_beat() -> None:
    assert [u.name for u in UNITS] == [
        "reporting-beat.service",
        "reporting-web.service",
        "reporting-worker.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_is_sandboxed(unit: Path) -> None:
    settings = unit_settings(unit)
    for key, value in SANDBOX.items():
        assert settings.get(key) == [value], f"{unit.name}: {key}"
    # The state folder is the only writable place, and it is the service's alone.
    assert settings["StateDirectory"] == ["reporting"]
    assert settings["StateDirectoryMode"] == ["0700"]
    assert all(not c.startswith(("-", "+", "!")) for c in settings["ExecStart"])  # no root


def test_only_the_worker_may_reach_beyond_loopback() -> None:
    for unit in UNITS:
        settings = unit_settings(unit)
        if unit.name == "reporting-worker.service":
            assert "IPAddressDeny" not in settings  # webhooks and SMTP
        else:
            assert settings["IPAddressDeny"] == ["any"]
            assert settings["IPAddressAllow"] == ["localhost"]


def test_units_pass_systemd_analyze_verify(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    """systemd's own checker: unknown keys, bad values and missing programs all fail it (the
    programs are looked up in this checkout's virtualenv instead of /opt/reporting)."""
    analyze = require_tool("systemd-analyze")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(localised(unit.read_text(encoding="utf-8")), encoding="utf-8")
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", *copies], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""  # warnings (an unknown key) count too


def test_verify_catches_a_mistake(tmp_path: Path, require_tool: Callable[[str], str]) -> None:
    """The check above would notice a typo in a sandbox setting."""
    analyze = require_tool("systemd-analyze")
    text = localised((DEPLOY / "systemd" / "reporting-web.service").read_text(encoding="utf-8"))
    copy = tmp_path / "reporting-web.service"
    copy.write_text(text.replace("ProtectHome=yes", "ProtecHome=yes"), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "ProtecHome" in result.stderr


# --- Tor -------------------------------------------------------------------------------------


def gunicorn_binds() -> list[str]:
    namespace: dict[str, object] = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8"), namespace)
    binds = namespace["bind"]
    assert isinstance(binds, list)
    return binds


def test_torrc_serves_two_onions_with_pow_defences_and_safe_logging() -> None:
    options, (reporter, caseworker) = torrc_services()
    assert options["SafeLogging"] == "1"
    assert options["SocksPort"] == "0"  # an onion service only: no proxy for local programs
    assert options["HiddenServiceNonAnonymousMode"] == "0"
    reporter_bind, caseworker_bind = gunicorn_binds()
    for service, bind in ((reporter, reporter_bind), (caseworker, caseworker_bind)):
        assert service["HiddenServicePort"] == [f"80 {bind}"]
        assert service["HiddenServicePoWDefensesEnabled"] == ["1"]
        assert service["HiddenServiceEnableIntroDoSDefense"] == ["1"]
    assert reporter["HiddenServiceDir"] != caseworker["HiddenServiceDir"]
    # Client authorization is configured by files in the caseworker onion's folder; the
    # guide's commands must name that folder.
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert f"{caseworker['HiddenServiceDir'][0]}authorized_clients/" in guide


def test_tor_accepts_the_torrc(tmp_path: Path, require_tool: Callable[[str], str]) -> None:
    """tor --verify-config, with the service folders moved under tmp_path; a warning (an
    abbreviated or obsolete option) fails the test too."""
    tor = require_tool("tor")
    text = (DEPLOY / "torrc").read_text(encoding="utf-8")
    text = text.replace("/var/lib/tor/", f"{tmp_path}/").replace("syslog", "stderr")
    (tmp_path / "torrc").write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    command = [tor, "--defaults-torrc", "/dev/null", "-f", str(tmp_path / "torrc")]
    command += ["--verify-config", "--DataDirectory", str(data)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if "[warn]" in line]
    warnings = [line for line in warnings if "running Tor as root" not in line]
    assert warnings == []


# The commands deploy/README.md gives caseworkers for their onion client key pair.
CLIENT_KEY_COMMANDS = (
    "openssl genpkey -algorithm x25519 -out onion-auth.pem",
    "openssl pkey -in onion-auth.pem -outform DER | tail -c 32 | base32 | tr -d '=\\n'",
    "openssl pkey -in onion-auth.pem -pubout -outform DER | tail -c 32 | base32 | tr -d '=\\n'",
)


def test_tor_runs_both_onions_with_a_client_key_made_as_the_guide_says(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    """tor itself (with the network off) makes both onions from the torrc and loads a client
    authorization file holding a public key made by the guide's commands."""
    tor = require_tool("tor")
    require_tool("openssl")
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    made = []
    for command in CLIENT_KEY_COMMANDS:
        assert command in guide
        run = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, check=True
        )
        made.append(run.stdout)
    _, private, public = made
    assert re.fullmatch("[A-Z2-7]{52}", private) and re.fullmatch("[A-Z2-7]{52}", public)

    text = (DEPLOY / "torrc").read_text(encoding="utf-8")
    (tmp_path / "torrc").write_text(
        text.replace("/var/lib/tor/", f"{tmp_path}/").replace("syslog", "stdout"),
        encoding="utf-8",
    )
    clients = tmp_path / "reporting-caseworker" / "authorized_clients"
    clients.mkdir(mode=0o700, parents=True)
    clients.parent.chmod(0o700)
    (clients / "alice.auth").write_text(f"descriptor:x25519:{public}\n", encoding="utf-8")
    (tmp_path / "data").mkdir(mode=0o700)
    processes = Processes(tmp_path / "logs")
    command = [tor, "--defaults-torrc", "/dev/null", "-f", str(tmp_path / "torrc")]
    command += ["--DataDirectory", str(tmp_path / "data"), "--DisableNetwork", "1"]
    process = processes.start("tor", command)
    hostnames = [
        tmp_path / name / "hostname" for name in ("reporting-reporter", "reporting-caseworker")
    ]
    try:
        deadline = time.monotonic() + 30
        while not all(h.exists() for h in hostnames):
            assert process.running(), process.output()
            assert time.monotonic() < deadline, process.output()
            time.sleep(0.1)
        time.sleep(0.5)  # client authorization is read with the service keys
    finally:
        processes.stop_all()
    warnings = [line for line in process.output().splitlines() if "[warn]" in line]
    assert [line for line in warnings if "running Tor as root" not in line] == []
    addresses = [h.read_text(encoding="ascii").strip() for h in hostnames]
    assert addresses[0] != addresses[1]
    for address in addresses:
        assert check_onion(address) == []  # what the doctor accepts is what tor makes


# --- PostgreSQL ------------------------------------------------------------------------------


def test_the_postgresql_snippet_names_real_settings_with_valid_values(tmp_path: Path) -> None:
    """Checked against the running PostgreSQL's own list of settings (a typo would stop the
    server from starting)."""
    snippet = (DEPLOY / "postgresql" / "reporting.conf").read_text(encoding="utf-8")
    settings = dict(
        re.fullmatch(r"(\w+) = '?([^']*)'?", line).groups()
        for line in snippet.splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert settings["listen_addresses"] == "localhost"
    with fresh_database("postgresql", tmp_path) as url:
        engine = create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name, vartype, enumvals FROM pg_settings WHERE name = ANY(:names)"),
                {"names": list(settings)},
            ).all()
        engine.dispose()
    assert {row.name for row in rows} == set(settings)
    for row in rows:
        value = settings[row.name]
        if row.vartype == "bool":
            assert value in ("on", "off"), row.name
        elif row.vartype == "enum":
            assert value in row.enumvals, row.name
        elif row.vartype == "integer":
            int(value)


# --- The environment file --------------------------------------------------------------------


def variables_read_by_config() -> set[str]:
    """Every REPORTING_ name reporting/infra/config.py mentions, straight from its source."""
    source = (ROOT / "reporting" / "infra" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'"(REPORTING_[A-Z0-9_]+)"', source))


def test_env_example_names_every_setting() -> None:
    active, defaults = env_example()
    read = variables_read_by_config()
    assert len(read) > 15  # the pattern still finds them
    assert read - set(active) - set(defaults) == set()
    assert set(active) & set(defaults) == set()


def test_env_example_defaults_are_the_real_defaults(tmp_path: Path) -> None:
    """Uncommenting a default changes nothing: each commented value is what the app uses."""
    _, defaults = env_example()
    baseline = load_settings({}, tmp_path)
    for name, value in defaults.items():
        if not name.startswith("REPORTING_") or not value:
            continue
        assert load_settings({name: value}, tmp_path) == baseline, name
    assert defaults["WEB_CONCURRENCY"] == "2"


def test_env_example_is_read_alike_by_systemd_and_sh() -> None:
    """No quotes, spaces or $ in values: the units and deploy/reporting-flask read one file."""
    active, defaults = env_example()
    for name, value in {**active, **defaults}.items():
        assert not re.search(r"[\s'\"$\\`]", value), name


def test_env_example_production_values_load(tmp_path: Path) -> None:
    """The values to fill in parse; only their placeholders need replacing."""
    active, _ = env_example()
    assert {"REPORTING_DATABASE_URL", "REPORTING_REDIS_URL", "REPORTING_ONION_ADDRESS"} <= set(
        active
    )
    environ = {**active, "REPORTING_INSTANCE_PATH": str(tmp_path)}
    settings = load_settings(environ, tmp_path)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.redis_url == active["REPORTING_REDIS_URL"]


def test_reporting_flask_wrapper_is_valid_sh() -> None:
    script = DEPLOY / "reporting-flask"
    subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)
    text = script.read_text(encoding="utf-8")
    assert "/etc/reporting/reporting.env" in text and "runuser -u reporting" in text


# --- The threat model ------------------------------------------------------------------------

# The only columns that hold a time finer than a day (deploy/THREAT-MODEL.md, section 1).
TIMES_KEPT = {
    ("audit_entry", "at"),  # to the hour
    ("caseworker", "invite_expires_at"),  # caseworkers' logins, tokens and invitations
    ("api_token", "created_at"),
    ("api_token", "expires_at"),
    ("login_throttle", "window_started_at"),
    ("login_throttle", "locked_until"),
    ("delivery", "due_at"),  # in flight only: cleared once delivered or dead
    ("delivery", "lease_until"),
}


def test_the_schema_keeps_no_time_finer_than_a_day_but_the_listed_ones() -> None:
    import reporting.models  # noqa: F401  (every table on the metadata)

    times = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime)
    }
    assert times == TIMES_KEPT


def test_the_threat_model_names_real_tests() -> None:
    """Each `tests/FILE::TEST` the threat model cites as proof is a test that exists."""
    text = (DEPLOY / "THREAT-MODEL.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"tests/(\w+/test_\w+\.py)::(test_\w+)", text))
    assert len(cited) > 30
    for file, test in sorted(cited):
        source = (ROOT / "tests" / file).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {test}\(", source, re.MULTILINE), f"{file}::{test}"

"""The dependency rules of docs/design.md, checked on the source.

`crypto` imports neither the web app nor the worker (nor Flask), and nothing
outside `crypto` touches a cipher, a key derivation or a password hash
(invariant 6), so that one package holds every cryptographic decision.
`protocol` (what both ends agree on) imports only `crypto`; the caseworker
client and the NGO receiver import only `crypto` and `protocol` of ours, so
they install and run without the server. `bench` measures the server, so only
the benchmark that drives it in-process may import `reporting` and `worker`.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CRYPTO_ONLY = ("cryptography", "argon2", "hashlib", "hmac", "secrets", "nacl", "Crypto")
NOT_IN_CRYPTO = {"reporting", "worker", "flask", "werkzeug", "celery"}
OURS = {"crypto", "protocol", "reporting", "worker", "caseworker_client", "receiver", "bench"}
SERVER_LIBRARIES = {"flask", "flask_wtf", "flask_babel", "wtforms", "sqlalchemy", "alembic"}
SERVER_LIBRARIES |= {"celery", "kombu", "redis", "psycopg", "gunicorn"}
# Of ours, what each of the tools that run without the server may import (itself aside).
TOOL_IMPORTS = {
    "protocol": {"crypto"},
    "caseworker_client": {"crypto", "protocol"},
    "receiver": {"crypto", "protocol"},
    "bench": {"crypto", "protocol"},
}
# The caseworker's desk (caseworker_client/desk/, an optional extra) is a small Flask app on
# the caseworker's machine; the rest of the client never imports these.
DESK = ROOT / "caseworker_client" / "desk"
DESK_LIBRARIES = {"flask", "flask_wtf", "wtforms"}


def is_desk(path: Path) -> bool:
    return DESK in path.parents


# bench/delivery.py measures the delivery worker, so it builds the server in its own process.
BENCH_DRIVES_THE_SERVER = {"delivery.py": {"reporting", "worker"}, "submit.py": {"reporting"}}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("crypto"), ids=lambda p: p.name)
def test_crypto_depends_on_nothing_of_ours(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in NOT_IN_CRYPTO, name


TOOL_SOURCES = [(tool, path) for tool in TOOL_IMPORTS for path in sources(tool)]


@pytest.mark.parametrize("tool,path", TOOL_SOURCES, ids=lambda v: getattr(v, "name", v))
def test_tools_import_only_crypto_and_protocol(tool: str, path: Path) -> None:
    allowed = TOOL_IMPORTS[tool] | {tool}
    if tool == "bench":
        allowed |= BENCH_DRIVES_THE_SERVER.get(path.name, set())
    for name in imported_modules(path):
        top = name.split(".")[0]
        if top in OURS:
            assert top in allowed, f"{tool}/{path.name} imports {name}"
        if tool != "bench" and not is_desk(path):
            assert top not in SERVER_LIBRARIES, f"{tool}/{path.name} imports {name}"
        if is_desk(path):  # the optional desk: Flask, and nothing else of the server's
            assert top not in SERVER_LIBRARIES - DESK_LIBRARIES, f"desk/{path.name}: {name}"


@pytest.mark.parametrize("path", sources("protocol"), ids=lambda p: p.name)
def test_protocol_needs_only_the_standard_library_and_crypto(path: Path) -> None:
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names | {"crypto", "protocol"}, f"{path.name}: {name}"


# Loads a tool's entry point as the installed command does, asks it for --help, and lists
# every module that got imported on the way.
LOADED_BY_HELP = """
import importlib, json, sys
module, _, function = sys.argv[1].partition(":")
try:
    getattr(importlib.import_module(module), function)(["--help"])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "command", ["reporting-caseworker", "reporting-ngo-receiver"], ids=lambda c: c
)
def test_tools_start_without_the_server(command: str, tmp_path: Path) -> None:
    """A caseworker's or an NGO's machine never loads the server's libraries."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry_point = scripts["project"]["scripts"][command]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", LOADED_BY_HELP, entry_point],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    help_text, _, modules_json = result.stdout.rpartition("\n[")
    assert "Usage:" in help_text
    loaded = {name.split(".")[0] for name in json.loads("[" + modules_json)}
    assert "protocol" in loaded and "crypto" in loaded
    assert not loaded & {"flask", "sqlalchemy", "celery", "psycopg", "reporting", "worker"}


def test_tool_rules_cover_every_package() -> None:
    """A new top-level package of ours gets a rule here before anything imports it."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} | {"bench"}
    assert packages - {"tests", "templates"} == OURS


@pytest.mark.parametrize(
    "path", sources("reporting") + sources("worker"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_only_crypto_does_cryptography(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in CRYPTO_ONLY, f"{path.name} imports {name}: use crypto/"


# Ways to learn who a client is; the service must not look (invariant 4), and must not trust
# X-Forwarded-For (a proxy fix would turn a forged header into a stored "address").
IDENTIFYING_ACCESSORS = ("remote_addr", "access_route", "user_agent", "X-Forwarded-For", "ProxyFix")


@pytest.mark.parametrize(
    "path", sources("reporting") + sources("worker"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_nothing_reads_who_the_client_is(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for accessor in IDENTIFYING_ACCESSORS:
        assert accessor not in source, f"{path.name} uses {accessor}"


@pytest.mark.parametrize("path", sources("reporting"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_reporting_never_imports_the_worker(path: Path) -> None:
    """The web app writes outbox rows and queues tasks by name; the worker imports reporting."""
    for name in imported_modules(path):
        assert name.split(".")[0] != "worker", f"{path.name} imports {name}"


# reporting/ is grouped by feature, so the folder names alone lead to the room for a change;
# only the app factory and `python -m reporting` sit at its top.
REPORTING_TOP = {"__init__.py", "__main__.py"}


def test_reporting_is_grouped_by_feature() -> None:
    top = ROOT / "reporting"
    assert {p.name for p in top.glob("*.py")} == REPORTING_TOP
    for folder in sorted({p.parent for p in sources("reporting")} - {top}):
        if "migrations" in folder.relative_to(top).parts:
            continue
        init = folder / "__init__.py"
        assert init.exists(), f"{folder} is not a package"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init} does not say what lives in its folder"


def test_only_the_app_factory_wires_blueprints() -> None:
    wiring = [
        path.relative_to(ROOT).as_posix()
        for path in sources("reporting")
        if "register_blueprint(" in path.read_text(encoding="utf-8")
    ]
    assert wiring == ["reporting/__init__.py"]


# The README's test rule: no test module imports another; what two share is in tests/support/.
TESTS = ROOT / "tests"
TEST_PACKAGES = {f"tests.{folder}" for folder in ("unit", "app", "processes", "browser")}


def modules_of_tests() -> list[Path]:
    """Every module under tests/ but the shared ones: tests/support/ and the conftest files."""
    return [
        path
        for path in sorted(TESTS.rglob("*.py"))
        if TESTS / "support" not in path.parents and path.name != "conftest.py"
    ]


def imported_names(path: Path) -> set[str]:
    """Each module imported, and each name imported from one (`from tests import app`)."""
    names = imported_modules(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", modules_of_tests(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_test_module_imports_another(path: Path) -> None:
    for name in imported_names(path):
        assert not any(name == p or name.startswith(p + ".") for p in TEST_PACKAGES), (
            f"{path.relative_to(ROOT)} imports {name}: what two test modules share goes in "
            "tests/support/"
        )

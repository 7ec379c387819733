"""Shared fixtures: a fresh app per test, on SQLite and on PostgreSQL, state in tmp_path.

Every test is marked by its folder (unit, app, processes, browser), and every test on
PostgreSQL with `postgresql`, here, so that `make test-fast` can select the quick ones
without anyone remembering to mark them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from reporting import create_app
from reporting.infra import migrate
from reporting.infra.db import Database
from tests.support import databases, tools
from tests.support.portal import Caseworker, add_caseworker
from tests.support.processes import Processes
from tests.support.smtp import Smtp, running_smtp

TESTS = Path(__file__).resolve().parent
FOLDERS = ("unit", "app", "processes", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder, and with `postgresql` when it runs on PostgreSQL."""
    for item in items:
        folder = item.path.resolve().relative_to(TESTS).parts[0]
        if folder not in FOLDERS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test lives in one of tests/{{{','.join(FOLDERS)}}}/ "
                "(see the README's test section)"
            )
        item.add_marker(folder)
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if backend == "postgresql" or "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker("postgresql")


@pytest.fixture(params=databases.BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that uses the database runs on SQLite and on PostgreSQL."""
    with databases.fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema, for tests that run real processes on it."""
    with databases.fresh_database("postgresql", tmp_path) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def processes(tmp_path: Path, postgres_url: str) -> Iterator[Processes]:
    """Every process a test starts; all stopped before its database schema is dropped."""
    running = Processes(tmp_path / "logs")
    try:
        yield running
    finally:
        running.stop_all()
        print(running.tails())  # shown only when the test fails


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server that records what it accepts."""
    with running_smtp() as server:
        yield server


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    """Build the app the way production does, but with its state kept in tmp_path."""
    app = create_app(
        {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": database_url}
    )
    databases.migrate_fresh(database_url)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Send requests to the app without a server."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invoke the app's CLI commands without a shell."""
    return app.test_cli_runner()


@pytest.fixture
def caseworker(app: Flask) -> Caseworker:
    """An organisation that receives reports, with one caseworker's (post-quantum) key."""
    return add_caseworker(app)


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Give tests `require_tool(name)`: skip locally when a tool is missing, fail in CI."""
    return tools.require_tool


@pytest.fixture(autouse=True)
def _dispose_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every database engine an app made during the test (PostgreSQL warns otherwise)."""
    made: list[Database] = []
    original = Database.__init__

    def tracking_init(self: Database, url: str) -> None:
        original(self, url)
        made.append(self)

    monkeypatch.setattr(Database, "__init__", tracking_init)
    yield
    for database in made:
        database.engine.dispose()

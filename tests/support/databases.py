"""The two databases every database test runs on: SQLite, and PostgreSQL at 127.0.0.1."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from reporting.infra import migrate
from tests.support.tools import unavailable

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def require_postgres() -> None:
    """Skip when PostgreSQL is not reachable locally, but fail in CI, where .ci/run starts it."""
    try:
        engine = create_engine(POSTGRES_SERVER)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        reason = f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {error}"
        unavailable(reason, ".ci/run must start it")


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it; PostgreSQL gets a schema of its own, dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    require_postgres()
    schema = f"test_{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Read at import: tests that watch the temporary folder point tempfile at their own.
_TEMPLATE_PARENT = tempfile.gettempdir()


@functools.cache
def _migrated_sqlite() -> Path:
    """One SQLite file migrated to the newest revision, made once per test run."""
    folder = Path(tempfile.mkdtemp(prefix="migrated-sqlite-", dir=_TEMPLATE_PARENT))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "migrated.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def migrate_fresh(database_url: str) -> None:
    """Bring a fresh database to the newest revision, as `migrate.upgrade` does.

    A fresh SQLite file is a copy of one migrated once per run: running every migration
    takes about 0.3 s, a good part of each app test on SQLite (`make test-fast`).
    """
    path = Path(database_url.removeprefix("sqlite:///"))
    if database_url.startswith("sqlite:///") and (not path.exists() or path.stat().st_size == 0):
        shutil.copyfile(_migrated_sqlite(), path)
    else:
        migrate.upgrade(database_url)

"""The database: one engine per app, one SQLAlchemy session per request.

SQLite under `instance/` is the embedded default; PostgreSQL is the production
database. Both are run by the whole test suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


POOL_SIZE = 12


class Base(DeclarativeBase):
    """Declarative base whose metadata names constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout, which it lacks by default."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Enough pooled connections for a worker's threads: connections made and dropped beyond
    # the pool cost PostgreSQL a new backend process each time.
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, so a seized file holds no remnants of removed metadata.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    """What an app keeps of its database: the engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits at the end of the block, or rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session


def init_app(app: Flask) -> None:
    """Attach the database and close each request's session at teardown."""
    app.extensions["db"] = Database(app.config["SETTINGS"].database_url)
    app.teardown_appcontext(_close_session)


def database() -> Database:
    """The current app's database."""
    db: Database = current_app.extensions["db"]
    return db


def session() -> Session:
    """This request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    db_session: Session = g.db_session
    return db_session


def release_connection() -> None:
    """End this request's read transaction, so its pooled connection goes back while the
    request waits on something slow (an upload arriving, a codename derivation). Objects
    loaded so far stay usable (expire_on_commit=False); a later query takes a connection
    again. Without this, 22 reporters waiting at once used up a web process's pool and got
    500s after the pool's 30 s timeout."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.commit()


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()

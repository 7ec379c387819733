"""The database: one engine per app, one SQLAlchemy session per request.

SQLite under `instance/` is the embedded default; PostgreSQL is the production
database. Both are run by the whole test suite.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from reporting.infra.exceptions import Unavailable
from reporting.infra.instance_files import private_file, to_the_day

# Stable constraint names, so Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


POOL_SIZE = 12

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base whose metadata names constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout, which it lacks by default."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            path = Path(database).absolute()
            event.listen(engine, "do_connect", _made_private(path))
            # Each use writes or reads the file (and a write makes and deletes a journal in
            # its folder): set both back to the day when the connection is handed back.
            event.listen(engine, "checkin", lambda *_: to_the_day(path, path.parent))
        return engine
    # Enough pooled connections for a worker's threads: connections made and dropped beyond
    # the pool cost PostgreSQL a new backend process each time.
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE)


def _made_private(path: Path) -> Any:
    """A connect hook that creates the database file 0600 just before SQLite opens it (SQLite
    would create it with the process's umask); returning None lets the connect go on."""

    def hook(*_: Any) -> None:
        private_file(path)

    return hook


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, so a seized file holds no remnants of removed metadata.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class CommitUncertain(Unavailable):
    """The connection was lost while the database committed: the transaction may or may not
    be stored, and nobody can tell until the database answers again. Whoever sent it must
    be told exactly that (reporting/web/errors.py), never "nothing was stored"."""

    def __init__(self, codename: str | None = None) -> None:
        super().__init__("the connection was lost during the commit")
        self.codename = codename  # a new report's, so its reporter can check later


class Database:
    """What an app keeps of its database: the engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits at the end of the block, or rolls back on any error.

        A failure before the commit means nothing was stored; a lost connection during the
        commit itself raises CommitUncertain, since the database may have stored it.
        """
        with self.sessions() as session:
            session.begin()
            try:
                yield session
                session.flush()
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except DBAPIError as error:
                if error.connection_invalidated:
                    raise CommitUncertain() from error
                raise


def init_app(app: Flask) -> None:
    """Attach the database and close each request's session at teardown."""
    app.extensions["db"] = Database(app.config["SETTINGS"].database_url)
    app.teardown_appcontext(_close_session)


def database() -> Database:
    """The current app's database."""
    db: Database = current_app.extensions["db"]
    return db


def insert(db_session: Session, table: Any) -> Any:
    """An INSERT that can take `on_conflict_do_update` / `on_conflict_do_nothing`: the
    PostgreSQL or SQLite flavour, whichever the session's database is (both spell it alike)."""
    if db_session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


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
    """Close this request's session; a failure here must never reach the reporter.

    Teardown runs after the view's response is made: a report committed by then has its
    codename page ready, and an error escaping here (the database restarted, so rolling back
    the connection fails) would make the server replace that page with a bare 500. What is
    left to close holds nothing worth keeping, so the connection is dropped instead.
    """
    db_session = g.pop("db_session", None)
    if db_session is None:
        return
    try:
        db_session.close()
    except Exception as error:
        # Debug only: a line per request would date it (docs/design.md, invariant 4).
        logger.debug("dropped a broken database connection (%s)", type(error).__name__)
        with suppress(Exception):  # nothing more to do with a dead connection
            db_session.invalidate()

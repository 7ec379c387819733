"""Session ids that must no longer open a session: after logout, sign-in or a submission.

Sessions live in sealed cookies, so the server cannot delete one: a copy of an
old cookie would still work until it went idle. Each session carries a random
id, and ending or renewing a session puts that id in the database for as long
as a copy could still be fresh (the idle limit, rounded up to the end of a day).

The list is in the database, not in Redis or in memory, so it survives a
restart of the web processes, of Redis, or of the whole machine, and every web
process sees it. It fails closed: when the database cannot say whether an id is
revoked, the cookie opens no session; when it cannot record a revocation, the
logout fails visibly instead of pretending.

Nothing else is recorded: not the report, not the person, not the time (only
the day after which the row is deleted).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from reporting.infra import db
from reporting.infra.exceptions import Unavailable
from reporting.models import RevokedSession

logger = logging.getLogger(__name__)


class _OutageLog:
    """Log a failing lookup once per outage: a line per request would say when each
    reporter came."""

    def __init__(self) -> None:
        self._failing = False
        self._lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
        if first:
            logger.warning(
                "session revocations cannot be read (%s): every session cookie is refused "
                "until the database answers",
                type(error).__name__,
            )

    def answered(self) -> None:
        with self._lock:
            recovered, self._failing = self._failing, False
        if recovered:
            logger.warning("session revocations can be read again")


_outage = _OutageLog()


def _last_day(seconds: int) -> date:
    """The day after which a session revoked now cannot be fresh any more."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).date()


def revoke(session_id: str) -> None:
    """Record that `session_id` is ended, in a transaction of its own, committed at once.

    Callers commit their own writes first (SQLite allows one writer at a time). Errors
    are raised: a logout that could not be recorded must not look like one that was.
    """
    idle = current_app.config["SETTINGS"].limits.session_idle_seconds
    with db.database().transaction() as dbs:
        dbs.execute(delete(RevokedSession).where(RevokedSession.until < _last_day(0)))
        dbs.execute(
            db.insert(dbs, RevokedSession)
            .values(session_id=session_id, until=_last_day(idle))
            .on_conflict_do_nothing(index_elements=[RevokedSession.session_id])
        )


class RevocationsUnreadable(Unavailable):
    """The database could not say whether a session id was ended."""


def lookup(session_id: str) -> bool:
    """Whether `session_id` was ended; raises RevocationsUnreadable when the database
    cannot tell, so the caller can both refuse the session and say why."""
    try:
        with db.database().sessions() as dbs:
            found = dbs.scalar(
                select(RevokedSession.session_id).where(RevokedSession.session_id == session_id)
            )
    except SQLAlchemyError as error:
        _outage.failed(error)
        raise RevocationsUnreadable from error
    _outage.answered()
    return found is not None

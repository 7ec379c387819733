"""Login attempts per account name, counted before the password is checked.

Each attempt is counted in a transaction of its own, committed before the slow
password hash starts, with one atomic upsert: so however many attempts arrive at
once, each sees the count including every attempt before it, and at most
`login_failures` of them in a window get their password checked. The next one
locks the name for `login_lock_seconds`. A successful login forgets the count.

Rows are keyed by an opaque key (an HMAC of the name, made by reporting/accounts/caseworkers.py),
so the table lists no names; rows whose window and lock are over are deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, not_, update
from sqlalchemy.orm import Session

from reporting.infra import db
from reporting.models import LoginThrottle


def admit(key: str, now: datetime, limits: Any) -> bool:
    """Count an attempt on `key`; whether it may be checked (False: the name is locked)."""
    throttle = LoginThrottle
    window_start = now - timedelta(seconds=limits.login_window_seconds)
    locked = and_(throttle.locked_until.is_not(None), throttle.locked_until > now)
    fresh_window = and_(throttle.window_started_at < window_start, not_(locked))
    with db.database().transaction() as dbs:
        _forget_stale(dbs, now, window_start, key)
        counted = (
            db.insert(dbs, throttle)
            .values(key=key, failures=1, window_started_at=now, locked_until=None)
            .on_conflict_do_update(
                index_elements=[throttle.key],
                set_={
                    "failures": case(
                        (locked, throttle.failures),
                        (fresh_window, 1),
                        else_=throttle.failures + 1,
                    ),
                    "window_started_at": case(
                        (fresh_window, now), else_=throttle.window_started_at
                    ),
                },
            )
            .returning(throttle.failures, throttle.locked_until)
        )
        attempts, locked_until = dbs.execute(counted).one()
        if locked_until is not None and locked_until > now:
            return False
        if attempts <= limits.login_failures:
            return True
        dbs.execute(
            update(throttle)
            .where(throttle.key == key)
            .values(
                locked_until=now + timedelta(seconds=limits.login_lock_seconds),
                failures=0,
                window_started_at=now,
            )
        )
        return False


def is_locked(dbs: Session, key: str, now: datetime) -> bool:
    """Whether the name is locked now (without counting an attempt)."""
    row = dbs.get(LoginThrottle, key)
    return row is not None and row.locked_until is not None and row.locked_until > now


def forget(dbs: Session, key: str) -> None:
    """A successful login: the name's count starts again (committed by the caller)."""
    dbs.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def _forget_stale(dbs: Session, now: datetime, window_start: datetime, keep: str) -> None:
    """Drop other names' counters whose window and lock are over, so made-up names do
    not pile up."""
    dbs.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key != keep)
        .where(LoginThrottle.window_started_at < window_start)
        .where(LoginThrottle.locked_until.is_(None) | (LoginThrottle.locked_until <= now))
    )

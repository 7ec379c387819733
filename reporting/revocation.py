"""Session ids that must no longer open a session: after logout, sign-in or a submission.

Sessions live in sealed cookies, so the server cannot delete one: a copy of an
old cookie would still work until it went idle. Each session carries a random
id, and ending or renewing a session puts that id here for as long as a copy
could still be fresh (the idle limit). Nothing else is recorded: not the
report, not the time. Redis holds the list when configured (shared by every
web process); otherwise it is kept in memory (the single-process embedded default).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from flask import Flask, current_app

KEY_PREFIX = "reporting:revoked:"
EXTENSION = "revocations"

logger = logging.getLogger(__name__)


class Revocations(Protocol):
    def revoke(self, session_id: str, seconds: int) -> None: ...

    def is_revoked(self, session_id: str) -> bool: ...


class RedisRevocations:
    """Revoked ids in Redis with an expiry. An outage fails open (see ratelimit.py for why)."""

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._failing = False

    def revoke(self, session_id: str, seconds: int) -> None:
        try:
            self._redis.set(KEY_PREFIX + session_id, b"1", ex=seconds)
            self._failing = False
        except redis.RedisError as error:
            self._outage(error)

    def is_revoked(self, session_id: str) -> bool:
        try:
            revoked = bool(self._redis.exists(KEY_PREFIX + session_id))
        except redis.RedisError as error:
            self._outage(error)
            return False
        self._failing = False
        return revoked

    def _outage(self, error: redis.RedisError) -> None:
        """Warn once per outage: a line per request would log when each reporter came."""
        if not self._failing:
            self._failing = True
            logger.warning("session revocations unavailable (Redis: %s)", type(error).__name__)


class MemoryRevocations:
    """Revoked ids in this process, forgotten once they could no longer matter."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, session_id: str, seconds: int) -> None:
        now = self._clock()
        with self._lock:
            self._until = {k: t for k, t in self._until.items() if t > now}
            self._until[session_id] = now + seconds

    def is_revoked(self, session_id: str) -> bool:
        with self._lock:
            return self._until.get(session_id, 0.0) > self._clock()


def init_app(app: Flask) -> None:
    url = app.config["SETTINGS"].redis_url
    app.extensions[EXTENSION] = RedisRevocations(url) if url else MemoryRevocations()


def revocations() -> Revocations:
    store: Revocations = current_app.extensions[EXTENSION]
    return store

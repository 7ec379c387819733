"""Abuse limits without identity: fixed-window counters keyed by opaque strings, never IPs.

Callers build keys from random session ids or fixed names (such as one instance-wide key), so
a counter says how often *something* happened, never who did it. Each key's window starts at
its first hit and lasts `window_seconds`; a key should always be used with the same window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from flask import Flask, current_app

from reporting.infra.config import Settings

KEY_PREFIX = "reporting:ratelimit:"
EXTENSION = "ratelimit"

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    """Counts hits per key; views ask it before doing anything costly."""

    def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """Count a hit and return True while under `limit`; False once it is reached."""
        ...


def check_arguments(limit: int, window_seconds: int) -> None:
    """Refuse nonsense early: Redis would reject a zero expiry only at the first hit."""
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    if window_seconds < 1:
        raise ValueError(f"window_seconds must be at least 1, not {window_seconds}")


class RedisRateLimiter:
    """Counters in Redis, shared by every web process (the production setting).

    A Redis outage fails OPEN: hits are allowed and a warning is logged once per outage.
    Refusing every report while Redis is down would silence the people the service exists
    for, and the form's own defences (minimum lengths, honeypot field, CSRF, Tor's PoW
    defence) still hold. Needs Redis >= 7.0 for `EXPIRE ... NX`.
    """

    def __init__(self, url: str, *, prefix: str = KEY_PREFIX, timeout: float = 0.5) -> None:
        # A short timeout: a hung Redis must not hold a reporter's request for long.
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._prefix = prefix
        self._failing = False
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """INCR and EXPIRE NX in one transaction, so no counter is ever left without expiry."""
        check_arguments(limit, window_seconds)
        name = self._prefix + key
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window_seconds, nx=True)
                count, _ = pipe.execute()
        except redis.RedisError as error:
            if self._set_failing(True):
                # The error names the Redis server, never the key (opaque anyway).
                logger.warning(
                    "rate limits not enforced, Redis failed: %s: %s", type(error).__name__, error
                )
            return True
        if self._failing:
            self._set_failing(False)
        return int(count) <= limit

    def close(self) -> None:
        """Release the connection pool (the app keeps one limiter for its lifetime)."""
        self._redis.close()

    def _set_failing(self, failing: bool) -> bool:
        """Log only when the state changes, so a long outage cannot flood the log."""
        with self._lock:
            changed, self._failing = self._failing != failing, failing
        if changed and not failing:
            logger.warning("rate limits enforced again: Redis answers")
        return changed


@dataclass
class _Window:
    count: int
    expires_at: float


class MemoryRateLimiter:
    """Counters in this process (the embedded default: one process, no services).

    Expired windows are swept at most every `sweep_seconds`, and at most `max_keys` windows
    are kept (the oldest go first), so memory stays bounded even under a flood of new keys.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
        sweep_seconds: float = 60.0,
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, not {max_keys}")
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_seconds = sweep_seconds
        self._windows: dict[str, _Window] = {}  # insertion order is the order windows began
        self._lock = threading.Lock()
        self._next_sweep = clock() + sweep_seconds

    def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """Count under a lock, so concurrent requests cannot both take the last slot."""
        check_arguments(limit, window_seconds)
        with self._lock:
            now = self._clock()
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(key)
            if window is None or window.expires_at <= now:
                window = self._start_window(key, now + window_seconds)
            if window.count >= limit:
                return False
            window.count += 1
            return True

    def __len__(self) -> int:
        """How many windows are held, so tests can see that memory stays bounded."""
        return len(self._windows)

    def _start_window(self, key: str, expires_at: float) -> _Window:
        """Re-insert at the end, keeping the dict ordered by when each window began."""
        self._windows.pop(key, None)
        while len(self._windows) >= self._max_keys:
            del self._windows[next(iter(self._windows))]
        window = self._windows[key] = _Window(0, expires_at)
        return window

    def _sweep(self, now: float) -> None:
        """Drop every expired window; amortised over `sweep_seconds` of hits."""
        for key in [k for k, w in self._windows.items() if w.expires_at <= now]:
            del self._windows[key]
        self._next_sweep = now + self._sweep_seconds


def init_app(app: Flask) -> None:
    """Share counters through Redis when configured; otherwise keep them in memory."""
    settings: Settings = app.config["SETTINGS"]
    found: RateLimiter = (
        RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()
    )
    app.extensions[EXTENSION] = found


def limiter() -> RateLimiter:
    """The current app's limiter, so views never reach for a module-global one."""
    found: RateLimiter = current_app.extensions[EXTENSION]
    return found

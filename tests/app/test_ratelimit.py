"""Both limiters count per opaque key in fixed windows; Redis outages fail open, warning once."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask

from reporting import create_app
from reporting.infra.config import REDIS_URL_VAR
from reporting.web import ratelimit
from reporting.web.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.support.tools import require_redis

REDIS_URL = "redis://127.0.0.1:6379/15"
UNREACHABLE_URL = "redis://127.0.0.1:1/0"


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Subject:
    limiter: RateLimiter
    advance: Callable[[float], None]  # lets a window run out: a fake clock, or real sleep


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A prefix of this test's own, and deletion of only its keys afterwards."""
    require_redis(REDIS_URL)
    prefix = f"{ratelimit.KEY_PREFIX}test-{secrets.token_hex(8)}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()

        def tick(seconds: float) -> None:
            clock.now += seconds

        yield Subject(MemoryRateLimiter(clock), tick)
        return
    prefix = request.getfixturevalue("redis_prefix")
    limiter = RedisRateLimiter(REDIS_URL, prefix=prefix)
    yield Subject(limiter, lambda seconds: time.sleep(seconds + 0.2))
    limiter.close()


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_allows_up_to_limit_then_refuses(subject: Subject, limit: int) -> None:
    results = [subject.limiter.hit("session-a", limit, 60) for _ in range(limit + 3)]
    assert results == [True] * limit + [False] * 3


def test_keys_are_counted_separately(subject: Subject) -> None:
    assert subject.limiter.hit("a", 1, 60)
    assert not subject.limiter.hit("a", 1, 60)
    assert subject.limiter.hit("b", 1, 60)


@pytest.mark.slow
def test_window_expires(subject: Subject) -> None:
    assert [subject.limiter.hit("k", 2, 1) for _ in range(3)] == [True, True, False]
    subject.advance(1)
    assert [subject.limiter.hit("k", 2, 1) for _ in range(3)] == [True, True, False]


@pytest.mark.slow
def test_refused_hits_do_not_extend_the_window(subject: Subject) -> None:
    assert subject.limiter.hit("k", 1, 2)
    subject.advance(1)
    assert not subject.limiter.hit("k", 1, 2)
    subject.advance(1)
    assert subject.limiter.hit("k", 1, 2)


@pytest.mark.parametrize(("limit", "window"), [(-1, 60), (1, 0), (1, -5)])
def test_nonsense_arguments_are_refused(subject: Subject, limit: int, window: int) -> None:
    with pytest.raises(ValueError):
        subject.limiter.hit("k", limit, window)


def test_concurrent_hits_never_exceed_limit(subject: Subject) -> None:
    threads, hits_each, limit = 8, 100, 250
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        mine = [subject.limiter.hit("shared", limit, 60) for _ in range(hits_each)]
        with lock:
            allowed.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert len(allowed) == threads * hits_each
    assert allowed.count(True) == limit


def test_redis_keys_carry_prefix_and_expire(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        limiter.hit("opaque", 5, 30)
        assert client.get(f"{redis_prefix}opaque") == b"1"
        assert 0 < client.ttl(f"{redis_prefix}opaque") <= 30
    finally:
        limiter.close()
        client.close()


def test_memory_prunes_expired_windows() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock, sweep_seconds=10)
    for number in range(1000):
        limiter.hit(f"session-{number}", 5, 5)
    assert len(limiter) == 1000
    clock.now += 10
    limiter.hit("fresh", 5, 5)
    assert len(limiter) == 1


def test_memory_is_bounded_by_max_keys() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock, max_keys=100)
    assert limiter.hit("global", 1, 3600)
    for number in range(1000):
        clock.now += 0.001
        assert limiter.hit(f"session-{number}", 1, 3600)
    assert len(limiter) == 100
    # The oldest windows went first: the newest keys are still counted.
    assert not limiter.hit("session-999", 1, 3600)


def test_memory_refuses_zero_max_keys() -> None:
    with pytest.raises(ValueError):
        MemoryRateLimiter(max_keys=0)


def test_unreachable_redis_fails_open_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter(UNREACHABLE_URL, timeout=0.2)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="reporting.web.ratelimit"):
        results = [limiter.hit("session", 1, 60) for _ in range(5)]
    limiter.close()
    assert results == [True] * 5
    assert time.monotonic() - started < 5
    warnings = [r for r in caplog.records if r.name == "reporting.web.ratelimit"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "session" not in warnings[0].getMessage()


def make_app(tmp_path: Path) -> Flask:
    app = create_app({"TESTING": True, "INSTANCE_PATH": tmp_path / "instance"})
    ratelimit.init_app(app)
    return app


def test_init_app_uses_memory_without_redis_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REDIS_URL_VAR, raising=False)
    app = make_app(tmp_path)
    with app.app_context():
        assert isinstance(ratelimit.limiter(), MemoryRateLimiter)
        assert ratelimit.limiter() is app.extensions["ratelimit"]


def test_init_app_uses_redis_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_prefix: str
) -> None:
    monkeypatch.setenv(REDIS_URL_VAR, REDIS_URL)
    app = make_app(tmp_path)
    with app.app_context():
        found = ratelimit.limiter()
        assert isinstance(found, RedisRateLimiter)
        key = redis_prefix.removeprefix(ratelimit.KEY_PREFIX) + "k"
        assert found.hit(key, 1, 5)
        assert not found.hit(key, 1, 5)
        found.close()

"""A Redis outage is one clear line in the worker's and the beat's logs when it starts, and
one when it ends: no traceback every few seconds. Real Redis, worker and beat processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import redis as redis_client

from tests.support.processes import Process, Processes, RedisServer, clean_environ, free_port
from tests.support.tools import require_tool

DOWN = "The broker is unreachable"
BACK = "The broker is reachable again"
# Long enough for many beat ticks (one a second here) and several worker reconnections.
QUIET_OBSERVATION_SECONDS = 8


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never saw: {what}"
        time.sleep(0.2)


def connected_clients(url: str) -> int:
    with redis_client.Redis.from_url(url) as client:
        return len(client.client_list()) - 1  # less this one


def start(processes: Processes, name: str, args: list[str], env: dict[str, str]) -> Process:
    return processes.python(name, ["-m", "celery", "-A", "worker", *args], env)


def test_a_redis_outage_is_one_line_when_it_starts_and_one_when_it_ends(
    tmp_path: Path, processes: Processes, postgres_url: str
) -> None:
    redis = RedisServer(require_tool("redis-server"), free_port(), tmp_path / "redis", processes)
    redis.start()
    env = clean_environ(
        REPORTING_INSTANCE_PATH=str(tmp_path / "instance"),
        REPORTING_DATABASE_URL=postgres_url,
        REPORTING_REDIS_URL=redis.url,
        REPORTING_SWEEP_INTERVAL_SECONDS="1",
    )
    worker = start(
        processes,
        "worker",
        ["worker", "--pool", "threads", "--concurrency", "2", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        env,
    )  # fmt: skip
    schedule = str(tmp_path / "beat-schedule")
    beat = start(processes, "beat", ["beat", "--loglevel", "WARNING", "--schedule", schedule], env)
    logs = (worker, beat)
    # Both connected (the worker consumes, the beat has sent a sweep) before the outage.
    wait_until(lambda: connected_clients(redis.url) >= 2, "the worker and the beat connected")

    redis.shutdown()
    for process in logs:
        wait_until(lambda p=process: DOWN in p.output(), f"{process.name}: {DOWN}")
    time.sleep(QUIET_OBSERVATION_SECONDS)
    for process in logs:
        output = process.output()
        assert output.count(DOWN) == 1, output[-3000:]
        assert "Traceback" not in output and "Trying again" not in output, output[-3000:]

    redis.start()
    for process in logs:
        wait_until(lambda p=process: BACK in p.output(), f"{process.name}: {BACK}")
        output = process.output()
        assert output.count(DOWN) == 1 and output.count(BACK) == 1, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert process.running()

"""Looking for a canary everywhere a report could leak: the database, files, Redis."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from flask import Flask
from sqlalchemy import inspect, text

from reporting.infra import db

REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


def needles(canary: str) -> list[bytes]:
    """The canary as it could appear on disk: UTF-8, its ASCII half, UTF-16, JSON-escaped."""
    ascii_part = canary.split("-金")[0]
    return [
        canary.encode("utf-8"),
        ascii_part.encode("ascii"),
        canary.encode("utf-16-le"),
        json.dumps(canary).encode("ascii"),
    ]


# Who the reporter is, as the network and browser would tell: kept nowhere (invariant 4).
REMOTE_ADDR = "203.0.113.77"
FORWARDED_FOR = "198.51.100.23"
USER_AGENT = "Mozilla/5.0 (CanaryPhone; UA-7d1e4f)"
IDENTIFYING = {
    "REMOTE_ADDR": REMOTE_ADDR,
    "HTTP_X_FORWARDED_FOR": FORWARDED_FOR,
    "HTTP_USER_AGENT": USER_AGENT,
}


def assert_absent(data: bytes, canary: str, where: str) -> None:
    for needle in needles(canary):
        assert needle not in data, f"the canary is in clear in {where}"
    for value in IDENTIFYING.values():
        assert value.encode() not in data, f"{value!r} is stored in {where}"


def scan_files(root: Path, canary: str) -> int:
    count = 0
    for path in root.rglob("*"):
        if path.is_file():
            assert_absent(path.read_bytes(), canary, str(path))
            count += 1
    return count


def scan_database(app: Flask, canary: str) -> int:
    rows = 0
    with app.app_context():
        engine = db.database().engine
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    assert_absent(repr(tuple(row)).encode("utf-8"), canary, f"table {table}")
                    assert_absent(str(tuple(row)).encode("utf-8"), canary, f"table {table}")
                    rows += 1
    return rows


def redis_values(client: redis.Redis, key: bytes) -> list[bytes]:
    kind = client.type(key)
    if kind == b"string":
        return [client.get(key) or b""]
    if kind == b"list":
        return list(client.lrange(key, 0, -1))
    if kind == b"hash":
        return [b for pair in client.hgetall(key).items() for b in pair]
    if kind == b"set":
        return list(client.smembers(key))
    if kind == b"zset":
        return list(client.zrange(key, 0, -1))
    raise AssertionError(f"unexpected Redis type {kind!r}")


def scan_redis(client: redis.Redis, canary: str) -> int:
    keys = list(client.scan_iter())
    for key in keys:
        assert_absent(key, canary, "a Redis key")
        for value in redis_values(client, key):
            assert_absent(value, canary, f"Redis value of {key!r}")
    return len(keys)

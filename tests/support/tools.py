"""What a test needs from outside Python: the rule is to skip locally, but fail in CI.

A developer without, say, the stock `age` command still gets a useful run; CI (CI=true,
where .ci/run installs and starts everything) must never pass by skipping.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest
import redis


def unavailable(reason: str, remedy: str) -> NoReturn:
    """Skip the test because of `reason`; under CI=true fail it, saying `remedy`."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; {remedy}")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the tool's path; skip when it is missing locally, but fail in CI, which has it."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name!r} is not installed", ".ci/run must install it")
    return path


def require_module(name: str) -> ModuleType:
    """Import a module; skip when it is missing locally, but fail in CI, which has it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        unavailable(f"{name!r} cannot be imported: {error}", ".ci/run must install it")


def require_redis(url: str) -> None:
    """Skip when Redis is not running locally, but fail in CI, where .ci/run starts it."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as error:
        unavailable(f"Redis at {url} is not reachable: {error}", ".ci/run must start it")
    finally:
        client.close()

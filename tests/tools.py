"""Helpers for tests that need an external program, such as the stock `age` command."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str) -> str:
    """Return the tool's path; skip when it is missing locally, but fail in CI, which has it."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name!r} is not installed; .ci/run must install it")
        pytest.skip(f"{name!r} is not installed")
    return path

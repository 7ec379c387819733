"""Whatever a test needs from outside Python, missing, skips it locally but fails it in CI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.tools import require_module, require_redis, require_tool

MISSING = "no-such-tool-for-reporting-tests"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_present_tool_returns_its_path() -> None:
    assert require_tool("sh").endswith("/sh")


def test_present_module_is_imported() -> None:
    assert require_module("json").dumps([]) == "[]"


@pytest.mark.parametrize(
    "require",
    [
        lambda: require_tool(MISSING),
        lambda: require_module(MISSING),
        lambda: require_redis(UNREACHABLE_REDIS),
    ],
    ids=["tool", "module", "redis"],
)
@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        (None, pytest.skip.Exception),
        ("false", pytest.skip.Exception),
        ("true", pytest.fail.Exception),
    ],
)
def test_missing(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type, require: Callable[[], object]
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        require()

"""A missing external tool must skip a test locally but fail it in CI."""

from __future__ import annotations

import pytest

from tests.support.tools import require_tool

MISSING = "no-such-tool-for-reporting-tests"


def test_present_tool_returns_its_path() -> None:
    assert require_tool("sh").endswith("/sh")


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        (None, pytest.skip.Exception),
        ("false", pytest.skip.Exception),
        ("true", pytest.fail.Exception),
    ],
)
def test_missing_tool(monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        require_tool(MISSING)

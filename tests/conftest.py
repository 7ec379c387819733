"""Shared fixtures: a fresh app per test, with its instance folder in a temporary directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from reporting import create_app
from tests import tools


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """Build the app the way production does, but with its state kept in tmp_path."""
    return create_app({"TESTING": True, "INSTANCE_PATH": tmp_path / "instance"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Send requests to the app without a server."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invoke the app's CLI commands without a shell."""
    return app.test_cli_runner()


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Give tests `require_tool(name)`: skip locally when a tool is missing, fail in CI."""
    return tools.require_tool

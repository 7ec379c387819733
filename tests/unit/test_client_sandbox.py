"""The renderer's sandbox: no network, bounded memory and time, and nothing run without it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from caseworker_client import sandbox
from tests.support.tools import require_tool, unavailable


@pytest.fixture
def isolation() -> list[str]:
    """Skip (fail in CI) where this machine cannot make a network namespace."""
    require_tool("unshare")
    prefix = sandbox.isolation_prefix()
    if prefix is None:
        unavailable("this machine refuses network namespaces", "CI runs as root, where it works")
    return prefix


def python(code: str) -> list[str]:
    return [sys.executable, "-I", "-c", code]


CONNECT = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
    print("connected")
except OSError as error:
    print("refused", error.errno)
"""


@pytest.mark.usefixtures("isolation")
def test_the_isolated_program_cannot_reach_a_listener_on_this_machine() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = str(listener.getsockname()[1])
        # The same program outside the sandbox does connect: the test can fail.
        outside = subprocess.run([*python(CONNECT), port], capture_output=True, check=True).stdout
        assert outside.strip() == b"connected"
        inside = sandbox.run_isolated([*python(CONNECT), port], b"")
    assert inside.startswith(b"refused"), inside


@pytest.mark.usefixtures("isolation")
def test_the_isolated_program_sees_only_an_unconnected_loopback() -> None:
    code = "import socket; print(sorted(name for _, name in socket.if_nameindex()))"
    assert sandbox.run_isolated(python(code), b"").strip() == b"['lo']"
    routes = sandbox.run_isolated(["cat", "/proc/net/route"], b"").splitlines()
    assert routes[1:] == []  # a header, and no route anywhere


@pytest.mark.usefixtures("isolation")
def test_input_goes_in_and_output_comes_out_through_pipes() -> None:
    data = bytes(range(256)) * 4096
    assert sandbox.run_isolated(["cat"], data) == data


@pytest.mark.usefixtures("isolation")
def test_a_program_that_runs_too_long_is_killed() -> None:
    with pytest.raises(sandbox.SandboxTimeout, match="longer than 1 seconds"):
        sandbox.run_isolated(python("while True: pass"), b"", timeout=1)


@pytest.mark.usefixtures("isolation")
def test_memory_is_bounded_and_no_core_file_is_allowed() -> None:
    code = (
        "import resource; print(resource.getrlimit(resource.RLIMIT_CORE)); x = bytearray(400 << 20)"
    )
    with pytest.raises(sandbox.SandboxFailed, match="exit status 1"):
        sandbox.run_isolated(python(code), b"", memory_bytes=300 << 20)
    limits = sandbox.run_isolated(python(code.split("; x =")[0]), b"")
    assert limits.strip() == b"(0, 0)"


def test_nothing_runs_where_no_network_namespace_can_be_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no unshare on this PATH
    assert sandbox.isolation_prefix() is None
    marker = tmp_path / "ran"
    with pytest.raises(sandbox.NoIsolation, match="cannot be shown safely"):
        sandbox.run_isolated(["/usr/bin/touch", str(marker)], b"")
    assert not marker.exists()


@pytest.mark.usefixtures("isolation")
def test_the_program_gets_a_bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTING_CASEWORKER_PASSPHRASE", "secret")
    monkeypatch.setenv("TMPDIR", "/somewhere/private")
    code = "import os; print(sorted(os.environ.items()))"
    seen = sandbox.run_isolated(python(code), b"").decode()
    assert "secret" not in seen and "HOME" not in seen
    assert "('TMPDIR', '/somewhere/private')" in seen

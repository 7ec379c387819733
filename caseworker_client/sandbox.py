"""Running a program on a reporter's file with no network, bounded memory and a deadline.

A PDF reader is a large parser, and booby-trapped documents have long been used against
Uyghur and Tibetan groups. If one ever takes over the renderer, it must not be able to
call home with the caseworker's decrypted evidence: the renderer runs in a network
namespace of its own (Linux's `unshare`), where there is no interface but an unconnected
loopback. Where no such namespace can be made, nothing is run at all.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Sequence

from caseworker_client.errors import ClientError

TIMEOUT_SECONDS = 30.0
MEMORY_BYTES = 1024 * 1024 * 1024
_PROBE_SECONDS = 10.0
# The child gets this environment and nothing of the caller's (no tokens, no proxies, no HOME).
_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


class SandboxError(ClientError):
    """Hostile input could not be handled in isolation; the message says what to do."""


class NoIsolation(SandboxError):
    """This machine cannot give the program a network namespace of its own."""


class SandboxTimeout(SandboxError):
    """The program did not finish in time and was killed."""


class SandboxFailed(SandboxError):
    """The program exited with an error (unreadable input, out of memory, a crash)."""


def isolation_prefix() -> list[str] | None:
    """The command that puts a program in a network namespace of its own, if this machine
    allows one: `unshare --net` as root, else in a user namespace (`--map-root-user`)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    candidates = [[unshare, "--map-root-user", "--net"]]
    if os.geteuid() == 0:
        # Root can make a network namespace even where user namespaces are turned off.
        candidates.insert(0, [unshare, "--net"])
    for prefix in candidates:
        try:
            probe = subprocess.run(  # noqa: S603 (our own argv: unshare and true)
                [*prefix, "--", "true"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=_ENVIRONMENT,
                timeout=_PROBE_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def _limits(memory_bytes: int, cpu_seconds: int) -> None:
    """In the child before it starts: no core file (it would hold decrypted evidence), at
    most `memory_bytes` of address space, and a CPU-time backstop behind the deadline."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def run_isolated(
    argv: Sequence[str],
    stdin: bytes,
    *,
    timeout: float = TIMEOUT_SECONDS,
    memory_bytes: int = MEMORY_BYTES,
) -> bytes:
    """Run `argv` without network, feeding `stdin` through a pipe; returns its standard output.

    Input and output go through pipes only, so nothing of the input is written to disk on
    the way. Raises NoIsolation (and runs nothing) where no network namespace can be made.
    """
    prefix = isolation_prefix()
    if prefix is None:
        raise NoIsolation(
            "this computer cannot run the renderer without network access (Linux's `unshare` "
            "is missing or not allowed here), so it cannot be shown safely"
        )
    cpu_seconds = int(timeout) + 2
    # preexec_fn only calls setrlimit (no Python locks), which is what makes it safe even when
    # the desk's web server has other threads running.
    # The argv is ours (tool paths and fixed options); the reporter's bytes go only on stdin.
    process = subprocess.Popen(  # noqa: S603
        [*prefix, "--", *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # it may quote the input; nobody needs to read it
        env=_environment(),
        cwd="/",
        start_new_session=True,
        preexec_fn=lambda: _limits(memory_bytes, cpu_seconds),
    )
    try:
        output, _ = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise SandboxTimeout(
            f"it took longer than {timeout:g} seconds to draw, so the renderer was stopped"
        ) from None
    except BaseException:
        _kill(process)
        raise
    if process.returncode < 0:
        raise SandboxFailed(
            f"the renderer was stopped by signal {-process.returncode} (out of memory or time, "
            "or it crashed)"
        )
    if process.returncode != 0:
        raise SandboxFailed(
            f"the renderer stopped with an error (exit status {process.returncode})"
        )
    return output


def _environment() -> dict[str, str]:
    """The child's environment: _ENVIRONMENT, and the caller's TMPDIR if it has one (so that
    a temporary file, should the program ever make one, lands where the caller looks)."""
    temp = os.environ.get("TMPDIR")
    return {**_ENVIRONMENT, "TMPDIR": temp} if temp else dict(_ENVIRONMENT)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the program and anything it started (its own session), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()

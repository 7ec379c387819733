"""`flask caseworker create-admin` run as a real process, as an operator would at a terminal:
the password on standard input, the TOTP secret read from what it shows, a first code back."""

from __future__ import annotations

import base64
import os
import re
import select as selectors
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from crypto import totp


def read_until(process: subprocess.Popen[bytes], marker: bytes, timeout: float = 60) -> bytes:
    """What the process printed up to `marker` (failing if it exits or stalls first)."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, seen.decode(errors="replace")
        ready, _, _ = selectors.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, f"exited early:\n{seen.decode(errors='replace')}"
            seen += chunk
    return seen


def create_admin(
    command: Sequence[str], password: str, env: Mapping[str, str], cwd: Path
) -> tuple[bytes, str, str]:
    """Run a create-admin `command` (with --password-stdin) through enrolment; returns the
    TOTP secret, what was shown before the code was asked for, and the rest."""
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env),
        cwd=cwd,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(password.encode() + b"\n")
        process.stdin.flush()
        shown = read_until(process, b"Code from your app").decode()
        found = re.search(r"Secret: ([A-Z2-7]+)", shown)
        assert found, shown
        text = found.group(1)
        secret = base64.b32decode(text + "=" * (-len(text) % 8))
        process.stdin.write(totp.code_at(secret, time.time()).encode() + b"\n")
        process.stdin.close()
        rest = process.stdout.read().decode()
        assert process.wait(60) == 0, shown + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
    return secret, shown, rest

"""Running a command on a pseudo-terminal, answering its prompts as a person would."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Mapping
from pathlib import Path

import pytest


def run_on_terminal(
    command: list[str],
    answers: list[bytes],
    stdin_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run `command` with a pseudo-terminal as its controlling tty; each answer is typed
    after a prompt ending in ':'. Returns the transcript; a non-zero exit fails the test."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child
        if stdin_file is not None:
            os.dup2(os.open(stdin_file, os.O_RDONLY), 0)
        os.environ.update(env or {})
        os.execv(command[0], command)
    transcript = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while True:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail(f"no answer from the command: {transcript!r}")
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        transcript += data
        if pending and transcript.rstrip().endswith(b":"):
            # getpass flushes terminal input (TCSAFLUSH) as it turns echo off and on:
            # an answer typed too early is thrown away, as it would be for a person.
            time.sleep(0.3)
            os.write(fd, pending.pop(0) + b"\n")
            transcript += b"\n"
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    return transcript

"""Saving decrypted attachments under names that a reporter (or an attacker) cannot abuse.

The reporter's browser sent the file name, so it is untrusted: no folders
(`../../.bashrc`), no control characters, no hidden files, no overwriting an
existing file, a bounded length, and the same folder every time.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import IO

MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*\u202a-\u202e\u2066-\u2069]')


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A plain file name from an untrusted one: last path part only, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension[:16]
    stem = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip()
    name = f"{stem}.{extension}" if stem and extension else (stem or extension)
    return name or fallback


def with_extension(name: str, extension: str) -> str:
    """`name` with its extension replaced (a re-encoded image gets its real format's)."""
    stem, dot, _ = name.rpartition(".")
    return (stem if dot and stem else name) + extension


def private_output_folder(folder: Path) -> Path:
    """The folder to save into, made 0700 if it is new (evidence is for the caseworker only)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def save_new_file(folder: Path, name: str, fill: Callable[[IO[bytes]], object]) -> Path:
    """Create a new 0600 file in `folder` (never replacing one) and let `fill` write it."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    for number in range(1, 1000):
        candidate = name if number == 1 else f"{stem} ({number}){dot}{extension}"
        path = folder / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(f"too many files called {name} in {folder}")

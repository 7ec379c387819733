"""Durable, atomic file writes: a file appears whole under its name, or not at all.

Everything this project keeps on disk is ciphertext or key material (age files, keys,
webhook secrets, the instance secret, queued task messages): a crash must leave either
the old file or the new one, never a torn one, and what a rename made visible must still
be there after a power cut. So every write goes to a hidden temporary name in the same
folder (a rename within one folder is atomic), is synced, renamed or linked into place,
and the folder is synced too (or the rename itself may be lost).

It lives in `crypto/` because that is the one package every other may import: the web
service, the worker, the caseworker client and the NGO's receiver (which may import only
`crypto/` and `protocol/`) and the age command line all write such files. It imports
nothing of ours and nothing that is slow to load (the age command starts per file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

PARTIAL_SUFFIX = ".part"


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename, link or unlink in `folder` survive a crash."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], *, replace: bool = True, mode: int = 0o600
) -> Iterator[BinaryIO]:
    """A new file (`mode`, 0600 unless said) to write; it takes `path`'s name only when the
    block ends without an error, synced, and the folder synced after it.

    With `replace=False` an existing `path` is never replaced: FileExistsError, and the
    other file stays (link() refuses atomically, so two writers racing keep the first).
    On any error the temporary file is deleted and `path` is as it was.
    """
    target = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(target))
    # Hidden and ending in .part, so nothing listing the folder takes it for a finished file.
    temporary = os.path.join(folder, f".{name}.{os.urandom(8).hex()}{PARTIAL_SUFFIX}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
        fsync_folder(folder)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)

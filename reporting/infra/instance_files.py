"""What a seized disk says about the files under the instance path: whose they are, and when.

Private: every process of the service starts with umask 077 and creates its folders 0700
and files 0600 explicitly, so no other user of the machine reads keys, the database or
ciphertext, whatever umask it was started with (`flask doctor` checks).

Dated to the day: a file's modification and access times would give each report's
arrival to the nanosecond, and the database ties each blob to its report; the threat
model keeps dates only (docs/design.md). So each file and folder the service changes is
set back to midnight UTC of the day once changed, and blobs are read without touching
their access time. What cannot be set (a file's ctime, the kernel's own record of the
last change) is in deploy/THREAT-MODEL.md.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path
from typing import BinaryIO

PRIVATE_UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600
DAY_SECONDS = 86400


def keep_private() -> None:
    """Make everything this process creates from now on private to the service user."""
    os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> Path:
    """Create `path` and any missing parents, each 0700 (mkdir's `parents` would make the
    parents with the process's default mode instead)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file 0600 if there is none, so a library that opens it later (SQLite
    creates its database with the process's default mode) finds it private already."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def settle_below(root: Path, *, skip_files_in: frozenset[Path] = frozenset()) -> None:
    """At start-up: take away group and other access from `root` and everything below it,
    and set their times to the day (made by an older version, by hand, or before a restart).
    Files directly in `skip_files_in` were made private and dated at their commit (blobs),
    so a large store is not gone through file by file."""
    if not root.exists():
        return
    for folder, _subfolders, names in os.walk(root):
        base = Path(folder)
        _restrict(base, FOLDER_MODE)
        if base not in skip_files_in:
            for name in names:
                _restrict(base / name, FILE_MODE)
                to_the_day(base / name)
    # Folders last, deepest first: settling what is inside one does not change its times,
    # but walking it sets its access time.
    folders = [Path(folder) for folder, _, _ in os.walk(root)]
    to_the_day(*reversed(folders))


def _restrict(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return
        if stat.S_IMODE(info.st_mode) & ~mode:
            os.chmod(path, stat.S_IMODE(info.st_mode) & mode)


def start_of_day(now: float | None = None) -> int:
    """Midnight UTC of the day `now` falls in: the only time a stored file shows."""
    moment = time.time() if now is None else now
    return int(moment) // DAY_SECONDS * DAY_SECONDS


def to_the_day(*paths: Path) -> None:
    """Set the access and modification times of `paths` to midnight UTC of today."""
    day = start_of_day()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (day, day), follow_symlinks=False)


def open_for_reading(path: Path) -> BinaryIO:
    """Open a file without recording when it was read (O_NOATIME; the owner may use it)."""
    flags = os.O_RDONLY | getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:  # not the file's owner (an operator reading as another user)
        fd = os.open(path, os.O_RDONLY)
    return os.fdopen(fd, "rb")

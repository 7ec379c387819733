"""crypto.files.atomic_write: a file appears whole under its name or not at all.

What matters: the new file is private (0600) and holds exactly what was written; an error
in the block leaves the old file (or no file) and no temporary file behind; without
`replace` an existing file is never touched.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crypto.files import atomic_write


def test_writes_a_private_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "key.txt"
    with atomic_write(target) as file:
        file.write(b"first")
        assert not target.exists()  # nothing under the name until the block ends
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with atomic_write(target) as file:
        file.write(b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["key.txt"]


def test_an_error_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "key.txt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as file:
        file.write(b"half of the new")
        raise RuntimeError("cut off")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["key.txt"]


def test_without_replace_an_existing_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    with atomic_write(target, replace=False) as file:
        file.write(b"mine")
    with pytest.raises(FileExistsError), atomic_write(target, replace=False) as file:
        file.write(b"theirs")
    assert target.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]

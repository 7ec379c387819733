"""Temporary files under watch: a private temp folder to scan afterwards, and a record of
every temporary file the server side opens (tests/app/test_canary.py,
test_language_switch_canary.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import werkzeug.formparser

TEMPFILE_FUNCTIONS = ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp")


def private_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp folder, and a record of every temporary file opened through tempfile."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def record_temp_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Werkzeug's default sink is a SpooledTemporaryFile (on disk via O_TMPFILE, invisible),
    so scanning the folder is not enough: record every temp file the server side opens,
    through tempfile and through the names Werkzeug's form parser imported from it."""
    calls: list[str] = []
    for module in (tempfile, werkzeug.formparser):
        for name in TEMPFILE_FUNCTIONS:
            original = getattr(module, name, None)
            if original is None:
                continue

            def spy(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
                calls.append(_name)
                return _original(*args, **kw)

            monkeypatch.setattr(module, name, spy)
    return calls

"""Progress on stderr for long command-line runs, only when someone is watching."""

from __future__ import annotations

import os
import sys
import time
from typing import BinaryIO, TextIO

_MIN_SIZE = 32 * 1024 * 1024
_INTERVAL = 0.5


class Progress:
    """Prints `label: 42% (1.2 GB of 2.9 GB)` at most twice a second."""

    def __init__(self, total: int | None, label: str, stream: TextIO | None) -> None:
        self._total = total
        self._label = label
        self._stream = stream
        self._done = 0
        self._last = 0.0

    @classmethod
    def for_file(cls, f: BinaryIO, label: str, stream: TextIO = sys.stderr) -> Progress:
        """Silent unless stderr is a terminal and the input is a large regular file."""
        total = None
        try:
            st = os.fstat(f.fileno())
            total = st.st_size if st.st_size >= _MIN_SIZE else None
        except (OSError, ValueError, AttributeError):
            pass
        watching = total is not None and stream.isatty()
        return cls(total, label, stream if watching else None)

    def advance(self, n: int) -> None:
        self._done += n
        now = time.monotonic()
        if self._stream and self._total and now - self._last >= _INTERVAL:
            self._last = now
            pct = min(100, self._done * 100 // self._total)
            self._stream.write(
                f"\r{self._label}: {pct}% ({self._done / 1e9:.1f} GB of {self._total / 1e9:.1f} GB)"
            )
            self._stream.flush()

    def done(self) -> None:
        if self._stream and self._last:
            self._stream.write(f"\r{self._label}: done{' ' * 30}\n")
            self._stream.flush()

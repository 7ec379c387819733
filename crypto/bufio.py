"""A small buffered reader over any object with `read(n)`.

The header is parsed line by line and the payload read in whole chunks from the
same stream, so this keeps what was read ahead instead of losing it, and turns
short reads (pipes, sockets, upload streams) into full ones.
"""

from __future__ import annotations

from typing import Protocol


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class Source:
    """Reads lines, exact-size blocks and peeks from a byte stream."""

    _BLOCK = 16 * 1024

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self._buf = bytearray()
        self._eof = False

    def _fill(self, size: int) -> None:
        while not self._eof and len(self._buf) < size:
            data = self._raw.read(max(size - len(self._buf), self._BLOCK))
            if not data:
                self._eof = True
            else:
                self._buf += data

    def peek(self, size: int) -> bytes:
        """Return up to `size` bytes without consuming them."""
        self._fill(size)
        return bytes(self._buf[:size])

    def readline(self, limit: int) -> bytes:
        """Return one line with its LF, or fewer bytes at EOF or past `limit`."""
        start = 0
        while True:
            end = self._buf.find(b"\n", start, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buf) >= limit or self._eof:
                return self._take(min(len(self._buf), limit))
            start = len(self._buf)
            self._fill(len(self._buf) + 1)

    def read(self, size: int) -> bytes:
        """Return exactly `size` bytes, fewer only at EOF."""
        self._fill(size)
        return self._take(min(size, len(self._buf)))

    def read_block(self, size: int) -> bytearray:
        """Like read(), into one fresh buffer, reading straight into it where possible.

        Payload batches are a megabyte: this saves two copies of each.
        """
        out = bytearray(size)
        filled = min(size, len(self._buf))
        out[:filled] = self._buf[:filled]
        del self._buf[:filled]
        readinto = getattr(self._raw, "readinto", None)
        view = memoryview(out)
        while filled < size and not self._eof:
            if readinto is not None:
                got = readinto(view[filled:])
            else:
                data = self._raw.read(size - filled)
                got = len(data)
                view[filled : filled + got] = data
            if not got:
                self._eof = True
            filled += got or 0
        view.release()
        del out[filled:]
        return out

    def _take(self, size: int) -> bytes:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

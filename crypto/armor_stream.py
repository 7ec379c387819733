"""ASCII armor: strict PEM with the label AGE ENCRYPTED FILE.

Strictness matters: a lenient armor parser (extra headers, loose base64,
garbage around the block) would make armored files malleable.
"""

from __future__ import annotations

import base64
import binascii

from . import b64
from .bufio import Readable, Source
from .errors import ArmorError
from .stream import BytesLike, Writable

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS_PER_LINE = 64
BYTES_PER_LINE = COLUMNS_PER_LINE // 4 * 3
MAX_WHITESPACE = 1024
_WHITESPACE = b" \t\r\n\v\f"
_FAST_LINES = 16 * 1024  # lines decoded per batch: 768 KiB of plaintext


def looks_armored(prefix: bytes) -> bool:
    """Whether a file starting with `prefix` should be read as armored.

    A binary age file starts with "age-encryption.org/", never with dashes.
    """
    return prefix.lstrip(_WHITESPACE).startswith(b"-----")


class ArmorWriter:
    """Writes a PEM block around the bytes written to it."""

    def __init__(self, sink: Writable) -> None:
        self._sink = sink
        self._pending = bytearray()
        self._sink.write(BEGIN + b"\n")

    def write(self, data: BytesLike) -> int:
        self._pending += data
        whole = len(self._pending) // BYTES_PER_LINE * BYTES_PER_LINE
        if whole:
            self._sink.write(_wrap(base64.b64encode(self._pending[:whole])))
            del self._pending[:whole]
        return len(data)

    def close(self) -> None:
        """Write the last (maybe short) line and the END line."""
        if self._pending:
            self._sink.write(_wrap(base64.b64encode(self._pending)))
            self._pending = bytearray()
        self._sink.write(END + b"\n")


def _wrap(encoded: bytes) -> bytes:
    """Cut base64 into 64-column lines, a column at a time rather than a line at a time."""
    lines, rest = divmod(len(encoded), COLUMNS_PER_LINE)
    width = COLUMNS_PER_LINE + 1
    out = bytearray(lines * width)
    for column in range(COLUMNS_PER_LINE):
        out[column::width] = encoded[column : lines * COLUMNS_PER_LINE : COLUMNS_PER_LINE]
    out[COLUMNS_PER_LINE::width] = b"\n" * lines
    if rest:
        out += encoded[lines * COLUMNS_PER_LINE :] + b"\n"
    return bytes(out)


class ArmorReader:
    """Decodes a PEM block as a stream, one 48-byte line at a time."""

    def __init__(self, raw: Readable) -> None:
        self._src = Source(raw)
        self._started = False
        self._done = False
        self._unread = b""
        # Lines to take one at a time after the fast path gave up on them, so a
        # bad line deep in a block costs one retry, not one per line before it.
        self._slow_lines = 0

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` decoded bytes; b"" once the END line was read."""
        if not self._started:
            self._read_begin()
        out = bytearray()
        while (size < 0 or len(out) < size) and not (self._done and not self._unread):
            if not self._unread:
                fast = self._read_full_lines() if not self._slow_lines else b""
                self._unread = fast or self._read_data_line()
            take = len(self._unread) if size < 0 else size - len(out)
            out += self._unread[:take]
            self._unread = self._unread[take:]
        return bytes(out)

    def _line(self) -> bytes:
        line = self._src.readline(COLUMNS_PER_LINE + 3)
        if not line:
            raise ArmorError("armor ends before its END line")
        if not line.endswith(b"\n") and len(line) > COLUMNS_PER_LINE + 1:
            raise ArmorError("armor line is too long")
        line = line.removesuffix(b"\n")
        return line.removesuffix(b"\r")

    def _read_full_lines(self) -> bytes:
        """Decode a run of plain 64-column LF lines in one go: the common case, made fast.

        Anything else (a short or padded line, CRLF, the END line, an error) is
        left to the line-by-line path, which owns the error messages.
        """
        width = COLUMNS_PER_LINE + 1
        block = self._src.peek(_FAST_LINES * width)
        ends = block[COLUMNS_PER_LINE::width]
        lines = len(block) // width
        good = len(ends) - len(ends.lstrip(b"\n"))
        lines = min(lines, good)
        if not lines:
            return b""
        block = block[: lines * width]
        text = block.replace(b"\n", b"")
        try:
            if len(text) != lines * COLUMNS_PER_LINE or b"=" in text or b"\r" in text:
                raise ValueError("not plain full lines")
            data = base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            self._slow_lines = lines
            return b""
        self._src.read(len(block))
        return data

    def _read_begin(self) -> None:
        skipped = 0
        while True:
            line = self._src.readline(MAX_WHITESPACE + 1)
            if not line:
                raise ArmorError("armor has no BEGIN line")
            if not line.strip(_WHITESPACE):
                skipped += len(line)
                if skipped > MAX_WHITESPACE:
                    raise ArmorError("too much whitespace before the armor")
                continue
            if line.removesuffix(b"\n").removesuffix(b"\r") != BEGIN:
                raise ArmorError("armor does not start with the AGE ENCRYPTED FILE BEGIN line")
            self._started = True
            return

    def _read_data_line(self) -> bytes:
        self._slow_lines = max(0, self._slow_lines - 1)
        line = self._line()
        if line == END:
            self._finish()
            return b""
        if not line:
            raise ArmorError("empty line inside the armor")
        if len(line) > COLUMNS_PER_LINE:
            raise ArmorError("armor line is too long")
        data = b64.decode_padded(line)
        if data is None:
            raise ArmorError("armor is not canonical padded base64")
        if len(data) < BYTES_PER_LINE:
            if self._line() != END:
                raise ArmorError("a short armor line must be followed by the END line")
            self._finish()
        return data

    def _finish(self) -> None:
        self._done = True
        rest = self._src.read(MAX_WHITESPACE + 1)
        if rest.strip(_WHITESPACE):
            raise ArmorError("data after the armor's END line")
        if len(rest) > MAX_WHITESPACE:
            raise ArmorError("too much whitespace after the armor")

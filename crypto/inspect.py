"""Checking that bytes made elsewhere are a well-formed age v1 file, without any key.

The server stores ciphertext that the caseworker client made (replies, notes,
escalations). It cannot decrypt them, but it can refuse what is plainly not an
age file, before a byte of it reaches the disk: a client bug that uploads
plaintext must be stopped at the first line, not stored. What is checked:

- the header, with the same strict parser that decryption uses (`format.py`);
- that it is not passphrase-encrypted (no caseworker key would open it);
- the payload's length: a 16-byte nonce, then whole 64 KiB chunks and a final
  chunk that is not empty (unless it is the only one) and holds at least a tag.

What cannot be checked without a key: that the chunks authenticate, or whom
the file is encrypted to.
"""

from __future__ import annotations

import io
from typing import NamedTuple

from .armor_stream import ArmorReader, looks_armored
from .bufio import Source
from .errors import AgeError, HeaderError, PayloadError
from .format import MAC_PREFIX, MAX_HEADER_SIZE, VERSION_LINE, parse_header
from .primitives import TAG_SIZE
from .stream import ENCRYPTED_CHUNK_SIZE

NONCE_SIZE = 16
_SCRYPT = "scrypt"


class AgeFileInfo(NamedTuple):
    """What a key-less look at an age file can tell."""

    stanza_types: tuple[str, ...]
    header_size: int
    payload_size: int

    @property
    def size(self) -> int:
        return self.header_size + self.payload_size

    @property
    def plaintext_size(self) -> int:
        """The plaintext's length: the payload less its nonce and one tag per chunk (a key
        is not needed to know it, which is why what is encrypted must be padded first)."""
        chunks = -(-(self.payload_size - NONCE_SIZE) // ENCRYPTED_CHUNK_SIZE)
        return self.payload_size - NONCE_SIZE - max(chunks, 1) * TAG_SIZE


class AgeFileCheck:
    """Checks an age file as its bytes pass through, a write at a time.

    `feed` raises as soon as the bytes cannot be an age file (the first line is
    enough for plaintext); it returns the bytes that may be passed on, which is
    nothing until the whole header has arrived and parsed. `finish` checks the
    payload's length and returns what was learnt.
    """

    def __init__(self) -> None:
        self._head: bytearray | None = bytearray()
        self.stanza_types: tuple[str, ...] = ()
        self.header_size = 0
        self.payload_size = 0
        self.header_bytes = b""

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Take more bytes; returns those that are known to belong to a good file so far."""
        if self._head is None:
            self.payload_size += len(data)
            return bytes(data)
        self._head += data
        self._check_start()
        end = _header_end(self._head)
        if end < 0:
            if len(self._head) > MAX_HEADER_SIZE:
                raise HeaderError("header is too large")
            return b""
        self._parse(bytes(self._head[:end]))
        rest = bytes(self._head[end:])
        self._head = None
        self.payload_size = len(rest)
        return bytes(self.header_bytes) + rest

    def finish(self) -> AgeFileInfo:
        """Check what arrived is whole; the file's shape, or an AgeError saying what is wrong."""
        if self._head is not None:
            # The header never ended: let the parser say how (empty, truncated, not age).
            parse_header(Source(io.BytesIO(bytes(self._head))))
            raise HeaderError("header is truncated")
        _check_payload_size(self.payload_size)
        return AgeFileInfo(self.stanza_types, self.header_size, self.payload_size)

    def _check_start(self) -> None:
        """Refuse early what does not start like an age file (plaintext, say)."""
        assert self._head is not None
        start = bytes(self._head[: len(VERSION_LINE)])
        if not VERSION_LINE.startswith(start):
            if looks_armored(start):
                raise HeaderError("the file is armored: send the binary age file")
            raise HeaderError("not an age file (no age-encryption.org/v1 header)")

    def _parse(self, header: bytes) -> None:
        parsed = parse_header(Source(io.BytesIO(header)))
        types = tuple(s.type for s in parsed.stanzas)
        if _SCRYPT in types:
            raise HeaderError(
                "the file is encrypted with a passphrase: encrypt it to the recipients' keys"
            )
        self.stanza_types = types
        self.header_size = len(header)
        self.header_bytes = header


def _header_end(head: bytearray) -> int:
    """The length of the header once its MAC line (the first line starting `---`) is whole."""
    start = head.find(b"\n" + MAC_PREFIX)
    if start < 0:
        return -1
    newline = head.find(b"\n", start + 1)
    return -1 if newline < 0 else newline + 1


def _check_payload_size(size: int) -> None:
    if size < NONCE_SIZE + TAG_SIZE:
        raise PayloadError("file is truncated: the payload is missing or too short")
    full, last = divmod(size - NONCE_SIZE, ENCRYPTED_CHUNK_SIZE)
    if last == 0:
        return  # the final chunk is a full one
    if last < TAG_SIZE or (last == TAG_SIZE and full > 0):
        raise PayloadError("file is truncated: the final chunk is cut short")


def check_age_file(data: bytes) -> AgeFileInfo:
    """Check a whole binary age file in memory."""
    check = AgeFileCheck()
    check.feed(data)
    return check.finish()


def binary_age_file(data: bytes | str) -> bytes:
    """The binary age file in `data`, armored or not, checked; raises an AgeError if it is
    not one (a truncated armor, a cut-off payload, plaintext)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if looks_armored(raw[:2048]):
        raw = ArmorReader(io.BytesIO(raw)).read()
    check_age_file(raw)
    return raw


__all__ = [
    "AgeError",
    "AgeFileCheck",
    "AgeFileInfo",
    "binary_age_file",
    "check_age_file",
]

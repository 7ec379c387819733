"""The age v1 header: version line, recipient stanzas, MAC line.

The parser is strict on purpose: every accepted header re-serialises to the
same bytes, so two implementations can never disagree on what a header means.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from . import b64
from .bufio import Source
from .errors import HeaderError

VERSION_LINE = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
STANZA_PREFIX = b"-> "
MAC_PREFIX = b"---"
COLUMNS_PER_LINE = 64
MAC_SIZE = 32
# Far above any real header (a post-quantum stanza is about 1.6 KB), low enough
# that a hostile upload cannot make the parser buffer megabytes.
MAX_HEADER_SIZE = 1 << 20


class Stanza(NamedTuple):
    """One recipient stanza: its type, further arguments and binary body."""

    type: str
    args: tuple[str, ...]
    body: bytes


class Header(NamedTuple):
    """A parsed header and the exact bytes its MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes


def _is_valid_argument(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= c <= 0x7E for c in arg)


def encode_stanza(stanza: Stanza) -> bytes:
    """Serialise a stanza; the body always ends with a short (maybe empty) line."""
    for arg in (stanza.type, *stanza.args):
        if not _is_valid_argument(arg.encode("ascii", "replace")):
            raise ValueError(f"invalid stanza argument {arg!r}")
    out = bytearray(b"-> " + " ".join((stanza.type, *stanza.args)).encode("ascii") + b"\n")
    body = b64.encode_raw(stanza.body)
    for i in range(0, len(body) + 1, COLUMNS_PER_LINE):
        out += body[i : i + COLUMNS_PER_LINE] + b"\n"
    return bytes(out)


def encode_mac_input(stanzas: Iterable[Stanza]) -> bytes:
    """The header up to and including `---`: what the MAC is computed over."""
    return VERSION_LINE + b"".join(encode_stanza(s) for s in stanzas) + MAC_PREFIX


def encode_header(stanzas: Iterable[Stanza], mac: bytes) -> bytes:
    """The full header, ready to be followed by the payload."""
    return encode_mac_input(stanzas) + b" " + b64.encode_raw(mac) + b"\n"


class _LineReader:
    """Reads header lines and keeps every byte for the MAC."""

    def __init__(self, src: Source) -> None:
        self._src = src
        self.consumed = bytearray()

    def line(self) -> bytes:
        remaining = MAX_HEADER_SIZE - len(self.consumed)
        line = self._src.readline(remaining)
        if not line.endswith(b"\n"):
            if len(line) >= remaining:
                raise HeaderError("header is too large")
            raise HeaderError("header is truncated" if self.consumed or line else "file is empty")
        self.consumed += line
        return line[:-1]


def parse_header(src: Source) -> Header:
    """Read a header from `src`, leaving the stream at the payload's first byte."""
    reader = _LineReader(src)
    version = reader.line()
    if version + b"\n" != VERSION_LINE:
        if version.startswith(VERSION_PREFIX):
            raise HeaderError("unsupported age format version (this reads v1 only)")
        raise HeaderError("not an age file (no age-encryption.org/v1 header)")
    stanzas: list[Stanza] = []
    while True:
        line = reader.line()
        if line.startswith(MAC_PREFIX):
            mac = _parse_mac_line(line)
            if not stanzas:
                raise HeaderError("header has no recipient stanza")
            mac_input = bytes(reader.consumed[: -len(line) - 1 + len(MAC_PREFIX)])
            return Header(tuple(stanzas), mac, mac_input)
        if not line.startswith(STANZA_PREFIX):
            raise HeaderError("malformed header line (expected a stanza or the MAC)")
        stanzas.append(_parse_stanza(line, reader))


def _parse_mac_line(line: bytes) -> bytes:
    if not line.startswith(MAC_PREFIX + b" "):
        raise HeaderError("malformed MAC line")
    mac = b64.decode_raw(line[len(MAC_PREFIX) + 1 :])
    if mac is None or len(mac) != MAC_SIZE:
        raise HeaderError("malformed MAC line")
    return mac


def _parse_stanza(arg_line: bytes, reader: _LineReader) -> Stanza:
    args = arg_line[len(STANZA_PREFIX) :].split(b" ")
    if not all(_is_valid_argument(a) for a in args):
        raise HeaderError("malformed stanza arguments")
    body = bytearray()
    while True:
        line = reader.line()
        if len(line) > COLUMNS_PER_LINE:
            raise HeaderError("stanza body line is too long")
        chunk = b64.decode_raw(line)
        if chunk is None:
            raise HeaderError("stanza body is not canonical base64")
        body += chunk
        if len(line) < COLUMNS_PER_LINE:
            break
    decoded = [a.decode("ascii") for a in args]
    return Stanza(decoded[0], tuple(decoded[1:]), bytes(body))

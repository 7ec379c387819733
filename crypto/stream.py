"""The STREAM payload: 64 KiB chunks sealed with ChaCha20-Poly1305.

Chunk nonces are an 11-byte big-endian counter and a final-chunk flag, so
chunks cannot be reordered, dropped or appended without detection. Work is
done a batch of chunks at a time so that memory stays constant whatever the
file size, and a batch can use several cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .bufio import Source
from .errors import PayloadError
from .parallel import map_ordered
from .primitives import TAG_SIZE

CHUNK_SIZE = 64 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
BATCH_CHUNKS = 16
_MAX_COUNTER = 1 << 88


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _MAX_COUNTER:
        raise PayloadError("file is too large for the STREAM counter")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class PayloadWriter:
    """Encrypts what is written to it and writes the chunks to `sink`."""

    def __init__(self, key: bytes, sink: Writable) -> None:
        self._aead = ChaCha20Poly1305(key)
        self._sink = sink
        self._buf = bytearray()
        self._counter = 0
        self._closed = False

    def write(self, data: bytes) -> int:
        """Buffer `data`; seal every chunk that is known not to be the last."""
        if self._closed:
            raise ValueError("write to a closed payload writer")
        self._buf += data
        # A chunk is sealed only once a byte after it exists: the final chunk
        # is flagged, and it may be a full 64 KiB.
        if len(self._buf) > BATCH_CHUNKS * CHUNK_SIZE:
            self._seal_full_chunks()
        return len(data)

    def _seal_full_chunks(self) -> None:
        count = max(0, (len(self._buf) - 1) // CHUNK_SIZE)
        base = self._counter
        with memoryview(self._buf) as view:

            def seal(i: int) -> bytes:
                chunk = view[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
                return self._aead.encrypt(_nonce(base + i, False), chunk, None)

            for start in range(0, count, BATCH_CHUNKS):
                batch = range(start, min(start + BATCH_CHUNKS, count))
                self._sink.write(b"".join(map_ordered(seal, batch)))
        del self._buf[: count * CHUNK_SIZE]
        self._counter += count

    def close(self) -> None:
        """Seal the final chunk (empty only if nothing at all was written)."""
        if self._closed:
            return
        self._seal_full_chunks()
        last = self._aead.encrypt(_nonce(self._counter, True), bytes(self._buf), None)
        self._sink.write(last)
        self._buf = bytearray()
        self._closed = True


def iter_plaintext(key: bytes, src: Source) -> Iterator[bytes]:
    """Yield each chunk's plaintext as soon as it authenticates.

    The reading rules mirror the Go reference so that every implementation
    agrees on which files are valid: a short chunk must be final, a full chunk
    may be final, nothing may follow the final chunk, and the stream may not
    end without one.
    """
    aead = ChaCha20Poly1305(key)
    counter = 0
    while True:
        data = src.read(BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE)
        at_eof = len(data) < BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE or not src.peek(1)
        if not data:
            raise PayloadError("file is truncated: the final chunk is missing")
        yield from _open_batch(aead, counter, data, at_eof)
        if at_eof:
            return
        counter += len(data) // ENCRYPTED_CHUNK_SIZE


def _open_chunk(
    aead: ChaCha20Poly1305, counter: int, last: bool, chunk: memoryview
) -> bytes | None:
    try:
        return aead.decrypt(_nonce(counter, last), chunk, None)
    except InvalidTag:
        return None


def _open_batch(aead: ChaCha20Poly1305, base: int, data: bytes, at_eof: bool) -> Iterator[bytes]:
    """Open a batch of chunks; full ones in parallel, assuming they are not final."""
    view = memoryview(data)
    size = ENCRYPTED_CHUNK_SIZE
    pieces = [view[i : i + size] for i in range(0, len(data), size)]
    full = [i for i, piece in enumerate(pieces) if len(piece) == size]
    opened = dict(
        zip(
            full,
            map_ordered(lambda i: _open_chunk(aead, base + i, False, pieces[i]), full),
            strict=True,
        )
    )
    for i, piece in enumerate(pieces):
        end_of_stream = at_eof and i == len(pieces) - 1
        plaintext = opened.get(i)
        last = plaintext is None
        if last:
            if len(piece) == TAG_SIZE and base + i > 0:
                raise PayloadError("the final chunk is empty")
            plaintext = _open_chunk(aead, base + i, True, piece)
        if plaintext is None:
            raise PayloadError("a payload chunk failed to authenticate (tampered or corrupt)")
        yield plaintext
        if last and not end_of_stream:
            raise PayloadError("trailing data after the final chunk")
        if end_of_stream and not last:
            raise PayloadError("file is truncated: the final chunk is missing")

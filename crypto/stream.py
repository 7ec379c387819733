"""The STREAM payload: 64 KiB chunks sealed with ChaCha20-Poly1305.

Chunk nonces are an 11-byte big-endian counter and a final-chunk flag, so
chunks cannot be reordered, dropped or appended without detection. Work is
done a batch of chunks at a time, so memory stays constant whatever the file
size; a batch is sealed or opened on the thread pool while the caller reads
the next input or writes the last output.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .bufio import Source
from .errors import PayloadError
from .parallel import Batch
from .primitives import TAG_SIZE

CHUNK_SIZE = 64 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
BATCH_CHUNKS = 16
BATCH_SIZE = BATCH_CHUNKS * CHUNK_SIZE
ENCRYPTED_BATCH_SIZE = BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE
# Batches in flight at once: enough to keep every core busy while the caller
# does I/O, few enough that memory stays a few megabytes.
PIPELINE_DEPTH = 3
_MAX_COUNTER = 1 << 88


BytesLike = bytes | bytearray | memoryview


class Writable(Protocol):
    def write(self, data: BytesLike, /) -> object: ...


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _MAX_COUNTER:
        raise PayloadError("file is too large for the STREAM counter")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _chunk_ranges(size: int, chunk: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk, size)) for start in range(0, size, chunk)]


class PayloadWriter:
    """Encrypts what is written to it and writes the chunks to `sink`, in order."""

    def __init__(self, key: bytes, sink: Writable) -> None:
        self._aead = ChaCha20Poly1305(key)
        self._sink = sink
        # Written data not sealed yet, kept as the caller's own (immutable)
        # bytes: a batch aligned with a write is sealed without a copy.
        self._parts: deque[memoryview] = deque()
        self._size = 0
        self._counter = 0
        self._in_flight: deque[tuple[Batch[None], bytearray]] = deque()
        self._closed = False

    def write(self, data: BytesLike) -> int:
        """Keep `data`; start sealing every batch that is known not to hold the last chunk."""
        if self._closed:
            raise ValueError("write to a closed payload writer")
        if not isinstance(data, bytes):
            data = bytes(data)  # sealed in the background: the caller may reuse its buffer
        if data:
            self._parts.append(memoryview(data))
            self._size += len(data)
        # Sealed only once a byte after it exists: the final chunk is flagged,
        # and it may be a full 64 KiB.
        while self._size > BATCH_SIZE:
            self._start(self._take(BATCH_SIZE), final=False)
        return len(data)

    def close(self) -> None:
        """Seal the rest, its last chunk flagged final (empty only if nothing was written)."""
        if self._closed:
            return
        self._closed = True
        self._start(self._take(self._size), final=True)

    def _take(self, size: int) -> memoryview:
        """Remove the first `size` bytes written: a view when they lie in one write."""
        pieces: list[memoryview] = []
        need = size
        while need:
            part = self._parts[0]
            piece = part[:need]
            pieces.append(piece)
            need -= len(piece)
            if len(piece) == len(part):
                self._parts.popleft()
            else:
                self._parts[0] = part[len(piece) :]
        self._size -= size
        if len(pieces) == 1:
            return pieces[0]
        return memoryview(b"".join(pieces))

    def _start(self, plaintext: memoryview, final: bool) -> None:
        ranges = _chunk_ranges(len(plaintext), CHUNK_SIZE) or [(0, 0)]
        base = self._counter
        self._counter += len(ranges)
        out = bytearray(len(plaintext) + TAG_SIZE * len(ranges))
        src, dst = plaintext, memoryview(out)
        last_index = len(ranges) - 1 if final else -1

        def seal(i: int) -> None:
            start, end = ranges[i]
            at = start + i * TAG_SIZE
            self._aead.encrypt_into(
                _nonce(base + i, i == last_index),
                src[start:end],
                None,
                dst[at : at + end - start + TAG_SIZE],
            )

        self._in_flight.append((Batch(seal, range(len(ranges))), out))
        self._flush(keep=PIPELINE_DEPTH - 1 if not final else 0)

    def _flush(self, keep: int = 0) -> None:
        """Write finished batches in order, until at most `keep` are still in flight."""
        while len(self._in_flight) > keep:
            batch, out = self._in_flight.popleft()
            batch.wait()
            self._sink.write(out)


def iter_plaintext(key: bytes, src: Source) -> Iterator[memoryview]:
    """Yield the plaintext of each batch of chunks once its chunks authenticate.

    The reading rules mirror the Go reference so that every implementation
    agrees on which files are valid: a short chunk must be final, a full chunk
    may be final, nothing may follow the final chunk, and the stream may not
    end without one. Later batches are read and opened while this one is
    yielded; nothing of them is released before its turn (a read error in
    them, such as bad armor, may surface before this one is released).
    """
    aead = ChaCha20Poly1305(key)
    in_flight: deque[tuple[_OpenBatch, bool]] = deque()
    counter = 0
    at_eof = False
    while True:
        # Keep the pool busy: read and start the next batches before releasing this one.
        while not at_eof and len(in_flight) < PIPELINE_DEPTH:
            data, at_eof = _read_batch(src)
            if not data:
                raise PayloadError("file is truncated: the final chunk is missing")
            in_flight.append((_OpenBatch(aead, counter, data), at_eof))
            counter += BATCH_CHUNKS
        if not in_flight:
            return
        batch, last_batch = in_flight.popleft()
        batch.wait()
        yield from batch.release(last_batch)


def _read_batch(src: Source) -> tuple[bytearray, bool]:
    data = src.read_block(ENCRYPTED_BATCH_SIZE)
    return data, len(data) < ENCRYPTED_BATCH_SIZE or not src.peek(1)


class _OpenBatch:
    """A batch of chunks being opened on the pool, assuming none is final."""

    def __init__(self, aead: ChaCha20Poly1305, base: int, data: bytearray) -> None:
        self._aead = aead
        self._base = base
        view = memoryview(data)
        self._pieces = [view[s:e] for s, e in _chunk_ranges(len(data), ENCRYPTED_CHUNK_SIZE)]
        self._out = memoryview(bytearray(len(self._pieces) * CHUNK_SIZE))
        self._full = [i for i, p in enumerate(self._pieces) if len(p) == ENCRYPTED_CHUNK_SIZE]
        self._batch = Batch(lambda i: self._open(i, False), self._full)
        self._opened: dict[int, memoryview | None] = {}

    def _open(self, i: int, last: bool) -> memoryview | None:
        piece = self._pieces[i]
        out = self._out[i * CHUNK_SIZE : i * CHUNK_SIZE + len(piece) - TAG_SIZE]
        try:
            self._aead.decrypt_into(_nonce(self._base + i, last), piece, None, out)
        except InvalidTag:
            return None
        return out

    def wait(self) -> None:
        self._opened = dict(zip(self._full, self._batch.wait(), strict=True))

    def release(self, at_eof: bool) -> Iterator[memoryview]:
        """Yield the plaintext of the chunks that pass, then raise at the first that fails.

        Chunks are opened into one buffer in order, so what passed is yielded as
        one view: the same bytes as chunk by chunk, with a sixteenth of the calls.
        """
        passed = 0
        error = None
        for i in range(len(self._pieces)):
            released, error = self._check(i, at_eof and i == len(self._pieces) - 1)
            passed += released
            if error:
                break
        if passed:
            yield self._out[:passed]
        if error:
            raise PayloadError(error)

    def _check(self, i: int, end_of_stream: bool) -> tuple[int, str | None]:
        """How many plaintext bytes chunk `i` releases, and the rule it breaks, if any.

        A chunk that authenticates is released even when it then breaks a rule
        (final but followed by more, or not final but at the end), as the Go
        reader releases it before it looks further.
        """
        piece = self._pieces[i]
        plaintext = self._opened.get(i)
        last = plaintext is None
        if last:
            if len(piece) == TAG_SIZE and self._base + i > 0:
                return 0, "the final chunk is empty"
            if len(piece) < TAG_SIZE:
                return 0, "the final chunk is too short"
            plaintext = self._open(i, True)
        if plaintext is None:
            return 0, "a payload chunk failed to authenticate (tampered or corrupt)"
        if last and not end_of_stream:
            return len(plaintext), "trailing data after the final chunk"
        if end_of_stream and not last:
            return len(plaintext), "file is truncated: the final chunk is missing"
        return len(plaintext), None

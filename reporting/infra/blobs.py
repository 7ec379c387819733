"""The blob store: one age file per document or attachment, written atomically.

A blob is written to a temporary name in the store's own folder (so rename is
atomic) and renamed into place only when the whole ciphertext has been written
and synced. Only ciphertext ever reaches the temporary file: the `Encryptor`
sits between the caller and the disk. Aborting deletes the temporary file.

Every file and folder here shows only the day it last changed (reporting/infra/instance_files.py):
a blob's times would otherwise give its report's arrival to the nanosecond.

A writer holds an advisory lock on its temporary file for as long as it is open, so a
sweep can tell an upload in progress (locked) from one whose process was killed (the
kernel released its lock): `sweep_partial_files` removes only the latter, once old.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from crypto import AgeError, Encryptor, Recipient, Sha256
from crypto.files import fsync_folder
from crypto.inspect import AgeFileCheck, AgeFileInfo
from protocol.padding import is_padded, padded_size
from reporting.infra.db import CommitUncertain
from reporting.infra.instance_files import FOLDER_MODE, open_for_reading, private_folder, to_the_day
from reporting.models.common import new_id

TEMP_FOLDER = ".tmp"
SUFFIX = ".age"
PARTIAL_SUFFIX = ".part"
# A partial file untouched this long, and locked by no writer, is left from a killed upload.
# The beat sweeps every PARTIAL_SWEEP_SECONDS, so one is gone within the sum (under an hour).
PARTIAL_MAX_AGE_SECONDS = 30 * 60
PARTIAL_SWEEP_SECONDS = 15 * 60
_PAD_CHUNK = 64 * 1024


class _Sink(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...

    def close(self) -> None: ...


class BlobStore:
    """Ciphertext files under one folder, named by random ids."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.temp = root / TEMP_FOLDER
        private_folder(self.temp)

    def path(self, blob_id: str) -> Path:
        """Where a blob lives; two-character fan-out keeps folders small."""
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("not a blob id")
        return self.root / blob_id[:2] / f"{blob_id}{SUFFIX}"

    def writer(
        self,
        recipients: Iterable[Recipient],
        *,
        pad_byte: bytes = b"\0",
        max_bytes: int | None = None,
        on_too_large: Callable[[], BaseException] | None = None,
    ) -> BlobWriter:
        """Start a new blob encrypted to `recipients`; nothing is visible until `commit()`."""
        return BlobWriter(self, recipients, pad_byte, max_bytes, on_too_large)

    def ciphertext_writer(
        self,
        *,
        max_bytes: int | None = None,
        on_too_large: Callable[[], BaseException] | None = None,
    ) -> CiphertextWriter:
        """Start a new blob for an age file made elsewhere (the caseworker client)."""
        return CiphertextWriter(self, max_bytes, on_too_large)

    def open(self, blob_id: str) -> BinaryIO:
        """Open a stored blob for reading (its ciphertext), leaving its access time alone."""
        return open_for_reading(self.path(blob_id))

    def read(self, blob_id: str) -> bytes:
        """A stored blob's whole ciphertext (for a delivery), leaving its access time alone."""
        with self.open(blob_id) as handle:
            return handle.read()

    def remove(self, blob_id: str) -> None:
        """Delete a blob, if it exists."""
        path = self.path(blob_id)
        path.unlink(missing_ok=True)
        to_the_day(path.parent)

    def ids(self) -> Iterator[str]:
        """Every stored blob id, for sweeps and for tests that check nothing is left over."""
        folders = self.folders()
        try:
            for folder in sorted(folders):
                for path in list(folder.glob(f"*{SUFFIX}")):
                    yield path.name.removesuffix(SUFFIX)
        finally:
            to_the_day(*folders)  # reading a folder sets its access time

    def folders(self) -> frozenset[Path]:
        """The fan-out folders blobs live in."""
        found = frozenset(p for p in self.root.glob("??") if p.is_dir())
        to_the_day(self.root)
        return found

    def temporary_files(self) -> list[Path]:
        """Temporary files still present (each an unfinished or abandoned write)."""
        found = sorted(self.temp.iterdir())
        to_the_day(self.temp)
        return found

    def sweep_partial_files(self, max_age_seconds: float = PARTIAL_MAX_AGE_SECONDS) -> int:
        """Delete the partial ciphertext of killed uploads; returns how many went.

        Only files unchanged for `max_age_seconds` whose lock no writer holds: a slow upload
        still in progress keeps its lock, however long it takes.
        """
        cutoff = time.time() - max_age_seconds
        removed = 0
        for path in self.temporary_files():
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except FileNotFoundError:
                continue  # finished or aborted meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink(missing_ok=True)
                removed += 1
            except BlockingIOError:
                continue  # a writer still holds it: an upload in progress
            finally:
                os.close(fd)
        to_the_day(self.temp)
        return removed


@contextmanager
def discarded_on_failure(
    writers: Iterable[BlobWriter] = (),
) -> Iterator[list[BlobWriter]]:
    """Write the blobs, then the rows: if the block fails, every blob in the list is deleted.

    The one way a stored thing (submission, reply, note, escalation) is kept whole or not
    at all: the blobs are committed under their final names before the transaction that
    inserts their rows, and any error in the block (a refusal, a rollback, Ctrl-C) deletes
    every blob written so far, committed or not, so no file outlives a refused change and no
    row points at a missing file. Append each blob to the yielded list as it is made.

    A `CommitUncertain` keeps them: the rows may be stored, so deleting the files could
    leave rows without ciphertext; an orphan sweep (`flask blobs sweep`) takes them if not.
    """
    written = list(writers)
    try:
        yield written
    except CommitUncertain:
        raise
    except BaseException:
        for writer in written:
            writer.abort()
        raise


class BlobWriter:
    """A writable file object that encrypts into a new blob.

    It accepts the calls Werkzeug's multipart parser makes on an upload sink:
    `write`, a `seek(0)` at the end of the part (which cannot rewind a
    ciphertext stream and is ignored), and `close()` at teardown, which aborts
    unless `commit()` has been called: an upload is kept only on purpose.
    """

    def __init__(
        self,
        store: BlobStore,
        recipients: Iterable[Recipient],
        pad_byte: bytes,
        max_bytes: int | None,
        on_too_large: Callable[[], BaseException] | None,
    ) -> None:
        if len(pad_byte) != 1:
            raise ValueError("the pad must be one byte")
        self.id = new_id()
        self.size = 0  # plaintext bytes written, before padding
        self._digest = Sha256()  # of those bytes: the reporter's original file, for the document
        self.stored_size = 0  # ciphertext bytes on disk, once committed
        self._store = store
        self._pad = pad_byte
        self._max = max_bytes
        self._on_too_large = on_too_large
        self._temp = store.temp / f"{self.id}{PARTIAL_SUFFIX}"
        self.committed = False
        fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # Held until the file is closed (or the process dies): "an upload is writing this".
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file = os.fdopen(fd, "wb")
        try:
            self._encryptor: _Sink | None = self._open(recipients)
        except BaseException:
            self.abort()
            raise

    def _open(self, recipients: Iterable[Recipient]) -> _Sink:
        return Encryptor(self._file, list(recipients))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt more plaintext; refuses to go beyond `max_bytes`."""
        if self._encryptor is None:
            raise ValueError("this blob is already committed or aborted")
        length = len(data)
        if self._max is not None and self.size + length > self._max:
            self.abort()
            raise (self._on_too_large() if self._on_too_large else ValueError("blob too large"))
        self.size += length
        self._digest.update(data)
        return self._encryptor.write(data)

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the plaintext written so far, before any padding."""
        return self._digest.hexdigest()

    def seek(self, offset: int, whence: int = 0) -> int:
        """Ignore the parser's rewind: the data is already encrypted on its way to disk."""
        return self.size

    def tell(self) -> int:
        return self.size

    def writable(self) -> bool:
        return self._encryptor is not None

    def readable(self) -> bool:
        return False

    def commit(self) -> int:
        """Pad, seal, sync and rename into place; returns the stored (ciphertext) size."""
        if self._encryptor is None:
            raise ValueError("this blob is already committed or aborted")
        try:
            self._finish_plaintext(self._encryptor)
            self._encryptor.close()
            self._encryptor = None
            self._file.flush()
            os.fsync(self._file.fileno())
            self.stored_size = self._file.tell()
            self._file.close()
            final = self._store.path(self.id)
            final.parent.mkdir(mode=FOLDER_MODE, exist_ok=True)
            os.rename(self._temp, final)
            to_the_day(final, final.parent, self._store.root, self._store.temp)
            fsync_folder(final.parent)
        except BaseException:
            self.abort()
            raise
        self.committed = True
        return self.stored_size

    def _finish_plaintext(self, encryptor: _Sink) -> None:
        """Before sealing: pad the plaintext to its bucket (CiphertextWriter checks instead)."""
        remaining = padded_size(self.size) - self.size
        block = self._pad * min(remaining, _PAD_CHUNK)
        while remaining > 0:
            remaining -= encryptor.write(block[:remaining])

    def abort(self) -> None:
        """Drop the blob: the temporary file goes, and a committed blob is deleted too."""
        self._encryptor = None  # its buffered plaintext is dropped with it, never written
        if not self._file.closed:
            self._file.close()
        self._temp.unlink(missing_ok=True)
        to_the_day(self._store.temp)
        if self.committed:
            self._store.remove(self.id)
            self.committed = False

    def close(self) -> None:
        """Teardown: anything not committed is discarded."""
        if not self.committed:
            self.abort()

    @property
    def closed(self) -> bool:
        return self._encryptor is None


class CiphertextWriter(BlobWriter):
    """A blob that stores an age file made elsewhere byte for byte, once it is checked.

    Its header is checked as it arrives and nothing reaches the disk before the
    whole header parsed, so plaintext sent by mistake is refused at its first line;
    the payload's length is checked at `commit()`, and so is the padding: the server
    cannot pad a file made elsewhere, so one whose plaintext is not at a padded size
    (`NotPadded`) is refused instead of stored.
    """

    def __init__(
        self,
        store: BlobStore,
        max_bytes: int | None,
        on_too_large: Callable[[], BaseException] | None,
    ) -> None:
        self.info: AgeFileInfo | None = None
        super().__init__(store, [], b"\0", max_bytes, on_too_large)

    def _open(self, recipients: Iterable[Recipient]) -> _Sink:
        return _CheckedCopy(self._file)

    def _finish_plaintext(self, encryptor: _Sink) -> None:
        """Before sealing: the copied age file must be whole and its plaintext padded."""
        assert isinstance(encryptor, _CheckedCopy)
        self.info = encryptor.check.finish()
        if not is_padded(self.info.plaintext_size):
            raise NotPadded(self.info.plaintext_size)


class NotPadded(AgeError):
    """An age file whose plaintext was not padded to a bucket: its size would say how long
    the reply, note or file is, which no stored file may (docs/design.md)."""

    def __init__(self, plaintext_size: int) -> None:
        super().__init__(
            f"its plaintext ({plaintext_size:,} bytes) was not padded before encryption; pad "
            f"it to {padded_size(plaintext_size):,} bytes (protocol/padding.py, as the "
            "reporting-caseworker client does)"
        )


class _CheckedCopy:
    """Passes bytes on to the file only once they are known to be part of an age file."""

    def __init__(self, file: BinaryIO) -> None:
        self.check = AgeFileCheck()
        self._file = file

    def write(self, data: bytes | bytearray | memoryview) -> int:
        passed = self.check.feed(data)
        if passed:
            self._file.write(passed)
        return len(data)

    def close(self) -> None:
        pass

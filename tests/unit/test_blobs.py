"""The blob store writes ciphertext only, atomically, and keeps nothing it was not told to."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import crypto
from protocol.padding import padded_size
from reporting.infra.blobs import BlobStore


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def identity() -> crypto.Identity:
    return crypto.generate_identity()


def test_commit_stores_padded_ciphertext_that_decrypts(store: BlobStore, identity) -> None:
    writer = store.writer([identity.recipient])
    writer.write(b"hello ")
    writer.write(memoryview(b"world"))
    size = writer.commit()

    path = store.path(writer.id)
    assert list(store.ids()) == [writer.id]
    assert path.stat().st_size == size
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    plaintext = crypto.decrypt(path.read_bytes(), [identity])
    assert len(plaintext) == padded_size(11)
    assert plaintext[:11] == b"hello world" and set(plaintext[11:]) == {0}
    assert store.temporary_files() == []


def test_documents_are_padded_with_spaces(store: BlobStore, identity) -> None:
    writer = store.writer([identity.recipient], pad_byte=b" ")
    writer.write(b'{"a":1}')
    writer.commit()
    plaintext = crypto.decrypt(store.path(writer.id).read_bytes(), [identity])
    assert plaintext.rstrip(b" ") == b'{"a":1}'


def test_temporary_file_holds_only_ciphertext_until_commit(store: BlobStore, identity) -> None:
    writer = store.writer([identity.recipient])
    secret = b"PLAINTEXT-MARKER" * 600_000  # beyond what the pipeline holds in memory
    writer.write(secret)
    [temporary] = store.temporary_files()
    data = temporary.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert b"PLAINTEXT-MARKER" not in data
    assert list(store.ids()) == []  # nothing visible before commit
    writer.commit()
    assert store.temporary_files() == []


@pytest.mark.parametrize("end", ["abort", "close"])
def test_abort_and_close_without_commit_leave_nothing(store: BlobStore, identity, end) -> None:
    writer = store.writer([identity.recipient])
    writer.write(b"x" * 200_000)
    getattr(writer, end)()
    assert store.temporary_files() == [] and list(store.ids()) == []
    with pytest.raises(ValueError):
        writer.write(b"more")


def test_close_after_commit_keeps_the_blob(store: BlobStore, identity) -> None:
    writer = store.writer([identity.recipient])
    writer.write(b"kept")
    writer.commit()
    writer.close()  # Werkzeug closes upload sinks at teardown
    assert list(store.ids()) == [writer.id]


def test_abort_after_commit_deletes_it(store: BlobStore, identity) -> None:
    """A submission whose database transaction fails removes blobs it already committed."""
    writer = store.writer([identity.recipient])
    writer.write(b"gone")
    writer.commit()
    writer.abort()
    assert list(store.ids()) == []


def test_the_parsers_rewind_is_ignored(store: BlobStore, identity) -> None:
    writer = store.writer([identity.recipient])
    writer.write(b"abc")
    assert writer.seek(0) == 3 and writer.tell() == 3
    writer.write(b"def")
    writer.commit()
    assert crypto.decrypt(store.path(writer.id).read_bytes(), [identity])[:6] == b"abcdef"


def test_writing_beyond_the_limit_aborts_with_the_given_error(store: BlobStore, identity) -> None:
    writer = store.writer(
        [identity.recipient], max_bytes=10, on_too_large=lambda: OverflowError("too big")
    )
    writer.write(b"0123456789")
    with pytest.raises(OverflowError, match="too big"):
        writer.write(b"!")
    assert store.temporary_files() == [] and list(store.ids()) == []


def test_no_recipients_leaves_no_temporary_file(store: BlobStore) -> None:
    with pytest.raises(crypto.EncryptionError):
        store.writer([])
    assert store.temporary_files() == []


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "A" * 32, "0" * 31, "g" * 32])
def test_paths_only_for_real_ids(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.path(bad)


def test_upload_parse_steps_fit_werkzeugs_form_memory_limit() -> None:
    """Werkzeug answers 413 when its parse buffer plus one read exceeds the form memory
    limit, so a read step of more than half the limit fails uploads at random."""
    from reporting.infra.config import FORM_FIELD_MAX_BYTES
    from reporting.intake.uploads import PARSE_BUFFER_BYTES

    assert PARSE_BUFFER_BYTES * 2 <= FORM_FIELD_MAX_BYTES

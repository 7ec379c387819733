"""crypto/inspect.py: a key-less check that bytes are a whole age v1 file.

The server stores the caseworker client's ciphertext as given, so this check is
what stops plaintext, armor cut short or a truncated upload from being stored.
"""

from __future__ import annotations

import pytest

import crypto
from crypto import ArmorError, HeaderError, PayloadError, ScryptRecipient
from crypto.inspect import AgeFileCheck, binary_age_file, check_age_file
from crypto.stream import ENCRYPTED_CHUNK_SIZE
from tests.support.age_vectors import all_vectors, load

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def identity() -> crypto.Identity:
    return crypto.generate_identity(post_quantum=False)


@pytest.fixture(scope="module")
def recipient(identity: crypto.Identity) -> crypto.Recipient:
    return identity.recipient  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("size", [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7])
def test_whole_files_of_every_shape_pass(recipient: crypto.Recipient, size: int) -> None:
    data = crypto.encrypt(b"p" * size, [recipient])
    info = check_age_file(data)
    assert info.stanza_types == ("X25519",)
    assert info.size == len(data)
    assert binary_age_file(data) == data


@pytest.mark.parametrize(
    "size", [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 16 * 1024, 3 * CHUNK + 7]
)
def test_the_plaintext_size_is_known_without_a_key(recipient: crypto.Recipient, size: int) -> None:
    assert check_age_file(crypto.encrypt(b"p" * size, [recipient])).plaintext_size == size


def test_post_quantum_and_several_recipients_pass() -> None:
    keys = [crypto.generate_identity() for _ in range(3)]
    data = crypto.encrypt(b"note", [k.recipient for k in keys])
    assert check_age_file(data).stanza_types == ("mlkem768x25519",) * 3


def test_armored_text_is_turned_into_the_binary_file(
    identity: crypto.Identity, recipient: crypto.Recipient
) -> None:
    binary = crypto.encrypt(b"reply " * 1000, [recipient])
    armored = crypto.encrypt(b"reply " * 1000, [recipient], armor=True)
    converted = binary_age_file(armored.decode("ascii"))
    assert converted.startswith(b"age-encryption.org/v1\n")
    assert crypto.decrypt(converted, [identity], armored=False) == b"reply " * 1000
    text = "\r\n".join(armored.decode("ascii").splitlines()) + "\r\n"  # CRLF, as pasted
    assert binary_age_file(text) == binary_age_file(armored)
    assert len(binary_age_file(armored)) == len(binary)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Dear reporter, we have read your report.", HeaderError),  # plaintext
        ("", HeaderError),
        ("age-encryption.org/v1\n-> X25519 abc\n", HeaderError),  # header cut short
        ("age-encryption.org/v2\n", HeaderError),
        ("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n", ArmorError),  # no END line
        ("-----BEGIN PGP MESSAGE-----\n", ArmorError),
    ],
)
def test_what_is_not_an_age_file_is_refused(text: str, problem: type[Exception]) -> None:
    with pytest.raises(problem):
        binary_age_file(text)


def test_truncated_armor_is_refused(recipient: crypto.Recipient) -> None:
    armored = crypto.encrypt(b"x" * 5000, [recipient], armor=True).decode("ascii")
    lines = armored.splitlines()
    for cut in (lines[:-1], lines[:-2], lines[: len(lines) // 2]):
        with pytest.raises(ArmorError):
            binary_age_file("\n".join(cut) + "\n")


def test_a_cut_off_payload_is_refused_where_its_length_shows_it(
    recipient: crypto.Recipient,
) -> None:
    small = crypto.encrypt(b"short reply", [recipient])
    header_size = check_age_file(small).header_size
    for size in (header_size, header_size + 10, header_size + 16, len(small) - 12):
        with pytest.raises(PayloadError):
            check_age_file(small[:size])
    big = crypto.encrypt(b"y" * (2 * CHUNK), [recipient])
    # Two full chunks: keeping one full chunk plus 1..16 bytes of the next is detectably cut.
    for extra in (1, 8, 16):
        cut = header_size + 16 + ENCRYPTED_CHUNK_SIZE + extra
        with pytest.raises(PayloadError):
            check_age_file(big[:cut])
    with pytest.raises(HeaderError):
        check_age_file(small[: header_size - 5])


def test_passphrase_files_are_refused() -> None:
    data = crypto.encrypt(b"x", [ScryptRecipient("correct horse", work_factor=10)])
    with pytest.raises(HeaderError, match="passphrase"):
        check_age_file(data)


def test_plaintext_is_refused_at_its_first_line_before_anything_passes(
    recipient: crypto.Recipient,
) -> None:
    check = AgeFileCheck()
    with pytest.raises(HeaderError):
        check.feed(b"Name: Li Wei\nPassport: E12345678\n")
    armored = crypto.encrypt(b"x", [recipient], armor=True)
    with pytest.raises(HeaderError, match="armored"):
        AgeFileCheck().feed(armored[:40])


def test_streaming_passes_the_exact_bytes_once_the_header_is_whole(
    recipient: crypto.Recipient,
) -> None:
    data = crypto.encrypt(b"z" * (CHUNK + 99), [recipient])
    header_size = check_age_file(data).header_size
    check = AgeFileCheck()
    passed = b""
    for i in range(0, len(data), 7):
        out = check.feed(data[i : i + 7])
        if i + 7 < header_size:
            assert out == b""  # nothing reaches the disk before the header parsed
        passed += out
    assert passed == data
    assert check.finish().size == len(data)


def test_a_header_that_never_ends_is_refused() -> None:
    check = AgeFileCheck()
    check.feed(b"age-encryption.org/v1\n")
    with pytest.raises(HeaderError, match="too large"):
        for _ in range(20):
            check.feed(b"-> X25519 " + b"A" * 60_000 + b"\n")


@pytest.mark.parametrize("path", all_vectors(), ids=lambda p: p.name)
def test_cctv_vectors_that_decrypt_pass_and_bad_armor_fails(path: object) -> None:
    vec = load(path)  # type: ignore[arg-type]
    if vec.expect == "success" and not vec.passphrases:
        assert check_age_file(binary_age_file(vec.body)).size > 0
    elif vec.expect == "armor failure":
        with pytest.raises((ArmorError, HeaderError)):
            binary_age_file(vec.body)
    elif vec.passphrases and vec.expect == "success":
        with pytest.raises((HeaderError, ArmorError, PayloadError)):
            binary_age_file(vec.body)

"""Which recipient sets the encryptor accepts, and round trips through every API.

The rules protect users from weak combinations: a post-quantum file must not
also be readable with a classic key, and a passphrase must stand alone. The
streaming APIs must give the same bytes however the data is cut into writes or
reads, and an encryption that did not finish must never pass for a whole file.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import pytest

from crypto import (
    ArmorError,
    Decryptor,
    EncryptionError,
    Encryptor,
    HeaderError,
    MLKEM768X25519Identity,
    NoIdentityMatchError,
    PayloadError,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    X25519Recipient,
    decrypt,
    encrypt,
)

CHUNK = 64 * 1024
BATCH = 16 * CHUNK  # the payload writer seals this many bytes at a time
PASSPHRASE = "correct horse battery staple"
FAST_SCRYPT = 10  # work factor: 2**10 instead of age's 2**18 keeps the tests quick


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 1_000_003 + size).randbytes(size)


@pytest.fixture(scope="module")
def x25519() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture(scope="module")
def pq() -> MLKEM768X25519Identity:
    return MLKEM768X25519Identity.generate()


def payload_length(ciphertext: bytes) -> int:
    """Bytes after the header's MAC line: the nonce and the STREAM chunks."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return len(ciphertext) - (ciphertext.index(b"\n", mac_line) + 1)


def expected_payload_length(size: int) -> int:
    chunks = max(1, -(-size // CHUNK))
    return 16 + size + 16 * chunks


# --- which recipient sets are allowed -------------------------------------------------


@pytest.mark.parametrize(
    "combo",
    [
        pytest.param(("pq", "x25519"), id="pq-then-classic"),
        pytest.param(("x25519", "pq"), id="classic-then-pq"),
        pytest.param(("pq", "pq", "x25519"), id="two-pq-one-classic"),
        pytest.param(("scrypt", "x25519"), id="scrypt-and-classic"),
        pytest.param(("x25519", "scrypt"), id="classic-and-scrypt"),
        pytest.param(("scrypt", "pq"), id="scrypt-and-pq"),
        pytest.param(("scrypt", "scrypt"), id="two-scrypt"),
        pytest.param((), id="no-recipients"),
    ],
)
def test_refused_recipient_sets(combo: tuple[str, ...]) -> None:
    """Refused before anything is written: no half-made file reaches the sink."""
    make = {
        "pq": lambda: MLKEM768X25519Identity.generate().recipient,
        "x25519": lambda: X25519Identity.generate().recipient,
        "scrypt": lambda: ScryptRecipient(PASSPHRASE, work_factor=FAST_SCRYPT),
    }
    recipients = [make[name]() for name in combo]
    with pytest.raises(EncryptionError):
        encrypt(b"report", recipients)
    sink = io.BytesIO()
    with pytest.raises(EncryptionError):
        Encryptor(sink, recipients)
    assert sink.getvalue() == b""


def test_low_order_recipient_is_refused() -> None:
    """An all-zero X25519 public key would give an all-zero shared secret: refuse it."""
    with pytest.raises(EncryptionError):
        encrypt(b"report", [X25519Recipient(bytes(32))])


def test_recipients_may_be_any_iterable(x25519: X25519Identity) -> None:
    recipients = iter([x25519.recipient, X25519Identity.generate().recipient])
    assert decrypt(encrypt(b"report", recipients), [x25519]) == b"report"


@pytest.mark.parametrize("kind", ["x25519", "pq"])
def test_several_recipients_each_decrypt_alone(kind: str) -> None:
    make = X25519Identity.generate if kind == "x25519" else MLKEM768X25519Identity.generate
    identities = [make() for _ in range(4)]
    ciphertext = encrypt(b"to each", [i.recipient for i in identities])
    assert ciphertext.count(b"\n-> ") == 4
    for identity in identities:
        assert decrypt(ciphertext, [identity]) == b"to each"
    # An identity that does not match, listed first, is skipped.
    assert decrypt(ciphertext, [make(), identities[2]]) == b"to each"


# --- round trips -------------------------------------------------------------------------

SIZES = [0, 1, 65535, 65536, 65537, 2 * CHUNK, 3 * CHUNK + 5]


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armor"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["x25519", "pq"])
def test_round_trip(
    x25519: X25519Identity, pq: MLKEM768X25519Identity, kind: str, size: int, armor: bool
) -> None:
    """Including the edge cases of the final chunk: empty file, exactly one full chunk."""
    identity = x25519 if kind == "x25519" else pq
    data = data_of(size)
    ciphertext = encrypt(data, [identity.recipient], armor=armor)
    assert decrypt(ciphertext, [identity]) == data
    assert decrypt(ciphertext, [identity], armored=armor) == data
    if not armor:
        # A full last chunk is itself the final chunk: no empty chunk after it.
        assert payload_length(ciphertext) == expected_payload_length(size)


def test_armored_file_shape(x25519: X25519Identity) -> None:
    ciphertext = encrypt(data_of(1000), [x25519.recipient], armor=True)
    lines = ciphertext.split(b"\n")
    assert lines[0] == b"-----BEGIN AGE ENCRYPTED FILE-----"
    assert lines[-2:] == [b"-----END AGE ENCRYPTED FILE-----", b""]
    assert {len(line) for line in lines[1:-3]} == {64}
    assert 0 < len(lines[-3]) <= 64


def test_armor_flag_must_match_the_file(x25519: X25519Identity) -> None:
    binary = encrypt(b"report", [x25519.recipient])
    armored = encrypt(b"report", [x25519.recipient], armor=True)
    with pytest.raises(ArmorError):
        decrypt(binary, [x25519], armored=True)
    with pytest.raises(HeaderError):
        decrypt(armored, [x25519], armored=False)


def test_armored_file_tolerates_whitespace_around_it(x25519: X25519Identity) -> None:
    """As the Go reader does: CRLF lines and some whitespace before and after are fine."""
    armored = encrypt(b"report", [x25519.recipient], armor=True)
    assert decrypt(b"\n  \r\n" + armored.replace(b"\n", b"\r\n") + b"\n\n ", [x25519]) == b"report"
    with pytest.raises(ArmorError):
        decrypt(armored + b" " * 2000, [x25519])


def test_each_file_gets_fresh_keys(x25519: X25519Identity) -> None:
    """Same plaintext, same recipient: the files share nothing (file key, nonce, share)."""
    a = encrypt(b"same", [x25519.recipient])
    b = encrypt(b"same", [x25519.recipient])
    assert a != b
    assert a.split(b"\n")[1] != b.split(b"\n")[1]  # ephemeral share
    nonce_a, nonce_b = (f[-payload_length(f) :][:16] for f in (a, b))
    assert nonce_a != nonce_b


# --- the streaming encryptor -------------------------------------------------------------


def write_in_pieces(data: bytes, sizes: Iterator[int], recipient: X25519Recipient) -> bytes:
    sink = io.BytesIO()
    with Encryptor(sink, [recipient]) as enc:
        view = memoryview(data)
        pos = 0
        while pos < len(data):
            n = next(sizes)
            assert enc.write(view[pos : pos + n]) == len(view[pos : pos + n])
            pos += n
    assert not sink.closed
    return sink.getvalue()


@pytest.mark.slow
def test_one_byte_writes_across_a_chunk_boundary(x25519: X25519Identity) -> None:
    data = data_of(CHUNK + 40)
    ciphertext = write_in_pieces(data, iter(lambda: 1, None), x25519.recipient)
    assert decrypt(ciphertext, [x25519]) == data
    assert payload_length(ciphertext) == expected_payload_length(len(data))


WRITE_CASES = [
    (piece, size)
    for piece in (7, 4096, CHUNK, 1 << 20, 3 * CHUNK + 1)
    for size in (BATCH - 1, BATCH, BATCH + 1, BATCH + CHUNK + 3, 2 * BATCH, 2 * BATCH + 1)
    # 7-byte writes of 2 MiB would only add time.
    if not (piece == 7 and size > BATCH + CHUNK + 3)
]


@pytest.mark.parametrize(("piece", "size"), WRITE_CASES)
def test_writes_of_any_size_give_a_valid_file(
    x25519: X25519Identity, piece: int, size: int
) -> None:
    """Sealing happens a batch at a time; the cut of the writes must not matter."""
    data = data_of(size)
    ciphertext = write_in_pieces(data, iter(lambda: piece, None), x25519.recipient)
    assert payload_length(ciphertext) == expected_payload_length(size)
    assert decrypt(ciphertext, [x25519]) == data


def test_random_write_sizes(x25519: X25519Identity) -> None:
    rng = random.Random(7)
    data = data_of(3 * BATCH + 12345)
    sizes = iter(lambda: rng.choice([0, 1, 15, 16, 17, CHUNK - 1, CHUNK, CHUNK + 1, 300_000]), None)
    assert decrypt(write_in_pieces(data, sizes, x25519.recipient), [x25519]) == data


def test_bytearray_and_memoryview_writes(x25519: X25519Identity) -> None:
    sink = io.BytesIO()
    with Encryptor(sink, [x25519.recipient], armor=True) as enc:
        enc.write(bytearray(b"abc"))
        enc.write(memoryview(b"def"))
        enc.write(b"")
        enc.write(b"ghi")
    assert decrypt(sink.getvalue(), [x25519]) == b"abcdefghi"


def test_close_is_idempotent_and_final(x25519: X25519Identity) -> None:
    sink = io.BytesIO()
    enc = Encryptor(sink, [x25519.recipient])
    enc.write(b"once")
    enc.close()
    size = len(sink.getvalue())
    enc.close()
    assert len(sink.getvalue()) == size
    with pytest.raises(ValueError):
        enc.write(b"more")
    assert decrypt(sink.getvalue(), [x25519]) == b"once"


@pytest.mark.parametrize("written", [0, 100, CHUNK, 3 * BATCH + 7])
@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armor"])
def test_unfinished_encryption_does_not_decrypt(
    x25519: X25519Identity, written: int, armor: bool
) -> None:
    """An exception inside `with Encryptor` leaves a truncated file, which must be refused."""
    sink = io.BytesIO()
    with pytest.raises(RuntimeError), Encryptor(sink, [x25519.recipient], armor=armor) as enc:
        enc.write(data_of(written))
        raise RuntimeError("disk full")
    truncated = sink.getvalue()
    assert truncated  # the header was written
    with pytest.raises(ArmorError if armor else PayloadError):
        decrypt(truncated, [x25519])
    if not armor and written > BATCH:
        # The streaming reader releases whole chunks that authenticate, then refuses.
        reader = Decryptor(io.BytesIO(truncated), [x25519])
        released = bytearray()
        with pytest.raises(PayloadError):
            for chunk in reader.iter_chunks():
                released += chunk
        assert len(released) > 0
        assert bytes(released) == data_of(written)[: len(released)]


# --- the streaming decryptor ---------------------------------------------------------------


@pytest.fixture(scope="module")
def multi_chunk(x25519: X25519Identity) -> tuple[bytes, bytes]:
    data = data_of(BATCH + 3 * CHUNK + 77)
    return data, encrypt(data, [x25519.recipient])


@pytest.mark.parametrize("n", [1, 3, 17, 4095, CHUNK - 1, CHUNK + 1, 100_003, BATCH + 1])
def test_read_n_gives_the_same_data(
    x25519: X25519Identity, multi_chunk: tuple[bytes, bytes], n: int
) -> None:
    data, ciphertext = multi_chunk
    if n < 100:  # tiny reads of a 1.2 MiB file would only add time
        data, ciphertext = data[: CHUNK + 9], encrypt(data[: CHUNK + 9], [x25519.recipient])
    reader = Decryptor(io.BytesIO(ciphertext), [x25519])
    pieces = []
    while piece := reader.read(n):
        assert len(piece) <= n
        pieces.append(piece)
    assert b"".join(pieces) == data
    assert reader.read(n) == b""


def test_readall_readinto_and_buffered(
    x25519: X25519Identity, multi_chunk: tuple[bytes, bytes]
) -> None:
    data, ciphertext = multi_chunk
    assert Decryptor(io.BytesIO(ciphertext), [x25519]).read() == data
    assert Decryptor(io.BytesIO(ciphertext), [x25519]).readall() == data
    buffered = io.BufferedReader(Decryptor(io.BytesIO(ciphertext), [x25519]), buffer_size=1000)
    assert buffered.read(10) == data[:10]
    assert buffered.read() == data[10:]
    reader = Decryptor(io.BytesIO(ciphertext), [x25519])
    buf = bytearray(12345)
    got = bytearray()
    while n := reader.readinto(buf):
        got += buf[:n]
    assert got == data


def test_iter_chunks_after_a_partial_read(
    x25519: X25519Identity, multi_chunk: tuple[bytes, bytes]
) -> None:
    data, ciphertext = multi_chunk
    reader = Decryptor(io.BytesIO(ciphertext), [x25519])
    head = reader.read(1000)
    assert head + b"".join(reader.iter_chunks()) == data


def drain(reader: Decryptor, how: str) -> None:
    if how == "read":
        while reader.read(CHUNK):
            pass
    else:
        for _ in reader.iter_chunks():
            pass


@pytest.mark.parametrize("how", ["read", "iter_chunks"])
def test_payload_error_is_sticky(x25519: X25519Identity, how: str) -> None:
    """After a payload error, reading on must fail again, never report a clean end of file.

    Otherwise a caller that catches the first error (a retry loop, a lenient
    stream consumer) sees a tampered or truncated file end normally, with the
    plaintext cut short. Go's stream reader keeps returning its error.
    """
    ciphertext = encrypt(data_of(3 * CHUNK + 10), [x25519.recipient])[:-5]
    reader = Decryptor(io.BytesIO(ciphertext), [x25519])
    with pytest.raises(PayloadError):
        drain(reader, how)
    with pytest.raises(PayloadError):
        drain(reader, how)


class Trickle(io.RawIOBase):
    """A source that returns at most `step` bytes a read, like a pipe or socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self._step, len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armor"])
@pytest.mark.parametrize("step", [1, 7, 1000, CHUNK + 15])
def test_short_reads_from_the_source(x25519: X25519Identity, step: int, armor: bool) -> None:
    data = data_of(2 * CHUNK + 3 if step > 1 else 300)
    ciphertext = encrypt(data, [x25519.recipient], armor=armor)
    assert Decryptor(Trickle(ciphertext, step), [x25519]).read() == data


# --- wrong keys and passphrases ------------------------------------------------------------


@pytest.mark.parametrize(
    ("encrypt_to", "decrypt_with"),
    [
        ("x25519", "other-x25519"),
        ("pq", "other-pq"),
        ("pq", "x25519"),
        ("x25519", "pq"),
        ("x25519", "scrypt"),
        ("scrypt", "x25519"),
        ("pq", "nothing"),
    ],
)
def test_wrong_identity(
    x25519: X25519Identity, pq: MLKEM768X25519Identity, encrypt_to: str, decrypt_with: str
) -> None:
    recipients = {
        "x25519": lambda: x25519.recipient,
        "pq": lambda: pq.recipient,
        "scrypt": lambda: ScryptRecipient(PASSPHRASE, work_factor=FAST_SCRYPT),
    }
    identities = {
        "other-x25519": lambda: [X25519Identity.generate()],
        "other-pq": lambda: [MLKEM768X25519Identity.generate()],
        "x25519": lambda: [x25519],
        "pq": lambda: [pq],
        "scrypt": lambda: [ScryptIdentity(PASSPHRASE)],
        "nothing": lambda: [],
    }
    for armor in (False, True):
        ciphertext = encrypt(b"report", [recipients[encrypt_to]()], armor=armor)
        with pytest.raises(NoIdentityMatchError):
            decrypt(ciphertext, identities[decrypt_with]())


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armor"])
def test_scrypt_round_trip(armor: bool) -> None:
    data = data_of(70_000)
    ciphertext = encrypt(data, [ScryptRecipient(PASSPHRASE, work_factor=FAST_SCRYPT)], armor=armor)
    assert decrypt(ciphertext, [ScryptIdentity(PASSPHRASE)]) == data
    # Other identities before it are skipped.
    assert decrypt(ciphertext, [X25519Identity.generate(), ScryptIdentity(PASSPHRASE)]) == data


@pytest.mark.parametrize(
    "wrong", ["correct horse battery stapl", "Correct horse battery staple", " "]
)
def test_scrypt_wrong_passphrase(wrong: str) -> None:
    ciphertext = encrypt(b"report", [ScryptRecipient(PASSPHRASE, work_factor=FAST_SCRYPT)])
    with pytest.raises(NoIdentityMatchError):
        decrypt(ciphertext, [ScryptIdentity(wrong)])


def test_scrypt_work_factor_above_the_limit_is_refused() -> None:
    """The decryptor caps the work factor so a hostile file cannot ask for gigabytes of RAM."""
    ciphertext = encrypt(b"report", [ScryptRecipient(PASSPHRASE, work_factor=FAST_SCRYPT)])
    with pytest.raises(HeaderError):
        decrypt(ciphertext, [ScryptIdentity(PASSPHRASE, max_work_factor=FAST_SCRYPT - 1)])


@pytest.mark.parametrize(("passphrase", "work_factor"), [("", 10), ("p", 0), ("p", 23), ("p", -1)])
def test_scrypt_recipient_refuses_bad_parameters(passphrase: str, work_factor: int) -> None:
    with pytest.raises(ValueError):
        ScryptRecipient(passphrase, work_factor=work_factor)

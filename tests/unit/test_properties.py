"""Property-based tests: round trips at any size, and tampering never goes unnoticed.

age files are authenticated end to end: the header by its MAC, the payload chunk
by chunk, the end of the file by the final-chunk flag. So for a valid file, any
single flipped bit, any truncation and any appended data must make decryption
fail with a DecryptionError: never succeed, and never escape as another
exception (which the portal would turn into a 500 instead of a clear message).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    DecryptionError,
    MLKEM768X25519Identity,
    PayloadError,
    X25519Identity,
    decrypt,
    encrypt,
)

CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
NONCE = 16
ARMOR_LINE = 65  # 64 columns and a LF, holding 48 bytes
BEGIN_LINE = len(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
WHITESPACE = b" \t\r\n\v\f"

# Module-level keys: hypothesis runs many examples per test, and key generation
# is not what is being tested.
IDENTITIES = {"x25519": X25519Identity.generate(), "pq": MLKEM768X25519Identity.generate()}

# k * 64 KiB + d for k in 0..4 and d in -2..2: both sides of every chunk boundary.
near_chunk_boundaries = st.builds(
    lambda k, d: max(0, k * CHUNK + d), st.integers(0, 4), st.integers(-2, 2)
)
any_size = st.one_of(st.integers(0, 300 * 1024), near_chunk_boundaries)


def plaintext(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@settings(max_examples=60, deadline=None)
@given(size=any_size, seed=st.integers(0, 2**32), armor=st.booleans())
def test_x25519_round_trip_at_any_size(size: int, seed: int, armor: bool) -> None:
    identity = IDENTITIES["x25519"]
    data = plaintext(size, seed)
    assert decrypt(encrypt(data, [identity.recipient], armor=armor), [identity]) == data


@settings(max_examples=20, deadline=None)
@given(size=any_size, seed=st.integers(0, 2**32), armor=st.booleans())
def test_pq_round_trip_at_any_size(size: int, seed: int, armor: bool) -> None:
    identity = IDENTITIES["pq"]
    data = plaintext(size, seed)
    assert decrypt(encrypt(data, [identity.recipient], armor=armor), [identity]) == data


# --- tampering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A valid file and where its header ends (in the file's own bytes, armored or not)."""

    kind: str
    size: int
    armor: bool
    ciphertext: bytes
    header_end: int

    def decrypt(self, ciphertext: bytes) -> bytes:
        return decrypt(ciphertext, [IDENTITIES[self.kind]])


@functools.cache
def sample(kind: str, size: int, armor: bool) -> Sample:
    """One valid file per parameter set, made once, so that failures replay exactly."""
    identity = IDENTITIES[kind]
    binary = encrypt(plaintext(size, size), [identity.recipient])
    header_end = binary.index(b"\n", binary.index(b"\n--- ") + 1) + 1
    if not armor:
        return Sample(kind, size, armor, binary, header_end)
    armored = encrypt(plaintext(size, size), [identity.recipient], armor=True)
    # The armored lines that carry the header (roughly: a line may hold both).
    return Sample(kind, size, armor, armored, BEGIN_LINE + (header_end // 48 + 1) * ARMOR_LINE)


TAMPER_SIZES = [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1, 140_000]
samples = st.one_of(
    st.builds(sample, st.just("x25519"), st.sampled_from(TAMPER_SIZES), st.just(False)),
    st.builds(sample, st.just("x25519"), st.sampled_from(TAMPER_SIZES[:6]), st.just(True)),
    st.builds(sample, st.just("pq"), st.sampled_from([0, 100, CHUNK, CHUNK + 1]), st.booleans()),
)


def position(data: st.DataObject, s: Sample, region: str, end: int) -> int:
    """A byte offset in the header or the payload part of the file, below `end`."""
    if region == "header":
        return data.draw(st.integers(0, min(s.header_end, end) - 1), label="offset")
    return data.draw(st.integers(min(s.header_end, end - 1), end - 1), label="offset")


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(
    s=samples, region=st.sampled_from(["header", "payload"]), bit=st.integers(0, 7), data=st.data()
)
def test_any_flipped_bit_is_detected(s: Sample, region: str, bit: int, data: st.DataObject) -> None:
    offset = position(data, s, region, len(s.ciphertext))
    tampered = bytearray(s.ciphertext)
    tampered[offset] ^= 1 << bit
    with pytest.raises(DecryptionError):
        s.decrypt(bytes(tampered))


def truncation_limit(s: Sample) -> int:
    """Lengths below this are truncations that must fail.

    An armored file may lose its final LF: the END line without a newline is
    still complete (the Go reader agrees), so that one cut is not tampering.
    """
    return len(s.ciphertext) - 1 if s.armor else len(s.ciphertext)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(s=samples, region=st.sampled_from(["header", "payload"]), data=st.data())
def test_any_truncation_is_detected(s: Sample, region: str, data: st.DataObject) -> None:
    length = position(data, s, region, truncation_limit(s))
    with pytest.raises(DecryptionError):
        s.decrypt(s.ciphertext[:length])


def test_armored_file_may_lose_only_its_final_newline() -> None:
    s = sample("x25519", 100, True)
    assert s.ciphertext.endswith(b"-----\n")
    assert s.decrypt(s.ciphertext[:-1]) == plaintext(100, 100)


@pytest.mark.parametrize("size", [CHUNK, 2 * CHUNK, 2 * CHUNK + 1, 3 * CHUNK])
def test_truncation_at_every_chunk_boundary_is_detected(size: int) -> None:
    """Cutting a file after a whole chunk still fails: only a flagged chunk may end it."""
    s = sample("x25519", size, False)
    payload_start = s.header_end + NONCE
    for end in range(payload_start, len(s.ciphertext), SEALED_CHUNK):
        with pytest.raises(PayloadError):
            s.decrypt(s.ciphertext[:end])


appended = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.builds(
        lambda n, seed: random.Random(seed).randbytes(n),
        st.sampled_from([16, 17, SEALED_CHUNK, SEALED_CHUNK + 1]),
        st.integers(0, 2**32),
    ),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(s=samples, extra=appended)
def test_appended_bytes_are_detected(s: Sample, extra: bytes) -> None:
    """Nothing may follow the final chunk.

    After an armored file's END line only whitespace is allowed (and ignored, as
    the spec permits), so there the extra bytes carry at least one other byte.
    """
    if s.armor and not extra.strip(WHITESPACE):
        extra += b"x"
    with pytest.raises(DecryptionError):
        s.decrypt(s.ciphertext + extra)


def armor_equivalent(a: bytes, b: bytes) -> bool:
    """Same armored file up to what the armor reader ignores: CRLF line ends, whole lines of
    whitespace before the BEGIN line, and whitespace after the END line's line end. (A tab
    at the start of the BEGIN line, or after END, is not whitespace around the armor.)"""
    a, b = a.replace(b"\r\n", b"\n"), b.replace(b"\r\n", b"\n")
    block = b.strip(WHITESPACE)
    start = a.find(block)
    if start < 0:
        return False
    before, after = a[:start], a[start + len(block) :]
    lines_before = not before or (before.endswith(b"\n") and not before.strip(WHITESPACE))
    return lines_before and after.startswith(b"\n") and not after.strip(WHITESPACE)


@settings(max_examples=100, deadline=None)
@given(
    s=samples,
    region=st.sampled_from(["header", "payload"]),
    extra=st.binary(min_size=1, max_size=20),
    data=st.data(),
)
def test_inserted_bytes_are_detected(
    s: Sample, region: str, extra: bytes, data: st.DataObject
) -> None:
    """Inserted bytes fail, except in armor an inserted CR before a LF or outer whitespace."""
    offset = position(data, s, region, len(s.ciphertext))
    tampered = s.ciphertext[:offset] + extra + s.ciphertext[offset:]
    if s.armor and armor_equivalent(tampered, s.ciphertext):
        assert s.decrypt(tampered) == plaintext(s.size, s.size)
        return
    with pytest.raises(DecryptionError):
        s.decrypt(tampered)


def test_armor_accepts_an_inserted_cr_before_lf() -> None:
    """The one insertion the armor reader ignores by design (the spec allows CRLF)."""
    s = sample("x25519", 100, True)
    tampered = s.ciphertext.replace(b"\n", b"\r\n", 1)
    assert s.decrypt(tampered) == plaintext(100, 100)

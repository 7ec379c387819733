"""SecretBox seals small values: round trip, no plaintext, and any change is refused."""

from __future__ import annotations

import pytest

from crypto import SecretBox

SECRET = b"an application secret of 32 byte"


def test_round_trip_and_fresh_nonces() -> None:
    box = SecretBox(SECRET, "session")
    first, second = box.seal(b"reply key"), box.seal(b"reply key")
    assert first != second  # a random nonce per seal
    assert b"reply key" not in first
    assert box.open(first) == box.open(second) == b"reply key"


@pytest.mark.parametrize("position", [0, 11, 12, -1])
def test_any_flipped_bit_is_refused(position: int) -> None:
    box = SecretBox(SECRET, "session")
    sealed = bytearray(box.seal(b"value"))
    sealed[position] ^= 1
    assert box.open(bytes(sealed)) is None


@pytest.mark.parametrize("length", [0, 1, 12, 27])
def test_short_input_is_refused(length: int) -> None:
    assert SecretBox(SECRET, "session").open(bytes(length)) is None


def test_purpose_and_secret_separate_boxes() -> None:
    sealed = SecretBox(SECRET, "session").seal(b"value")
    assert SecretBox(SECRET, "other purpose").open(sealed) is None
    assert SecretBox(b"another secret of sixteen+ bytes", "session").open(sealed) is None


def test_a_key_of_the_wrong_size_is_refused_and_repr_hides_keys() -> None:
    with pytest.raises(ValueError):
        SecretBox(b"short", "session")
    with pytest.raises(ValueError):
        SecretBox(SECRET + b"!", "session")
    assert SECRET.decode() not in repr(SecretBox(SECRET, "session"))

"""Plaintext sizes rounded up to buckets, so a stored file's size says little about it.

Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
Communication with PURBs", PETS 2019) leaks O(log log n) bits of the length with
at most about 12% overhead. Below a floor every file is padded to the floor, so
all short reports look alike.
"""

from __future__ import annotations

MIN_BUCKET = 16 * 1024


def padme(length: int) -> int:
    """Round `length` up so that only its top few significant bits remain."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    significant = exponent.bit_length()
    mask = (1 << (exponent - significant)) - 1
    return (length + mask) & ~mask


def padded_size(length: int) -> int:
    """The size a plaintext of `length` bytes is padded to before encryption."""
    if length < 0:
        raise ValueError("a length cannot be negative")
    return max(MIN_BUCKET, padme(length))


def is_padded(length: int) -> bool:
    """Whether a plaintext of `length` bytes is already at its bucket (ciphertext made
    elsewhere, by the caseworker client, is checked with this: the server cannot pad it)."""
    return length >= 0 and padded_size(length) == length


def pad(plaintext: bytes, pad_byte: bytes = b"\0") -> bytes:
    """`plaintext` followed by `pad_byte` up to its bucket (spaces for JSON documents)."""
    if len(pad_byte) != 1:
        raise ValueError("the pad must be one byte")
    return plaintext + pad_byte * (padded_size(len(plaintext)) - len(plaintext))

"""Sizes are padded to buckets: short files all look alike, long ones lose their low bits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.padding import MIN_BUCKET, padded_size, padme


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (0, MIN_BUCKET),
        (1, MIN_BUCKET),
        (MIN_BUCKET, MIN_BUCKET),
        (MIN_BUCKET + 1, 17_408),  # E=14, S=4: multiples of 2**10
        (65_536, 65_536),
        (100_000, 100_352),
        (1_000_000, 1_015_808),
    ],
)
def test_padded_size(length: int, expected: int) -> None:
    assert padded_size(length) == expected


@given(st.integers(min_value=2, max_value=2**40))
def test_padme_never_shrinks_and_costs_at_most_12_percent(length: int) -> None:
    padded = padme(length)
    assert length <= padded <= length * 1.12 + 1
    assert padme(padded) == padded  # a bucket is its own bucket


@given(st.integers(min_value=MIN_BUCKET, max_value=2**34))
def test_bucket_count_is_logarithmic(length: int) -> None:
    # Padmé keeps only about log2(log2(n)) + 1 significant bits (S + 1 in the paper).
    padded = padme(length)
    significant = padded.bit_length() - (padded & -padded).bit_length() + 1
    assert significant <= (length.bit_length() - 1).bit_length() + 1


def test_negative_length_is_refused() -> None:
    with pytest.raises(ValueError):
        padded_size(-1)

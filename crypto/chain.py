"""A keyed hash chain: each link's MAC covers the one before, so an edited or removed
entry breaks every link after it.

The chain is keyed (HMAC-SHA-256 under a key derived from the instance secret in
crypto/instance_keys.py),
so someone who can write to the database but has not got the instance secret
cannot rebuild the chain after editing it. Removing the newest entries leaves a
shorter valid chain; the head (count and last MAC) that `verify` reports is what
an operator notes down elsewhere to catch that.
"""

from __future__ import annotations

from collections.abc import Sequence

from .primitives import KEY_SIZE, hmac_sha256, hmac_sha256_verify

GENESIS = "0" * 64
_HEX_DIGITS = frozenset("0123456789abcdef")


class Chain:
    """Link and check entries, each given as a sequence of text fields."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"the key must be {KEY_SIZE} bytes (crypto/instance_keys.py)")
        self._key = key

    def __repr__(self) -> str:
        return "Chain()"

    def link(self, prev: str, fields: Sequence[str]) -> str:
        """The MAC of an entry, given the MAC of the entry before (GENESIS for the first)."""
        return hmac_sha256(self._key, _encode(prev, fields)).hex()

    def check(self, prev: str, fields: Sequence[str], mac: str) -> bool:
        """Whether `mac` is this entry's MAC after `prev`, compared in constant time."""
        # Only the form `link` writes: fromhex alone would also take upper case and spaces.
        if len(mac) != 64 or any(c not in _HEX_DIGITS for c in mac):
            return False
        tag = bytes.fromhex(mac)
        return hmac_sha256_verify(self._key, _encode(prev, fields), tag)


def _encode(prev: str, fields: Sequence[str]) -> bytes:
    """Length-prefixed fields, so no two different entries encode alike."""
    parts = [prev, *fields]
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)

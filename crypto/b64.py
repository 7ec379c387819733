"""The two base64 dialects of age: strict unpadded (header) and padded (armor).

Both reject non-canonical encodings (stray bits set in the last character),
because a lenient decoder would make ciphertexts malleable.
"""

from __future__ import annotations

import base64
import binascii

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def encode_raw(data: bytes) -> bytes:
    """Standard alphabet, no `=` padding."""
    return base64.b64encode(data).rstrip(b"=")


def decode_raw(text: bytes) -> bytes | None:
    """Decode canonical unpadded base64, or return None."""
    if len(text) % 4 == 1 or not _ALPHABET.issuperset(text):
        return None
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    return data if encode_raw(data) == text else None


def decode_padded(text: bytes) -> bytes | None:
    """Decode canonical padded base64, or return None."""
    if len(text) % 4:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return data if base64.b64encode(data) == text else None

"""Random secrets for the application: session keys, instance salts, tokens.

Kept here so that every secret the service makes comes from one audited place
(the operating system's CSPRNG), never from an ad-hoc call elsewhere.
"""

from __future__ import annotations

from .primitives import random_bytes


def new_secret_hex(size: int = 32) -> str:
    """`size` random bytes as hex: for keys and salts kept in files or settings."""
    if size < 16:
        raise ValueError("a secret needs at least 16 bytes")
    return random_bytes(size).hex()

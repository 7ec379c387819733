"""Random secrets for the application: session keys, instance salts, tokens.

Kept here so that every secret the service makes comes from one audited place
(the operating system's CSPRNG), never from an ad-hoc call elsewhere.
"""

from __future__ import annotations

from .primitives import random_bytes, sha256_hex


def new_secret_hex(size: int = 32) -> str:
    """`size` random bytes as hex: for keys and salts kept in files or settings."""
    if size < 16:
        raise ValueError("a secret needs at least 16 bytes")
    return random_bytes(size).hex()


def new_token(prefix: str, size: int = 32) -> str:
    """A bearer token with a readable prefix (so a leaked one is recognisable in a scan)."""
    return f"{prefix}_{new_secret_hex(size)}"


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256. Tokens are 256 random bits, so a fast hash
    suffices; a lookup by digest compares nothing secret byte by byte."""
    return sha256_hex(token.encode("utf-8"))

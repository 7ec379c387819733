"""Authenticated encryption of small values the server hands out and takes back.

The reporter's session travels in a cookie. It may carry the reporter's reply
identity, so it must be unreadable as well as tamper-proof: Flask's default
cookie is only signed. A random 96-bit nonce per seal is safe for the number of
cookies one key will ever seal (far below 2**32), and the purpose label is bound
as associated data, so a value sealed for one use cannot be replayed as another.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .primitives import KEY_SIZE, NONCE_SIZE, TAG_SIZE, random_bytes


class SecretBox:
    """Seal and open byte strings under a key of their own (crypto/instance_keys.py derives
    each from the instance secret)."""

    __slots__ = ("_aead", "_purpose")

    def __init__(self, key: bytes, purpose: str) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"the key must be {KEY_SIZE} bytes (crypto/instance_keys.py)")
        self._aead = ChaCha20Poly1305(key)
        self._purpose = purpose.encode("utf-8")

    def __repr__(self) -> str:
        return f"SecretBox(purpose={self._purpose.decode()!r})"

    def seal(self, plaintext: bytes) -> bytes:
        """Return nonce || ciphertext || tag."""
        nonce = random_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, self._purpose)

    def open(self, sealed: bytes) -> bytes | None:
        """Return the plaintext, or None when the value is forged, truncated or foreign."""
        if len(sealed) < NONCE_SIZE + TAG_SIZE:
            return None
        try:
            return self._aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], self._purpose)
        except InvalidTag:
            return None

"""The few primitives age is made of, each a thin call into `cryptography`.

Kept in one place so that every key derivation, AEAD and MAC in the package is
easy to audit and nothing else imports `cryptography.hazmat` for them.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.constant_time import bytes_eq
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
TAG_SIZE = 16
NONCE_SIZE = 12
# A key used for exactly one message may use a fixed nonce: stanza wrap keys are
# derived from a fresh ephemeral secret (or salt) per stanza, so never repeat.
ZERO_NONCE = bytes(NONCE_SIZE)


def random_bytes(size: int) -> bytes:
    """Return `size` bytes from the operating system's CSPRNG."""
    return os.urandom(size)


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """Derive a 32-byte key; an empty salt means RFC 5869's all-zero salt."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(ikm)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SHA-256(key, data)."""
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def hmac_sha256_verify(key: bytes, data: bytes, tag: bytes) -> bool:
    """Check a MAC in constant time."""
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    try:
        mac.verify(tag)
    except InvalidSignature:
        return False
    return True


def seal_once(key: bytes, plaintext: bytes) -> bytes:
    """Encrypt with a key that is used for this one message only (zero nonce)."""
    return ChaCha20Poly1305(key).encrypt(ZERO_NONCE, plaintext, None)


def open_once(key: bytes, ciphertext: bytes) -> bytes | None:
    """Decrypt a `seal_once` message; None when it does not authenticate."""
    try:
        return ChaCha20Poly1305(key).decrypt(ZERO_NONCE, ciphertext, None)
    except InvalidTag:
        return None


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two secrets without leaking where they differ."""
    return bytes_eq(a, b)


def sha256_hex(data: bytes) -> str:
    """SHA-256 as hex: for digests of high-entropy tokens and for hash chains."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()


class Sha256:
    """SHA-256 of a stream fed piece by piece: an upload's digest as it is encrypted, so the
    reporter's original bytes can be checked after decryption without keeping them."""

    HEX_LENGTH = 64

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Whether two hex digests are equal, compared in constant time."""
    return constant_time_equal(a.encode("utf-8"), b.encode("utf-8"))

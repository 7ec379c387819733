"""The post-quantum hybrid recipient type mlkem768x25519 (age1pq1… / AGE-SECRET-KEY-PQ-1…).

HPKE with the MLKEM768-X25519 (X-Wing) KEM, as age >= 1.3 does it. A state
that stores today's ciphertext to break it later is in this service's threat
model, so this is the default for new keys.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import b64, bech32
from .errors import HeaderError, KeyFormatError
from .format import Stanza
from .primitives import random_bytes

STANZA_TYPE = "mlkem768x25519"
HPKE_INFO = b"age-encryption.org/mlkem768x25519"
RECIPIENT_HRP = "age1pq"
IDENTITY_HRP = "AGE-SECRET-KEY-PQ-"
SEED_SIZE = 32
MLKEM_PUBLIC_SIZE = 1184
MLKEM_CIPHERTEXT_SIZE = 1088
X25519_SIZE = 32
RECIPIENT_SIZE = MLKEM_PUBLIC_SIZE + X25519_SIZE
ENC_SIZE = MLKEM_CIPHERTEXT_SIZE + X25519_SIZE
WRAPPED_KEY_SIZE = 32

_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


class MLKEM768X25519Recipient:
    """A hybrid public key: ML-KEM-768 encapsulation key || X25519 public key."""

    post_quantum = True
    exclusive = False

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != RECIPIENT_SIZE:
            raise KeyFormatError("an mlkem768x25519 recipient is 1216 bytes")
        try:
            mlkem_key = MLKEM768PublicKey.from_public_bytes(public_bytes[:MLKEM_PUBLIC_SIZE])
        except ValueError:
            raise KeyFormatError("invalid ML-KEM-768 public key in recipient") from None
        x_key = X25519PublicKey.from_public_bytes(public_bytes[MLKEM_PUBLIC_SIZE:])
        self._key = hpke.MLKEM768X25519PublicKey(mlkem_key, x_key)
        self._bytes = public_bytes

    @classmethod
    def parse(cls, text: str) -> MLKEM768X25519Recipient:
        """Parse an `age1pq1…` string."""
        return cls(bech32.decode_key(text, RECIPIENT_HRP, "a post-quantum recipient (age1pq1…)"))

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self._bytes)

    def __repr__(self) -> str:
        return f"MLKEM768X25519Recipient({str(self)[:20]}…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MLKEM768X25519Recipient) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def wrap(self, file_key: bytes) -> Stanza:
        sealed = _SUITE.encrypt(file_key, self._key, info=HPKE_INFO)
        enc, body = sealed[:ENC_SIZE], sealed[ENC_SIZE:]
        return Stanza(STANZA_TYPE, (b64.encode_raw(enc).decode(),), body)


class MLKEM768X25519Identity:
    """A hybrid secret key, stored as the 32-byte seed both halves expand from."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise KeyFormatError("an mlkem768x25519 identity is a 32-byte seed")
        expanded = hashlib.shake_256(seed).digest(96)
        mlkem_key = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self._x25519 = X25519PrivateKey.from_private_bytes(expanded[64:])
        self._key = hpke.MLKEM768X25519PrivateKey(mlkem_key, self._x25519)
        self._seed = seed
        self._public = (
            mlkem_key.public_key().public_bytes_raw() + self._x25519.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> MLKEM768X25519Identity:
        """Make a new random identity."""
        return cls(random_bytes(SEED_SIZE))

    @classmethod
    def parse(cls, text: str) -> MLKEM768X25519Identity:
        """Parse an `AGE-SECRET-KEY-PQ-1…` string."""
        what = "a post-quantum identity (AGE-SECRET-KEY-PQ-1…)"
        return cls(bech32.decode_key(text, IDENTITY_HRP, what))

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._seed).upper()

    def __repr__(self) -> str:
        return f"MLKEM768X25519Identity(recipient={self.recipient!r})"

    @property
    def recipient(self) -> MLKEM768X25519Recipient:
        """The public key to give out."""
        return MLKEM768X25519Recipient(self._public)

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != STANZA_TYPE:
            return None
        if len(stanza.args) != 1:
            raise HeaderError("mlkem768x25519 stanza must have exactly one argument")
        enc = b64.decode_raw(stanza.args[0].encode())
        if enc is None or len(enc) != ENC_SIZE:
            raise HeaderError("mlkem768x25519 stanza enc is not 1120 bytes of canonical base64")
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise HeaderError("mlkem768x25519 stanza body has the wrong size")
        # The library reports a low-order X25519 share as a mere tag failure;
        # the format calls it a malformed header, so check it first.
        try:
            self._x25519.exchange(X25519PublicKey.from_public_bytes(enc[MLKEM_CIPHERTEXT_SIZE:]))
        except ValueError:
            raise HeaderError("mlkem768x25519 stanza share is a low-order point") from None
        try:
            return _SUITE.decrypt(enc + stanza.body, self._key, info=HPKE_INFO)
        except InvalidTag:
            return None

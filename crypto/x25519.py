"""The native X25519 recipient type (age1… / AGE-SECRET-KEY-1…)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import b64, bech32
from .errors import EncryptionError, HeaderError, KeyFormatError
from .format import Stanza
from .primitives import hkdf_sha256, open_once, random_bytes, seal_once

STANZA_TYPE = "X25519"
LABEL = b"age-encryption.org/v1/X25519"
RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
KEY_SIZE = 32
WRAPPED_KEY_SIZE = 32


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes_raw()


class X25519Recipient:
    """An X25519 public key that file keys can be wrapped to."""

    post_quantum = False
    exclusive = False

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != KEY_SIZE:
            raise KeyFormatError("an X25519 recipient is 32 bytes")
        self._key = X25519PublicKey.from_public_bytes(public_bytes)
        self._bytes = public_bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        """Parse an `age1…` string."""
        return cls(bech32.decode_key(text, RECIPIENT_HRP, "an age X25519 recipient (age1…)"))

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self._bytes)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def wrap(self, file_key: bytes) -> Stanza:
        ephemeral = X25519PrivateKey.generate()
        share = _raw_public(ephemeral.public_key())
        try:
            shared = ephemeral.exchange(self._key)
        except ValueError:
            raise EncryptionError("the X25519 recipient is a low-order point") from None
        wrap_key = hkdf_sha256(shared, share + self._bytes, LABEL)
        return Stanza(STANZA_TYPE, (b64.encode_raw(share).decode(),), seal_once(wrap_key, file_key))


class X25519Identity:
    """An X25519 secret key; it never leaves the machine it was made on."""

    def __init__(self, secret_bytes: bytes) -> None:
        if len(secret_bytes) != KEY_SIZE:
            raise KeyFormatError("an X25519 identity is 32 bytes")
        self._key = X25519PrivateKey.from_private_bytes(secret_bytes)
        self._secret = secret_bytes
        self._public = _raw_public(self._key.public_key())

    @classmethod
    def generate(cls) -> X25519Identity:
        """Make a new random identity."""
        return cls(random_bytes(KEY_SIZE))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        """Parse an `AGE-SECRET-KEY-1…` string."""
        return cls(bech32.decode_key(text, IDENTITY_HRP, "an X25519 identity (AGE-SECRET-KEY-1…)"))

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._secret).upper()

    def __repr__(self) -> str:
        # Never print the secret, even in a traceback.
        return f"X25519Identity(recipient={self.recipient})"

    @property
    def recipient(self) -> X25519Recipient:
        """The public key to give out."""
        return X25519Recipient(self._public)

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != STANZA_TYPE:
            return None
        if len(stanza.args) != 1:
            raise HeaderError("X25519 stanza must have exactly one argument")
        share = b64.decode_raw(stanza.args[0].encode())
        if share is None or len(share) != KEY_SIZE:
            raise HeaderError("X25519 stanza share is not 32 bytes of canonical base64")
        # Checked before decrypting: partitioning-oracle defence.
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise HeaderError("X25519 stanza body has the wrong size")
        try:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:
            raise HeaderError("X25519 stanza share is a low-order point") from None
        wrap_key = hkdf_sha256(shared, share + self._public, LABEL)
        return open_once(wrap_key, stanza.body)

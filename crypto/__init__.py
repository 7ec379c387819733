"""age v1 (age-encryption.org/v1) on `cryptography` primitives, and reporter codenames.

Every cryptographic operation of the service goes through this package; it
imports nothing from the web application. Files it writes decrypt with the
stock `age` command and vice versa.
"""

from .age import Decryptor, Encryptor, decrypt, encrypt
from .codename import CodenameKeys, derive_keys, generate_codename, normalize_codename
from .errors import (
    AgeError,
    ArmorError,
    DecryptionError,
    EncryptionError,
    HeaderError,
    KeyFormatError,
    MACError,
    NoIdentityMatchError,
    PayloadError,
)
from .keys import (
    generate_identity,
    identity_file_text,
    parse_identities,
    parse_identity,
    parse_recipient,
    parse_recipients,
)
from .mlkem768x25519 import MLKEM768X25519Identity, MLKEM768X25519Recipient
from .recipients import Identity, Recipient
from .scrypt import ScryptIdentity, ScryptRecipient
from .x25519 import X25519Identity, X25519Recipient

__all__ = [
    "AgeError",
    "ArmorError",
    "CodenameKeys",
    "DecryptionError",
    "Decryptor",
    "EncryptionError",
    "Encryptor",
    "HeaderError",
    "Identity",
    "KeyFormatError",
    "MACError",
    "MLKEM768X25519Identity",
    "MLKEM768X25519Recipient",
    "NoIdentityMatchError",
    "PayloadError",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "derive_keys",
    "encrypt",
    "generate_codename",
    "generate_identity",
    "identity_file_text",
    "normalize_codename",
    "parse_identities",
    "parse_identity",
    "parse_recipient",
    "parse_recipients",
]

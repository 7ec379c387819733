"""age v1 (age-encryption.org/v1) on `cryptography` primitives, and reporter codenames.

Every cryptographic operation of the service goes through this package; it
imports nothing from the web application. Files it writes decrypt with the
stock `age` command and vice versa.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .age import Decryptor, Encryptor, decrypt, encrypt
    from .codename import (
        CodenameKeys,
        derive_keys,
        generate_codename,
        is_valid_codename,
        normalize_codename,
    )
    from .codename_kinds import CodenameForms, CodenameKind, codename_forms
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
    from .key_files import (
        generate_identity,
        identity_file_text,
        parse_identities,
        parse_identity,
        parse_recipient,
        parse_recipients,
        recipient_fingerprint,
        reply_recipients,
    )
    from .mlkem768x25519 import MLKEM768X25519Identity, MLKEM768X25519Recipient
    from .primitives import Sha256, same_digest
    from .recipients import Identity, Recipient
    from .scrypt import ScryptIdentity, ScryptRecipient
    from .secretbox import SecretBox
    from .x25519 import X25519Identity, X25519Recipient

# Submodules load on first use: a caseworker's `python -m crypto decrypt` need
# not pay for Argon2 or ML-KEM start-up, and nor does the benchmark.
_EXPORTS = {
    "AgeError": "errors",
    "ArmorError": "errors",
    "CodenameForms": "codename_kinds",
    "CodenameKeys": "codename",
    "CodenameKind": "codename_kinds",
    "DecryptionError": "errors",
    "Decryptor": "age",
    "EncryptionError": "errors",
    "Encryptor": "age",
    "HeaderError": "errors",
    "Identity": "recipients",
    "KeyFormatError": "errors",
    "MACError": "errors",
    "MLKEM768X25519Identity": "mlkem768x25519",
    "MLKEM768X25519Recipient": "mlkem768x25519",
    "NoIdentityMatchError": "errors",
    "PayloadError": "errors",
    "Recipient": "recipients",
    "ScryptIdentity": "scrypt",
    "ScryptRecipient": "scrypt",
    "SecretBox": "secretbox",
    "Sha256": "primitives",
    "same_digest": "primitives",
    "X25519Identity": "x25519",
    "X25519Recipient": "x25519",
    "codename_forms": "codename_kinds",
    "decrypt": "age",
    "derive_keys": "codename",
    "encrypt": "age",
    "generate_codename": "codename",
    "generate_identity": "key_files",
    "identity_file_text": "key_files",
    "is_valid_codename": "codename",
    "normalize_codename": "codename",
    "parse_identities": "key_files",
    "parse_identity": "key_files",
    "parse_recipient": "key_files",
    "parse_recipients": "key_files",
    "recipient_fingerprint": "key_files",
    "reply_recipients": "key_files",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crypto' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AgeError",
    "ArmorError",
    "CodenameForms",
    "CodenameKeys",
    "CodenameKind",
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
    "SecretBox",
    "Sha256",
    "X25519Identity",
    "X25519Recipient",
    "codename_forms",
    "decrypt",
    "derive_keys",
    "encrypt",
    "generate_codename",
    "generate_identity",
    "identity_file_text",
    "is_valid_codename",
    "normalize_codename",
    "parse_identities",
    "parse_identity",
    "parse_recipient",
    "parse_recipients",
    "recipient_fingerprint",
    "reply_recipients",
    "same_digest",
]

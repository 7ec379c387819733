"""The exceptions of crypto/: one root, `CryptoError`, and the age implementation's family.

Every failure caused by bad input surfaces as one of these, so callers can catch
one family and show one clear message, and nothing else escapes (a stray
ValueError from a primitive would become a 500 in the portal). Webhook signatures
(`crypto.webhooks.WebhookSignatureError`) and the age command line (`crypto.age_command.CLIError`)
refuse under the same root.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error this package raises for bad input or misuse."""


class AgeError(CryptoError):
    """An age key, recipient set or file that cannot be used."""


class KeyFormatError(AgeError, ValueError):
    """A key, identity file or recipients file could not be parsed."""


class EncryptionError(AgeError):
    """The recipients given cannot be used together (or at all) to encrypt a file."""


class DecryptionError(AgeError):
    """A file could not be decrypted; the subclass says which layer failed."""


class ArmorError(DecryptionError):
    """The ASCII armor around the file is not strict PEM."""


class HeaderError(DecryptionError):
    """The header is malformed, or a stanza for a known recipient type is."""


class NoIdentityMatchError(DecryptionError):
    """None of the identities could unwrap the file key."""


class MACError(DecryptionError):
    """The file key was unwrapped but the header MAC does not verify."""


class PayloadError(DecryptionError):
    """The STREAM payload is truncated, tampered with, or has trailing data."""

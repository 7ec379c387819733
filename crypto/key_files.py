"""Parsing and writing keys, identity files and recipients files.

Identity files follow age-keygen's format (comments, several keys per file), so
a caseworker can use the same file with this package and the stock `age`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from .errors import KeyFormatError
from .primitives import sha256_hex
from .recipients import Recipient
from .x25519 import X25519Identity, X25519Recipient

if TYPE_CHECKING:
    from .mlkem768x25519 import MLKEM768X25519Identity

    AnyIdentity = X25519Identity | MLKEM768X25519Identity

# The post-quantum module (ML-KEM, HPKE) is imported where it is needed: a
# command that only handles X25519 keys starts faster without it.
T = TypeVar("T")
# 128 bits of SHA-256, as 8 groups of 4 hex digits: short enough to read out over the
# phone, far too long for anyone to make a second key with the same fingerprint.
FINGERPRINT_GROUPS = 8


def parse_recipient(text: str) -> Recipient:
    """Parse an `age1…` or `age1pq1…` public key."""
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("age1pq1"):
        from .mlkem768x25519 import MLKEM768X25519Recipient

        return MLKEM768X25519Recipient.parse(text)
    if lowered.startswith("age1"):
        return X25519Recipient.parse(text)
    if lowered.startswith("age-secret-key-"):
        raise KeyFormatError("this is a secret key, not a recipient: never share it")
    raise KeyFormatError("unknown recipient type (expected age1… or age1pq1…)")


def recipient_fingerprint(recipient: str) -> str:
    """A short form of a public key that two people can compare over another channel.

    SHA-256 of the key as written (age1… keys are written in lower case), cut to
    128 bits and shown as `3f2a 91c0 …`. It says nothing of the key's validity.
    """
    digest = sha256_hex(recipient.strip().encode("utf-8"))
    return " ".join(digest[i : i + 4] for i in range(0, 4 * FINGERPRINT_GROUPS, 4))


def parse_identity(text: str) -> AnyIdentity:
    """Parse an `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` secret key."""
    text = text.strip()
    upper = text.upper()
    if upper.startswith("AGE-SECRET-KEY-PQ-1"):
        from .mlkem768x25519 import MLKEM768X25519Identity

        return MLKEM768X25519Identity.parse(text)
    if upper.startswith("AGE-SECRET-KEY-1"):
        return X25519Identity.parse(text)
    # The text is probably secret: do not echo it back in the error.
    raise KeyFormatError(
        "unknown identity type (expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)"
    )


def _key_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_key_file(text: str, parse: Callable[[str], T], what: str) -> list[T]:
    keys = []
    for number, line in _key_lines(text):
        try:
            keys.append(parse(line))
        except KeyFormatError as exc:
            raise KeyFormatError(f"line {number}: {exc}") from None
    if not keys:
        raise KeyFormatError(f"no {what} found in the {what} file")
    return keys


def parse_identities(text: str) -> list[AnyIdentity]:
    """Parse an identity file: one key a line, `#` comments and blank lines ignored."""
    return _parse_key_file(text, parse_identity, "identities")


def parse_recipients(text: str) -> list[Recipient]:
    """Parse a recipients file: one public key a line, `#` comments ignored."""
    return _parse_key_file(text, parse_recipient, "recipients")


def generate_identity(post_quantum: bool = True) -> AnyIdentity:
    """A new identity; post-quantum unless asked otherwise (store-now-decrypt-later)."""
    if not post_quantum:
        return X25519Identity.generate()
    from .mlkem768x25519 import MLKEM768X25519Identity

    return MLKEM768X25519Identity.generate()


def identity_file_text(identity: AnyIdentity, created: datetime | None = None) -> str:
    """The identity in age-keygen's file format."""
    created = (created or datetime.now(UTC)).replace(microsecond=0)
    return (
        f"# created: {created.isoformat().replace('+00:00', 'Z')}\n"
        f"# public key: {identity.recipient}\n"
        f"{identity}\n"
    )


def reply_recipients(reporter: Recipient, others: Sequence[Recipient]) -> list[Recipient]:
    """The reporter's key, and those of `others` that can share one file with it.

    age keeps a post-quantum file post-quantum: a classic key cannot be added to it.
    An organisation with classic keys therefore cannot read back its own replies to
    a reporter (whose key is post-quantum); the reporter still can, which matters more.
    """
    return [reporter, *(key for key in others if key.post_quantum == reporter.post_quantum)]

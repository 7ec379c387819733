"""Encrypting what a caseworker writes: documents padded like the server pads them.

The server stores what the client sends and cannot pad ciphertext, so the
client pads here: documents with trailing spaces (JSON ignores them), files
with zero bytes (their real size is in the document), both to the same Padmé
buckets as the portal, so a reply's length says as little as a report's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

import crypto
from caseworker_client.context import ActionError
from caseworker_client.decrypt import Sink
from protocol import encode, note_document, reply_document, status_note_document
from protocol.padding import pad, padded_size

__all__ = ["ComposeError", "note_document", "reply_document", "status_note_document"]
_ZEROS = bytes(64 * 1024)


class ComposeError(ActionError):
    """Keys that cannot be encrypted to, said in a way the caseworker can act on."""


def recipients(keys: Iterable[str], whose: str) -> list[crypto.Recipient]:
    """Parse public keys the server gave us; refuse an empty list rather than encrypt to none."""
    parsed = []
    for key in keys:
        try:
            parsed.append(crypto.parse_recipient(key))
        except crypto.KeyFormatError as error:
            raise ComposeError(f"the server gave an unusable key for {whose}: {error}") from None
    if not parsed:
        raise ComposeError(f"{whose} has no public key registered; nothing can be encrypted to it")
    return parsed


def seal_document(
    document: Mapping[str, Any], keys: Iterable[crypto.Recipient], *, armor: bool
) -> bytes:
    """The document as JSON, padded with spaces to its bucket, encrypted to `keys`."""
    plaintext = pad(encode(document), b" ")
    try:
        return crypto.encrypt(plaintext, list(keys), armor=armor)
    except crypto.EncryptionError as error:
        raise ComposeError(f"cannot encrypt to these keys: {error}") from None


def seal_stream(
    sink: IO[bytes], keys: Iterable[crypto.Recipient], fill: Callable[[Sink], int]
) -> None:
    """Encrypt what `fill` writes (returning its length) into `sink`, zero-padded to its bucket."""
    try:
        encryptor = crypto.Encryptor(sink, list(keys))
    except crypto.EncryptionError as error:
        raise ComposeError(f"cannot encrypt to these keys: {error}") from None
    size = fill(encryptor)
    remaining = padded_size(size) - size
    while remaining > 0:
        block = _ZEROS[: min(remaining, len(_ZEROS))]
        encryptor.write(block)
        remaining -= len(block)
    encryptor.close()


def armored(document: Mapping[str, Any], keys: Iterable[crypto.Recipient]) -> str:
    """An armored age file of the document, as the API takes small messages."""
    return seal_document(document, keys, armor=True).decode("ascii")

"""Opening pulled ciphertext on the caseworker's machine: documents in memory, files to disk.

Attachments are zero-padded before encryption, so each is cut back to the size
recorded in its message's document. A message that is not for this key (an
escalation to a partner, a report from before the key was registered) is kept
in the list with the reason, rather than dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import crypto
import protocol
from caseworker_client.errors import ClientError
from caseworker_client.store import Store, checked_id
from protocol.readers import MAX_DOCUMENT_BYTES


class Sink(Protocol):
    """Where decrypted bytes go: a file, or an encryptor to another key."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


class DecryptError(ClientError):
    """A file that could not be opened, with what to do about it."""


@dataclass(frozen=True)
class AttachmentRef:
    """One attachment of a message: where its ciphertext is, and what the document says of it."""

    position: int
    blob: str
    filename: str
    content_type: str
    size: int | None
    sha256: str = ""  # of the original bytes, as the server computed it ("" in older reports)
    description: str = ""  # the reporter's one line about the file


@dataclass
class OpenedMessage:
    """One message of a report, decrypted if this key could open it."""

    seq: int
    kind: str
    created_on: str
    author: Any
    partner: Any
    document: dict[str, Any] | None
    problem: str | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)


def _plaintext(path: Path, identities: Sequence[crypto.Identity]) -> Iterator[memoryview]:
    """The plaintext of a cached blob, chunk by chunk, with failures said as DecryptErrors."""
    try:
        with path.open("rb") as handle:
            yield from crypto.Decryptor(handle, identities).iter_chunks()
    except FileNotFoundError:
        raise DecryptError("its ciphertext is not in the cache; run `pull`") from None
    except crypto.NoIdentityMatchError:
        raise DecryptError("it is not encrypted to your key") from None
    except crypto.DecryptionError as error:
        raise DecryptError(f"it is damaged or was altered ({error}); pull it again") from None


def decrypt_document(
    path: Path, identities: Sequence[crypto.Identity], kind: str | None = None
) -> dict[str, Any]:
    """Decrypt a document of this service and check all of it (protocol's strict reader);
    `kind`, when the server named one, must be what the document says it is."""
    plaintext = bytearray()
    for chunk in _plaintext(path, identities):
        plaintext += chunk
        if len(plaintext) > MAX_DOCUMENT_BYTES:
            break
    if len(plaintext) > MAX_DOCUMENT_BYTES:
        raise DecryptError("the document is too large to be one of this service's")
    try:
        return protocol.read(plaintext, kind)
    except protocol.DocumentError as error:
        raise DecryptError(f"it decrypts, but is not a document of this service: {error}") from None


class DigestMismatch(DecryptError):
    """A file that decrypts, but whose bytes are not those the server received."""


def decrypt_file(
    path: Path,
    identities: Sequence[crypto.Identity],
    out: Sink,
    size: int | None,
    sha256: str = "",
) -> int:
    """Decrypt an attachment into `out`, keeping its first `size` bytes (the rest is padding).

    With `sha256` (the digest the report's document records), the bytes are checked against
    it as they pass, and DigestMismatch is raised at the end if they differ: the caller
    decides what to do with what was written (casework marks the file).
    """
    written = 0
    digest = crypto.Sha256()
    for chunk in _plaintext(path, identities):
        if size is not None:
            chunk = chunk[: max(0, size - written)]
        digest.update(chunk)
        out.write(chunk)
        written += len(chunk)
    if sha256 and not crypto.same_digest(digest.hexdigest(), sha256):
        raise DigestMismatch(
            "its SHA-256 does not match the one recorded in the report: these are not the "
            f"bytes the reporter sent (recorded {sha256}, found {digest.hexdigest()})"
        )
    return written


def decrypt_head(path: Path, identities: Sequence[crypto.Identity], length: int) -> bytes:
    """The first `length` bytes of a file's plaintext, decrypting only its first chunk."""
    for chunk in _plaintext(path, identities):
        return bytes(chunk[:length])
    return b""


def _attachment_refs(
    message: dict[str, Any], document: dict[str, Any] | None
) -> list[AttachmentRef]:
    described = (document or {}).get("attachments") or []
    by_blob = {a.get("blob"): a for a in described if isinstance(a, dict)}
    refs = []
    for index, attachment in enumerate(message.get("attachments") or []):
        blob = checked_id(attachment.get("blob"), "blob")
        position = int(attachment.get("position", index))
        info = by_blob.get(blob)
        if info is None and position < len(described) and isinstance(described[position], dict):
            info = described[position]
        info = info or {}
        size = info.get("size")
        refs.append(
            AttachmentRef(
                position=position,
                blob=blob,
                filename=str(info.get("filename") or ""),
                content_type=str(info.get("content_type") or ""),
                size=size if isinstance(size, int) and size >= 0 else None,
                sha256=str(info.get("sha256") or ""),
                description=str(info.get("description") or ""),
            )
        )
    return refs


def open_messages(
    store: Store, detail: dict[str, Any], identities: Sequence[crypto.Identity]
) -> list[OpenedMessage]:
    """Every message of a pulled report, decrypted where this key can."""
    opened = []
    for message in sorted(detail.get("messages") or [], key=lambda m: int(m.get("seq", 0))):
        kind = str(message.get("kind", ""))
        document, problem = None, None
        blob = (message.get("document") or {}).get("blob")
        if kind == "escalation":
            problem = "encrypted to the partner's keys: only the partner can open it"
        elif not blob:
            problem = "the server listed no document for it"
        else:
            try:
                document = decrypt_document(store.blob_path(blob), identities, kind)
            except DecryptError as error:
                problem = str(error)
        opened.append(
            OpenedMessage(
                seq=int(message.get("seq", 0)),
                kind=kind,
                created_on=str(message.get("created_on", "")),
                author=message.get("author"),
                partner=message.get("partner"),
                document=document,
                problem=problem,
                attachments=_attachment_refs(message, document),
            )
        )
    return opened


def report_document(messages: Sequence[OpenedMessage]) -> dict[str, Any]:
    """The reporter's first submission among the opened messages."""
    for message in messages:
        if message.kind == "report":
            if message.document is None:
                raise DecryptError(f"the report cannot be opened: {message.problem}")
            return message.document
    raise DecryptError("the server listed no report document; run `pull` again")

"""The files of an escalation as they go to the partner: images without their metadata.

A JPEG, PNG or WebP image (known by its first bytes, not the reporter's file name) is
decrypted into memory and re-encoded from its pixels (images.py, as `show
--strip-metadata` saves it); anything else streams from the cached ciphertext into the
partner's encryption without ever being whole in memory. An image that cannot be
re-encoded stops the escalation rather than go out with its metadata.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import crypto
from caseworker_client import files, images
from caseworker_client.compose import seal_stream
from caseworker_client.context import Context
from caseworker_client.decrypt import AttachmentRef, Sink, decrypt_file, decrypt_head
from caseworker_client.escalate import EscalationRefused, SentFile

NOT_CLEANABLE = "not a JPEG, PNG or WebP image, so its metadata cannot be removed here"


def cleanable(ctx: Context, ref: AttachmentRef) -> bool:
    """Whether the file begins as an image whose metadata is removed before it is sent
    (known by its first bytes, decrypting only its first chunk)."""
    source = ctx.store.blob_path(ref.blob)
    return images.is_strippable(decrypt_head(source, ctx.identities, images.HEAD_BYTES))


def seal_attachment(
    ctx: Context, ref: AttachmentRef, keys: Sequence[crypto.Recipient], sink: IO[bytes], keep: bool
) -> SentFile:
    """Encrypt one file for the partner: an image without its metadata (unless `keep`),
    anything else as it is. Only images are held in memory, to be re-encoded."""
    source = ctx.store.blob_path(ref.blob)
    if keep:
        why = "--keep-originals"
    elif not cleanable(ctx, ref):
        why = NOT_CLEANABLE
    else:
        buffer = io.BytesIO()
        decrypt_file(source, ctx.identities, buffer, ref.size, ref.sha256)
        try:
            stripped = images.strip_metadata(buffer.getvalue())
            problem = "it cannot be read as an image" if stripped is None else ""
        except images.ImageError as error:
            stripped, problem = None, str(error)
        if stripped is None:  # it begins as an image does: never let it go out uncleaned
            raise EscalationRefused(
                f"{files.safe_filename(ref.filename)}: {problem}, so its metadata cannot be "
                "removed. Nothing was sent: leave the files out (--redact attachments) or "
                "send them as they are (--keep-originals)"
            )
        data = stripped.data
        seal_stream(sink, keys, _writing(data))
        return SentFile(
            files.with_extension(ref.filename, stripped.extension),
            f"image/{stripped.format.lower()}",
            len(data),
            metadata_removed=True,
            why=stripped.note,
        )
    seal_stream(sink, keys, _decrypting(source, ctx.identities, ref.size, ref.sha256))
    return SentFile(ref.filename, ref.content_type, ref.size, metadata_removed=False, why=why)


def _decrypting(
    source: Path, identities: Sequence[crypto.Identity], size: int | None, sha256: str
) -> Callable[[Sink], int]:
    """A filler that decrypts `source` into what it is given: the plaintext stays in memory."""
    return lambda out: decrypt_file(source, identities, out, size, sha256)


def _writing(data: bytes) -> Callable[[Sink], int]:
    """A filler that writes `data` (a cleaned image) into what it is given."""

    def fill(out: Sink) -> int:
        out.write(data)
        return len(data)

    return fill

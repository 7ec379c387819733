"""Looking at a report's files without opening them: what the desk shows of each attachment.

An attachment is decrypted into memory only (never to disk), its SHA-256 is checked
against the one recorded at submission, and it is shown as pictures made anew: images
re-encoded from their pixels without metadata (images.py), PDFs as page images drawn in a
process without network (pdf_pages.py). Anything else is not shown. The original is
written to disk only when the caseworker asks, through the same path as `show --save`,
after the warning below.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import crypto
from caseworker_client import images, pdf_pages, report_actions, sandbox
from caseworker_client.context import Context
from caseworker_client.decrypt import AttachmentRef, OpenedMessage, decrypt_file
from caseworker_client.errors import ClientError

MAX_PREVIEW_BYTES = 64 * 1024 * 1024

ORIGINAL_WARNING = (
    "The original file may carry malware. Targeted attacks on Uyghur and Tibetan groups have "
    "long used booby-trapped documents and images sent as evidence or news. Open the original "
    "only if the preview is not enough, and then on an offline or disposable computer, not the "
    "one that holds your key."
)

IMAGE, PDF, OTHER = "image", "pdf", "other"
MATCHES, DIFFERS, NONE_RECORDED = "matches", "differs", "none recorded"


class PreviewRefused(ClientError):
    """A file the desk will not decrypt into memory (too large): save it, if it must be seen."""


@dataclass(frozen=True)
class DigestCheck:
    """The file's SHA-256 as decrypted here, and what the report recorded at submission."""

    verdict: str  # MATCHES, DIFFERS or NONE_RECORDED (a report from before digests)
    found: str
    recorded: str

    def text(self) -> str:
        if self.verdict == MATCHES:
            return f"SHA-256 {self.found}: the bytes the reporter sent"
        if self.verdict == DIFFERS:
            return (
                f"SHA-256 {self.found} DIFFERS from the {self.recorded} recorded at submission: "
                "these are not the bytes the reporter sent"
            )
        return f"SHA-256 {self.found} (none was recorded at submission)"


@dataclass(frozen=True)
class Picture:
    data: bytes
    media_type: str  # image/png or image/jpeg


@dataclass(frozen=True)
class Preview:
    """What the desk shows of one attachment; `problem` says why there is nothing to see."""

    kind: str  # IMAGE, PDF or OTHER (decided from the bytes, not the reporter's name)
    digest: DigestCheck
    pictures: list[Picture] = field(default_factory=list)
    problem: str = ""
    note: str = ""


class _Bounded(io.BytesIO):
    """A buffer that refuses to grow past `limit` (the size the document gave may be absent)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes | bytearray | memoryview, /) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.limit:
            raise PreviewRefused(_too_large(self.limit))
        return super().write(data)


def _too_large(limit: int) -> str:
    return (
        f"this file is larger than {limit // (1024 * 1024)} MB, too large to preview; "
        "save the original to look at it (read the warning first)"
    )


def check_digest(data: bytes, recorded: str) -> DigestCheck:
    """Compare the bytes' SHA-256 with the recorded one (in constant time, as everywhere)."""
    digest = crypto.Sha256()
    digest.update(data)
    found = digest.hexdigest()
    if not recorded:
        return DigestCheck(NONE_RECORDED, found, "")
    same = crypto.same_digest(found, recorded.lower())
    return DigestCheck(MATCHES if same else DIFFERS, found, recorded)


def preview(
    ctx: Context,
    ref: AttachmentRef,
    *,
    max_bytes: int = MAX_PREVIEW_BYTES,
    timeout: float = sandbox.TIMEOUT_SECONDS,
) -> Preview:
    """Decrypt one attachment in memory and make what can safely be shown of it.

    Raises PreviewRefused for a file over `max_bytes` and DecryptError for one this key cannot
    open; every other trouble (a damaged image, a PDF that cannot be drawn here) comes back
    as the preview's `problem`, with the digest verdict still given.
    """
    if ref.size is not None and ref.size > max_bytes:
        raise PreviewRefused(_too_large(max_bytes))
    buffer = _Bounded(max_bytes)
    decrypt_file(ctx.store.blob_path(ref.blob), ctx.identities, buffer, ref.size)
    data = buffer.getvalue()
    digest = check_digest(data, ref.sha256)
    if images.is_strippable(data[: images.HEAD_BYTES]):
        return _image_preview(data, digest)
    if pdf_pages.looks_like_pdf(data):
        return _pdf_preview(data, digest, timeout)
    return Preview(OTHER, digest, problem="no preview for this kind of file: save the original")


def _image_preview(data: bytes, digest: DigestCheck) -> Preview:
    try:
        copy = images.strip_metadata(data, for_display=True)
    except images.ImageError as error:
        return Preview(IMAGE, digest, problem=str(error))
    if copy is None:  # the bytes looked like an image, but Pillow disagreed
        return Preview(IMAGE, digest, problem="the image could not be read")
    media_type = "image/jpeg" if copy.format == "JPEG" else "image/png"
    return Preview(IMAGE, digest, [Picture(copy.data, media_type)], note=copy.note)


def _pdf_preview(data: bytes, digest: DigestCheck, timeout: float) -> Preview:
    try:
        pages = pdf_pages.render_pages(data, timeout=timeout)
    except (sandbox.NoIsolation, pdf_pages.RendererMissing) as error:
        return Preview(PDF, digest, problem=f"cannot render safely here: {error}")
    except sandbox.SandboxError as error:
        return Preview(PDF, digest, problem=str(error))
    note = (
        f"only the first {pdf_pages.MAX_PAGES} pages are shown"
        if len(pages) >= pdf_pages.MAX_PAGES
        else ""
    )
    return Preview(PDF, digest, [Picture(page, "image/png") for page in pages], note=note)


def save_original(ctx: Context, message: OpenedMessage, ref: AttachmentRef, folder: Path) -> str:
    """Decrypt the original, unchanged, into `folder` (only on request, after ORIGINAL_WARNING);
    returns the line saying where it went, as `show --save` would."""
    return report_actions.save_attachment(ctx, message, ref, folder, strip=False)

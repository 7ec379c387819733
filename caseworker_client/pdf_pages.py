"""A PDF's first pages as PNG images, drawn by Poppler's `pdftoppm` in the sandbox.

The caseworker sees pictures of the pages instead of opening the document in a PDF
reader: the parsing happens in a process without network, memory- and time-bounded
(sandbox.py), and what comes back is pixels, re-encoded once more by Pillow. The PDF goes
in on a pipe and the pages come out on one, so the decrypted document never touches the
disk. Each page is scaled to at most LONG_SIDE_PIXELS, which bounds the output however
large a page the document claims.
"""

from __future__ import annotations

import shutil
import struct

from caseworker_client import images, sandbox

PDFTOPPM = "pdftoppm"
MAX_PAGES = 20
LONG_SIDE_PIXELS = 1400
INSTALL_HINT = (
    "install Poppler's pdftoppm (Debian or Ubuntu: `sudo apt install poppler-utils`; "
    "Fedora: `sudo dnf install poppler-utils`)"
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PdfRenderError(sandbox.SandboxError):
    """The pages could not be drawn (a damaged PDF): the message says why."""


class RendererMissing(PdfRenderError):
    """pdftoppm is not installed here; the message says how to install it."""


def looks_like_pdf(data: bytes) -> bool:
    """Whether the bytes are a PDF, as a PDF reader would decide (its header in the first KiB)."""
    return b"%PDF-" in data[:1024]


def render_pages(
    pdf: bytes, *, max_pages: int = MAX_PAGES, timeout: float = sandbox.TIMEOUT_SECONDS
) -> list[bytes]:
    """PNG images of the first `max_pages` pages; raises a SandboxError saying what went wrong."""
    tool = shutil.which(PDFTOPPM)
    if tool is None:
        raise RendererMissing(
            f"pdftoppm is not installed, so PDF pages cannot be shown; {INSTALL_HINT}"
        )
    command = [tool, "-png", "-f", "1", "-l", str(max_pages), "-scale-to", str(LONG_SIDE_PIXELS)]
    # "-" alone: the PDF from standard input, every page to standard output one after another.
    try:
        output = sandbox.run_isolated([*command, "-"], pdf, timeout=timeout)
    except sandbox.SandboxFailed as error:
        raise PdfRenderError(
            f"the PDF could not be read, it is damaged or not a PDF: {error}"
        ) from None
    pages = [_reencoded(page) for page in split_pngs(output)[:max_pages]]
    if not pages:
        raise PdfRenderError("the PDF could not be read: no page of it could be drawn")
    return pages


def split_pngs(stream: bytes) -> list[bytes]:
    """The PNG files written one after another in `stream`, each cut at its IEND chunk."""
    pages, start = [], 0
    while start < len(stream):
        if stream[start : start + len(_PNG_SIGNATURE)] != _PNG_SIGNATURE:
            raise PdfRenderError("the renderer's output is not a series of PNG images")
        position = start + len(_PNG_SIGNATURE)
        while True:
            if position + 8 > len(stream):
                raise PdfRenderError("the renderer's output ends in the middle of a page")
            length, kind = struct.unpack(">I4s", stream[position : position + 8])
            position += 12 + length  # length, type, data, CRC
            if kind == b"IEND":
                break
        if position > len(stream):
            raise PdfRenderError("the renderer's output ends in the middle of a page")
        pages.append(stream[start:position])
        start = position
    return pages


def _reencoded(page: bytes) -> bytes:
    """The page drawn anew by Pillow from its pixels alone (bounded like any reporter image)."""
    try:
        copy = images.strip_metadata(page, for_display=True)
    except images.ImageError as error:
        raise PdfRenderError(f"a page could not be re-encoded: {error}") from None
    if copy is None:
        raise PdfRenderError("the renderer returned something other than a PNG image")
    return copy.data

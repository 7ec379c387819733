"""Copies of photos without their metadata, re-encoded with Pillow from the pixels alone.

EXIF can hold the GPS position, the time and the phone a photo was taken with;
XMP, comments and ICC profiles can hold names and device details. Copying the
pixels into a new image leaves all of that behind, whatever the format keeps
it in. The orientation is applied first, so the copy still shows upright.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from caseworker_client.errors import ClientError

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

# Format as Pillow names it → the extension the copy is saved with.
SUPPORTED = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
_JPEG_MODES = ("L", "RGB", "CMYK")


# How each supported format's bytes begin (what Pillow itself recognises them by).
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
HEAD_BYTES = 12


def is_strippable(head: bytes) -> bool:
    """Whether a file starting with `head` (HEAD_BYTES long) is a JPEG, PNG or WebP image,
    so that its metadata can be removed: decided from the bytes, not the reporter's name."""
    return head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


class ImageError(ClientError):
    """An image Pillow recognised but could not re-encode (damaged, or too large)."""


@dataclass(frozen=True)
class StrippedImage:
    data: bytes
    format: str
    extension: str
    note: str = ""


def strip_metadata(data: bytes, *, for_display: bool = False) -> StrippedImage | None:
    """A metadata-free copy of a JPEG, PNG or WebP image; None if `data` is not one of those.

    The format is read from the bytes, never from the reporter's file name or type. With
    `for_display` (the desk's previews) the copy is a JPEG or a PNG, which every browser shows.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # A decompression bomb from a reporter must not take the caseworker's memory.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in SUPPORTED:
                    return None
                fmt = image.format if not for_display or image.format == "JPEG" else "PNG"
                frames = getattr(image, "n_frames", 1)
                upright = ImageOps.exif_transpose(image)
                pixels = _pixels_only(upright, fmt)
    except UnidentifiedImageError:
        return None
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("the image is damaged or too large to re-encode") from None
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(out, "JPEG", quality=95)
    elif fmt == "PNG":
        pixels.save(out, "PNG", optimize=True)
    else:
        pixels.save(out, "WEBP", quality=90)
    note = "only the first frame of the animation was kept" if frames > 1 else ""
    return StrippedImage(out.getvalue(), fmt, SUPPORTED[fmt], note)


def _pixels_only(image: PilImage, fmt: str) -> PilImage:
    """A new image holding only the pixels of `image`: no info, no EXIF, no profile."""
    from PIL import Image

    if image.mode in ("P", "PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if image.mode not in ("1", "L", "RGB", "RGBA", "CMYK", "I", "I;16", "F"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if fmt == "JPEG" and image.mode not in _JPEG_MODES:
        image = image.convert("RGB")
    if fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _has_alpha(image: PilImage) -> bool:
    return "A" in image.mode or "a" in image.mode or "transparency" in image.info

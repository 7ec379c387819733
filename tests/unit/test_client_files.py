"""Saved attachments: metadata stripped from image copies, safe names from untrusted ones."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from caseworker_client.files import safe_filename, save_new_file, with_extension
from caseworker_client.images import ImageError, strip_metadata


def exif() -> Image.Exif:
    data = Image.Exif()
    data[0x010F] = "PhoneMaker"  # Make
    data[0x0110] = "Model 7"  # Model
    data[0x0132] = "2026:11:28 09:41:00"  # DateTime
    data.get_ifd(0x8825)[2] = (52.0, 22.0, 1.0)  # GPS latitude
    return data


def encoded(fmt: str, mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (32, 16), "blue").save(out, fmt, **options)
    return out.getvalue()


def test_jpeg_exif_gps_and_comment_are_removed() -> None:
    original = encoded("JPEG", exif=exif(), comment=b"at home")
    with Image.open(io.BytesIO(original)) as image:
        assert dict(image.getexif())  # the test image does carry EXIF
    stripped = strip_metadata(original)
    assert stripped is not None and (stripped.format, stripped.extension) == ("JPEG", ".jpg")
    for marker in (b"Exif", b"PhoneMaker", b"Model 7", b"2026:11:28", b"at home"):
        assert marker not in stripped.data
    with Image.open(io.BytesIO(stripped.data)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.size == (32, 16)


def test_orientation_is_applied_before_it_is_dropped() -> None:
    tags = exif()
    tags[0x0112] = 6  # rotate 90°
    stripped = strip_metadata(encoded("JPEG", exif=tags))
    assert stripped is not None
    with Image.open(io.BytesIO(stripped.data)) as image:
        assert image.size == (16, 32)


def test_png_text_chunks_and_exif_are_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang Wei")
    info.add_itxt("Location", "Rotterdam")
    original = encoded("PNG", "RGBA", pnginfo=info, exif=exif())
    assert b"Zhang Wei" in original
    stripped = strip_metadata(original)
    assert stripped is not None and stripped.format == "PNG"
    for marker in (b"Zhang Wei", b"Rotterdam", b"PhoneMaker", b"eXIf", b"tEXt", b"iTXt"):
        assert marker not in stripped.data
    with Image.open(io.BytesIO(stripped.data)) as image:
        assert image.mode == "RGBA" and image.size == (32, 16)


def test_webp_exif_is_removed() -> None:
    original = encoded("WEBP", exif=exif())
    assert b"PhoneMaker" in original
    stripped = strip_metadata(original)
    assert stripped is not None and stripped.format == "WEBP"
    assert b"PhoneMaker" not in stripped.data and b"EXIF" not in stripped.data


@pytest.mark.parametrize("data", [b"%PDF-1.7 not an image", b"", encoded("GIF", "P")])
def test_other_files_are_not_images_to_strip(data: bytes) -> None:
    assert strip_metadata(data) is None


def test_a_damaged_image_is_an_error_not_a_crash() -> None:
    with pytest.raises(ImageError):
        strip_metadata(encoded("JPEG")[:200])


@pytest.mark.parametrize(
    ("untrusted", "safe"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../.bashrc", "bashrc"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("/etc/passwd", "passwd"),
        ("a\x1b[31mred\x07.txt", "a_[31mred_.txt"),
        ("name\u202egpj.exe", "name_gpj.exe"),
        ('what?:*"<>|.pdf', "what_______.pdf"),
        ("", "attachment"),
        ("..", "attachment"),
        ("x" * 300 + ".jpeg", "x" * 95 + ".jpeg"),
        ("证据照片.png", "证据照片.png"),
    ],
)
def test_safe_filename(untrusted: str, safe: str) -> None:
    assert safe_filename(untrusted) == safe


def test_with_extension() -> None:
    assert with_extension("01-photo.jpeg", ".jpg") == "01-photo.jpg"
    assert with_extension("01-photo", ".png") == "01-photo.png"


def test_save_new_file_never_overwrites_or_follows_links(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "a.txt").symlink_to(target)
    path = save_new_file(tmp_path, "a.txt", lambda out: out.write(b"new"))
    assert path.name == "a (2).txt" and path.read_bytes() == b"new"
    assert not target.exists()

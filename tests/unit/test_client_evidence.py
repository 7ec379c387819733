"""Evidence viewed safely (issue 15): previews from attachments encrypted as the server stores
them, the SHA-256 verdict, PDF pages from the sandbox, and nothing decrypted left on disk."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

import crypto
from caseworker_client import evidence, pdf_pages, sandbox
from caseworker_client.config import Home
from caseworker_client.context import Context
from caseworker_client.decrypt import AttachmentRef, DecryptError, OpenedMessage
from tests.support.client_cache import Cache
from tests.support.pdfs import pdf_file, slow_page, text_page
from tests.support.scans import scan_files
from tests.support.tools import require_tool, unavailable

CANARY = "canary-evidence-5b2e1f-金"
ASCII_CANARY = CANARY.split("-金")[0]


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A TMPDIR of the test's own, so the canary scan sees every temporary file made."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield folder


@pytest.fixture
def cache(tmp_path: Path, temp_dir: Path) -> Cache:
    return Cache(tmp_path / "home")


def context(cache: Cache) -> Context:
    return Context(Home(cache.home), lambda: "")


def attach(cache: Cache, blob: str, data: bytes, recorded: str | None = None) -> AttachmentRef:
    """Encrypt `data` (padded) to the cache's key as the server stores it; its reference."""
    cache.blob(blob, data, b"\0")
    digest = hashlib.sha256(data).hexdigest() if recorded is None else recorded
    return AttachmentRef(0, blob, "evidence.bin", "application/octet-stream", len(data), digest)


def renderer() -> None:
    require_tool(pdf_pages.PDFTOPPM)
    if sandbox.isolation_prefix() is None:
        unavailable("this machine refuses network namespaces", "CI runs as root, where it works")


def photo() -> bytes:
    """A 40x20 JPEG with the GPS position, the phone's make, a comment and 'rotate 90°'."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 28.0, 1.0)})
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(out, "JPEG", exif=exif, comment=CANARY.encode())
    return out.getvalue()


def bomb() -> bytes:
    """A real PNG of 20,000 x 20,000 one-bit pixels: 400 million, in about 50 KB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = bytes(1 + 20000 // 8)
    data = b"".join(packer.compress(row) for _ in range(20000)) + packer.flush()
    header = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


# -- images and digests ---------------------------------------------------------------------


def test_an_image_preview_has_no_metadata_and_stands_upright(cache: Cache) -> None:
    original = photo()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825)  # the test photo does carry a GPS position
    shown = evidence.preview(context(cache), attach(cache, "img1", original))
    assert shown.kind == evidence.IMAGE and not shown.problem
    (picture,) = shown.pictures
    assert picture.media_type == "image/jpeg"
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {} and not image.getexif().get_ifd(0x8825)
        assert "icc_profile" not in image.info and "comment" not in image.info
        assert image.size == (20, 40)  # the orientation was applied
    for marker in (b"Exif", b"PhoneMaker", ASCII_CANARY.encode()):
        assert marker not in picture.data


def test_a_webp_preview_is_a_png_a_browser_shows(cache: Cache) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), "green").save(out, "WEBP")
    shown = evidence.preview(context(cache), attach(cache, "webp1", out.getvalue()))
    assert [p.media_type for p in shown.pictures] == ["image/png"]
    assert shown.pictures[0].data.startswith(b"\x89PNG")


def test_the_digest_recorded_at_submission_is_checked(cache: Cache) -> None:
    original = photo()
    right = hashlib.sha256(original).hexdigest()
    matches = evidence.preview(context(cache), attach(cache, "d1", original)).digest
    assert (matches.verdict, matches.found, matches.recorded) == (evidence.MATCHES, right, right)
    assert right in matches.text()
    tampered = right[:10] + ("0" if right[10] != "0" else "1") + right[11:]
    differs = evidence.preview(context(cache), attach(cache, "d2", original, tampered))
    assert differs.digest.verdict == evidence.DIFFERS and differs.digest.found == right
    assert "DIFFERS" in differs.digest.text() and tampered in differs.digest.text()
    assert differs.pictures  # still shown, under the warning
    older = evidence.preview(context(cache), attach(cache, "d3", original, "")).digest
    assert older.verdict == evidence.NONE_RECORDED and "none was recorded" in older.text()


def test_a_decompression_bomb_is_refused(cache: Cache) -> None:
    data = bomb()
    assert len(data) < 200_000
    shown = evidence.preview(context(cache), attach(cache, "bomb", data))
    assert shown.kind == evidence.IMAGE and shown.pictures == []
    assert "too large" in shown.problem
    assert shown.digest.verdict == evidence.MATCHES


def test_a_file_too_large_to_preview_is_refused_with_what_to_do(cache: Cache) -> None:
    data = b"x" * 5000
    ref = attach(cache, "big", data)
    with pytest.raises(evidence.PreviewRefused, match="too large to preview; save the original"):
        evidence.preview(context(cache), ref, max_bytes=4096)
    unsized = AttachmentRef(0, "big", "big.bin", "", None, ref.sha256)  # a document without size
    with pytest.raises(evidence.PreviewRefused):
        evidence.preview(context(cache), unsized, max_bytes=4096)


def test_other_files_get_no_preview_but_a_verdict(cache: Cache) -> None:
    shown = evidence.preview(context(cache), attach(cache, "doc", b"PK\x03\x04 a zip or a docx"))
    assert shown.kind == evidence.OTHER and shown.pictures == []
    assert "save the original" in shown.problem and shown.digest.verdict == evidence.MATCHES


def test_only_the_right_key_opens_a_preview(cache: Cache, tmp_path: Path) -> None:
    ref = attach(cache, "k1", photo())
    stranger = Cache(tmp_path / "stranger")
    stranger.store.blob_path("k1").write_bytes(cache.store.blob_path("k1").read_bytes())
    with pytest.raises(DecryptError, match="not encrypted to your key"):
        evidence.preview(context(stranger), ref)


# -- PDFs -----------------------------------------------------------------------------------


def test_a_pdf_is_shown_as_page_images(cache: Cache) -> None:
    renderer()
    document = pdf_file([text_page(f"page {n} {ASCII_CANARY}") for n in (1, 2, 3)], ASCII_CANARY)
    shown = evidence.preview(context(cache), attach(cache, "pdf1", document))
    assert shown.kind == evidence.PDF and not shown.problem, shown.problem
    assert len(shown.pictures) == 3 and shown.digest.verdict == evidence.MATCHES
    for picture in shown.pictures:
        assert picture.media_type == "image/png"
        with Image.open(io.BytesIO(picture.data)) as image:
            assert image.format == "PNG" and max(image.size) == pdf_pages.LONG_SIDE_PIXELS
            darkest, _ = image.convert("L").getextrema()
            assert isinstance(darkest, int) and darkest < 128  # the text was drawn: not blank
        for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
            assert chunk not in picture.data
        assert ASCII_CANARY.encode() not in picture.data


def test_only_the_first_pages_are_drawn(cache: Cache) -> None:
    renderer()
    document = pdf_file([text_page(f"page {n}") for n in range(pdf_pages.MAX_PAGES + 3)])
    shown = evidence.preview(context(cache), attach(cache, "pdf2", document))
    assert len(shown.pictures) == pdf_pages.MAX_PAGES
    assert f"only the first {pdf_pages.MAX_PAGES} pages" in shown.note


@pytest.mark.parametrize(
    "damage",
    [lambda pdf: pdf[:40], lambda pdf: b"%PDF-1.7\n" + os.urandom(2000)],
    ids=["truncated", "garbage"],
)
def test_a_damaged_pdf_gives_a_clear_error(cache: Cache, damage: Callable[[bytes], bytes]) -> None:
    renderer()
    data = damage(pdf_file([text_page("x")]))
    shown = evidence.preview(context(cache), attach(cache, "bad", data))
    assert shown.kind == evidence.PDF and shown.pictures == []
    assert shown.problem.startswith("the PDF could not be read")


def test_a_pdf_that_holds_the_renderer_busy_is_stopped(cache: Cache) -> None:
    renderer()
    document = pdf_file([slow_page(20000)], compress=True)  # minutes of drawing in 4 KB
    assert len(document) < 10_000
    shown = evidence.preview(context(cache), attach(cache, "slow", document), timeout=2)
    assert shown.pictures == [] and "took longer than 2 seconds" in shown.problem


def test_without_a_network_namespace_a_pdf_is_not_drawn(
    cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = require_tool(pdf_pages.PDFTOPPM)
    only_renderer = tmp_path / "bin"
    only_renderer.mkdir()
    (only_renderer / pdf_pages.PDFTOPPM).symlink_to(tool)
    ref = attach(cache, "pdf3", pdf_file([text_page("x")]))
    monkeypatch.setenv("PATH", str(only_renderer))  # pdftoppm, but no unshare
    shown = evidence.preview(context(cache), ref)
    assert shown.pictures == [] and shown.problem.startswith("cannot render safely here")


def test_without_pdftoppm_the_preview_says_how_to_install_it(
    cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = attach(cache, "pdf4", pdf_file([text_page("x")]))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    shown = evidence.preview(context(cache), ref)
    assert shown.pictures == [] and shown.problem.startswith("cannot render safely here")
    assert "apt install poppler-utils" in shown.problem


# -- nothing on disk, unless asked ----------------------------------------------------------


def test_previews_leave_nothing_decrypted_on_disk(cache: Cache, temp_dir: Path) -> None:
    renderer()
    document = pdf_file([text_page(ASCII_CANARY)], title=ASCII_CANARY)
    image = photo()
    assert ASCII_CANARY.encode() in document and CANARY.encode() in image  # in clear inside
    for blob, data in (("c1", document), ("c2", image)):
        shown = evidence.preview(context(cache), attach(cache, blob, data))
        assert shown.pictures and not shown.problem
    assert scan_files(cache.home, CANARY) >= 3  # identity and the two ciphertexts
    scan_files(temp_dir, CANARY)
    assert crypto.decrypt(cache.store.blob_path("c1").read_bytes(), [cache.identity]).startswith(
        document
    )


def test_an_original_is_saved_only_on_request_unchanged(cache: Cache, tmp_path: Path) -> None:
    original = photo()
    ref = attach(cache, "orig", original)
    message = OpenedMessage(0, "report", "2026-12-01", None, None, {}, None, [ref])
    folder = tmp_path / "saved"
    line = evidence.save_original(context(cache), message, ref, folder)
    (saved,) = folder.iterdir()
    assert line == f"saved {saved}" and saved.read_bytes() == original  # metadata and all
    assert saved.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    for words in ("malware", "Uyghur and Tibetan", "offline or disposable"):
        assert words in evidence.ORIGINAL_WARNING

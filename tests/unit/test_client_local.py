"""The client on pulled ciphertext, offline: show (decrypt, render, save files), list, stats."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from caseworker_client import listing
from caseworker_client.identity import create_identity
from protocol import encode
from tests.support.client_cache import (
    REPORT_ID,
    Cache,
    invoke,
)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    cache = Cache(tmp_path / "home")
    cache.write()
    return cache


def test_show_decrypts_and_prints_the_report_readably(cache: Cache) -> None:
    result = invoke(cache.home, "show", REPORT_ID[:8])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in (
        "Pressure through a hometown or community association",
        "NL (Netherlands)",
        "Rotterdam",
        "Mr Wang",
        "Fuzhou public security bureau",
        "1. mother — Fuzhou",
        "anonymised",
        "zh_Hans",
        "Two men from the bureau called my mother.",
        "They called again.",
        "Internal note by alice",
        "Call back on Monday.",
        "Escalation to Legal aid",
        "only the partner can open it",
        "evil",
    ):
        assert expected in out, expected
    assert "\x1b" not in out and "\x07" not in out  # no terminal escapes from a reporter


def test_show_gives_each_relatives_choices_and_flags(cache: Cache) -> None:
    relatives = [
        {"relation": "father", "country": "CN", "harms": ["pension", "passport"],
         "may_share": True},
        {"relation": "sister", "location": "Fuzhou", "do_not_contact": True},
    ]  # fmt: skip
    cache.write(extra={"family": relatives})
    result = invoke(cache.home, "show", REPORT_ID)
    assert result.exit_code == 0, result.output
    assert (
        "1. father — CN (China) — Pension stopped or cut, Passport taken or refused — "
        "may be shared with partners"
    ) in result.output
    assert "2. sister — Fuzhou — DO NOT CONTACT" in result.output


def test_show_still_reads_a_v1_report(cache: Cache) -> None:
    """Reports stored before reporting/v2 keep showing, their categories too."""
    from tests.support.documents import V1_REPORT

    detail = cache.store.load_detail(REPORT_ID)
    assert detail is not None
    v1 = {**V1_REPORT, "attachments": []}
    detail["messages"] = [
        {**detail["messages"][0], "attachments": [],
         "document": cache.blob(f"{REPORT_ID}v", encode(v1), b" ")},
    ]  # fmt: skip
    cache.store.save_detail(detail)
    result = invoke(cache.home, "show", REPORT_ID)
    assert result.exit_code == 0, result.output
    assert "Threats to my job, residency or property" in result.output  # the v1 category
    assert "Relatives questioned, detained or punished" in result.output  # upgraded to v2
    assert "They called my mother again" in result.output


def test_show_saves_attachments_trimmed_under_safe_names(cache: Cache, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    result = invoke(cache.home, "show", REPORT_ID, "--save", str(folder))
    assert result.exit_code == 0, result.output
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == ["01-evil_.jpg", "02-call.txt"]
    assert (folder / "01-evil_.jpg").read_bytes() == cache.photo  # unchanged, padding cut off
    assert (folder / "02-call.txt").read_bytes() == cache.text_file
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert not list(tmp_path.glob("evil*")) and not list(cache.home.parent.glob("evil*"))

    again = invoke(cache.home, "show", REPORT_ID, "--save", str(folder))
    assert again.exit_code == 0
    assert "01-evil_ (2).jpg" in {p.name for p in folder.iterdir()}  # never overwritten


def test_show_strips_image_metadata_from_saved_copies(cache: Cache, tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    result = invoke(cache.home, "show", REPORT_ID, "--save", str(folder), "--strip-metadata")
    assert result.exit_code == 0, result.output
    photo = (folder / "01-evil_.jpg").read_bytes()
    assert b"PhoneMaker" not in photo and b"Exif" not in photo and b"taken at home" not in photo
    with Image.open(io.BytesIO(photo)) as image:
        assert (image.format, image.size, dict(image.getexif())) == ("JPEG", (20, 40), {})
    assert (folder / "02-call.txt").read_bytes() == cache.text_file
    assert "not a JPEG, PNG or WebP image" in result.output
    assert "without metadata" in result.output


def test_strip_metadata_needs_a_folder(cache: Cache) -> None:
    result = invoke(cache.home, "show", REPORT_ID, "--strip-metadata")
    assert result.exit_code == 2
    assert "--save" in result.output


def test_show_with_another_key_says_it_cannot_open(cache: Cache, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    create_identity(other)
    result = invoke(cache.home, "--identity", str(other), "show", REPORT_ID)
    assert result.exit_code == 1
    assert "not encrypted to your key" in result.output
    assert "Traceback" not in result.output


def test_unknown_or_ambiguous_prefix(cache: Cache) -> None:
    cache.write("r3port0000000000000000000002")
    ambiguous = invoke(cache.home, "show", "r3port")
    assert ambiguous.exit_code == 1 and "several reports" in ambiguous.output
    unknown = invoke(cache.home, "show", "zzz")
    assert unknown.exit_code == 1 and "no report id starts with" in unknown.output


def test_list_offline_shows_cached_metadata(cache: Cache) -> None:
    result = invoke(cache.home, "list", "--offline")
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split() == [
        "ID",
        "RECEIVED",
        "STATUS",
        "SEVERITY",
        "ASSIGNEE",
        "TAGS",
        "UNREAD",
        "HERE",
        "URGENT",
        "REPORTER",
    ]
    assert row.split() == [
        REPORT_ID[:10], "2026-11-28", "new", "-", "alice", "family", "yes", "-", "-"
    ]  # fmt: skip


def test_list_shows_what_the_reporter_changed_deletion_first() -> None:
    summaries = [
        {"id": "r-asked", "received_on": "2026-01-03", "deletion_requested_on": "2026-02-01",
         "deletion_due_on": "2026-02-08", "consent_changed_on": "2026-01-20"},
        {"id": "r-consent", "received_on": "2026-01-02", "consent_changed_on": "2026-01-21"},
        {"id": "r-plain", "received_on": "2026-01-01"},
        {"id": "r-hostile", "received_on": "2025-12-31",
         "deletion_requested_on": "2026-02-01\x1b[2J", "deletion_due_on": None},
    ]  # fmt: skip

    class Store:
        def load_index(self) -> dict[str, Any]:
            return {"reports": summaries}

        def details(self) -> list[dict[str, Any]]:
            return []

    class Context:
        store = Store()

        def caseworker_names(self) -> dict[str, str]:
            return {}

    shown = [row[-1] for row in listing.rows(Context())]  # type: ignore[arg-type]
    assert shown[:3] == [
        "deletion asked 2026-02-01, purged 2026-02-08",
        "consent changed 2026-01-21",
        "-",
    ]
    assert "\x1b" not in shown[3] and shown[3].endswith("purged ?")


@pytest.mark.slow
def test_stats_counts_and_writes_a_png(cache: Cache, tmp_path: Path) -> None:
    cache.write("r3port0000000000000000000002", country="DE", month="2026-10")
    png = tmp_path / "chart.png"
    result = invoke(cache.home, "stats", "--png", str(png))
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "2 report(s) decrypted on this machine." in lines
    assert "association_or_station 2" in lines and "threats_to_relatives 2" in lines
    assert "NL 1" in lines and "DE 1" in lines
    assert "2026-10 1" in lines and "2026-11 1" in lines
    assert any("came from 2 countries" in line for line in lines)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(png) as image:
        assert image.size[0] > 100
    assert "Mr Wang" not in result.output and "bureau" not in result.output


def test_an_altered_blob_is_refused_with_a_clear_message(cache: Cache) -> None:
    path = cache.store.blob_path(f"{REPORT_ID}d")
    data = bytearray(path.read_bytes())
    data[-40] ^= 1  # inside the payload: the header still opens, the chunk does not
    path.write_bytes(bytes(data))
    result = invoke(cache.home, "show", REPORT_ID)
    assert result.exit_code == 1
    assert "damaged or was altered" in result.output and "pull it again" in result.output
    assert "Traceback" not in result.output


def test_a_missing_blob_offline_says_to_pull(cache: Cache) -> None:
    cache.store.blob_path(f"{REPORT_ID}n").unlink()
    result = invoke(cache.home, "show", REPORT_ID)
    assert result.exit_code == 1
    assert "not logged in" in result.output  # it would fetch the missing file, and cannot

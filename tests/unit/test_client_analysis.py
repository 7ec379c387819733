"""`reporting-caseworker links` and `export` over pulled ciphertext, decrypted in memory."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from tests.support.client_cache import NARRATIVE, REPORT_ID, Cache, invoke

SECOND = "r3port0000000000000000000002"
THIRD = "r3port0000000000000000000003"


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    cache = Cache(tmp_path / "home", consent="full")
    cache.write(extra={"actor_phones": "+86 138 0013 8000"})
    cache.write(SECOND, country="DE", extra={"people": "called from 138-0013-8000"})
    alone = {"people": "", "station_address": "", "actor_phones": "+31 6 9999 0000"}
    cache.write(THIRD, extra={**alone, "consent": "none"})
    return cache


def test_links_lists_clusters_and_one_reports_links(cache: Cache) -> None:
    result = invoke(cache.home, "links")
    assert result.exit_code == 0, result.output
    assert "Cluster 1: 2 reports" in result.output
    assert "Phone numbers they used: +86 138 0013 8000" in result.output
    assert THIRD not in result.output
    one = invoke(cache.home, "links", SECOND)
    assert one.exit_code == 0, one.output
    assert f"{SECOND} is linked to:\n  {REPORT_ID}" in one.output
    assert "People or organisations involved: 138-0013-8000" in one.output
    none = invoke(cache.home, "links", THIRD)
    assert f"{THIRD} is linked to none." in none.output


@pytest.mark.parametrize("form", ["csv", "json"])
def test_export_aggregate_writes_a_private_file_without_reporters_words(
    cache: Cache, tmp_path: Path, form: str
) -> None:
    out = tmp_path / f"figures.{form}"
    args = ["export", "aggregate", "--format", form, "--min-count", "2", "-o", str(out)]
    result = invoke(cache.home, *args)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    for words in (NARRATIVE[:20], "Mr Wang", "138", "Somewhere street", "bureau"):
        assert words not in text
    if form == "json":
        figures = json.loads(text)
        assert figures["reports"] == 3 and figures["min_count"] == 2
    again = invoke(cache.home, *args)  # never replaces a file: the new one gets a number
    assert again.exit_code == 0 and (tmp_path / f"figures (2).{form}").exists()


def test_export_aggregate_refuses_a_threshold_that_withholds_nothing(
    cache: Cache, tmp_path: Path
) -> None:
    out = tmp_path / "figures.csv"
    result = invoke(cache.home, "export", "aggregate", "--min-count", "1", "-o", str(out))
    assert result.exit_code == 2 and "--min-count" in result.output
    assert not out.exists()


def test_export_cases_keeps_to_consent(cache: Cache, tmp_path: Path) -> None:
    out = tmp_path / "cases.csv"
    result = invoke(cache.home, "export", "cases", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "2 case(s) saved" in result.output and "1 report(s) left out" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(row["host_country"] for row in rows) == ["Germany", "Netherlands"]
    assert "actor_phones" not in rows[0] and "Mr Wang" not in out.read_text()
    flagged = tmp_path / "cases-identifying.csv"
    invoke(cache.home, "export", "cases", "--include-identifying", "-o", str(flagged))
    text = flagged.read_text()
    assert "+86 138 0013 8000" in text and "+31 6 9999 0000" not in text  # consent "none"

"""Exports of decrypted reports: aggregate figures for public reporting, and the cases whose
consent allows it, for a HURIDOCS Uwazi collection (uwazi.py). docs/exports.md is the
caseworker's guide to both.

The aggregate export publishes counts only (stats.tables), with small-count suppression:
a figure below the threshold (default 5) is withheld, because "2 reports of Interpol
notices from Iceland" points at two people. In a table whose rows add up to a published
total (each report in one row: host country, month, urgency, cities of one country) one
withheld row could be worked out as the total minus the others, so more rows are withheld,
smallest first, until the withheld rows add up to at least the threshold (complementary
suppression); every withheld row is marked alike, so nobody can tell which was the small
one. Choices of several answers (methods, actors…) add up to more than the reports and are
left alone. A city is the reporter's own words: one named by fewer reporters than the
threshold is never written, not even as withheld; it joins its country's "other cities".
The cities of a country whose count is withheld are withheld too: they add up to it.
Coarsening drops the cities, leaving countries. Codes the catalogue does not know, and
months that are not months, are published as "(unrecognised)", never as written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from caseworker_client.stats import UNKNOWN, Counts, Row, Table, tables
from protocol import catalogue
from protocol.catalogue import Kind

FORMAT = "reporting-aggregate/1"
DEFAULT_MIN_COUNT = 5
SUPPRESSED = "suppressed"  # the CSV's mark; JSON says {"suppressed": true}
OTHER_CITIES = "(other cities)"
UNRECOGNISED = "(unrecognised)"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_COUNTRY = re.compile(r"[A-Z]{2}")

# A spreadsheet runs a cell that starts with one of these as a formula (or, after a tab or
# carriage return, may): a reporter's words must never run on the reader's computer.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV (every cell made safe by csv_cell), CRLF line ends as the format says."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


@dataclass(frozen=True)
class Cell:
    """A published row: its count, or None when withheld."""

    row: Row
    count: int | None


def _recognised(table: Table, row: Row) -> Row:
    """The row, or the same count as "(unrecognised)" if its value is not a known code."""
    value = row.value
    if value == UNKNOWN or table.name == "where.city":
        return row
    if table.name == "month":
        ok = bool(_MONTH.fullmatch(value))
    else:
        counted = catalogue.field(table.name)
        if counted.kind is Kind.COUNTRY:
            ok = bool(_COUNTRY.fullmatch(value))
        elif counted.kind is Kind.FLAG:
            ok = value in ("yes", "no")
        else:
            ok = value in {c.code for c in counted.choices}
    return row if ok else Row(UNRECOGNISED, UNRECOGNISED, row.count, row.group)


def _merge(rows: Iterable[Row]) -> tuple[Row, ...]:
    """Rows with the same group and value added together, in first-seen order."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row.group, row.value)
        seen = merged.get(key)
        merged[key] = replace(seen, count=seen.count + row.count) if seen else row
    return tuple(merged.values())


def _fold_small_cities(rows: Iterable[Row], min_count: int) -> tuple[Row, ...]:
    folded = [
        row
        if row.count >= min_count or row.value == UNKNOWN
        else Row(OTHER_CITIES, OTHER_CITIES, row.count, row.group)
        for row in rows
    ]
    return _merge(folded)


def suppress(table: Table, min_count: int) -> list[Cell]:
    """The table's rows with small counts withheld, and, where the rows add up to a known
    total, the next smallest too until what is withheld adds up to `min_count` or more."""
    cells = [Cell(row, row.count if row.count >= min_count else None) for row in table.rows]
    if not table.partition:
        return cells
    for group in dict.fromkeys(cell.row.group for cell in cells):
        members = [i for i, cell in enumerate(cells) if cell.row.group == group]
        while True:
            hidden = [i for i in members if cells[i].count is None]
            shown = [i for i in members if cells[i].count is not None]
            if not hidden or not shown or sum(cells[i].row.count for i in hidden) >= min_count:
                break
            smallest = min(shown, key=lambda i: (cells[i].row.count, i))
            cells[smallest] = Cell(cells[smallest].row, None)
    return cells


def _withhold_cities_of_withheld_countries(published: list[tuple[Table, list[Cell]]]) -> None:
    """A country's cities add up to the country: if its count is withheld, so are they all,
    or they would give it away."""
    found = {table.name: cells for table, cells in published}
    countries, cities = found.get("where.country", []), found.get("where.city", [])
    withheld = {cell.row.value for cell in countries if cell.count is None}
    for index, cell in enumerate(cities):
        if cell.row.group in withheld:
            cities[index] = Cell(cell.row, None)


@dataclass(frozen=True)
class Aggregate:
    min_count: int
    places: str  # "city" or "country" (coarsened)
    reports: int | None
    tables: list[tuple[Table, list[Cell]]]


def aggregate(
    counts: Counts, min_count: int = DEFAULT_MIN_COUNT, coarsen_places: bool = False
) -> Aggregate:
    """The figures fit to publish (see the module docstring)."""
    if min_count < 1:
        raise ValueError("the smallest count to publish must be 1 or more")
    published = []
    for table in tables(counts):
        if table.name == "where.city" and coarsen_places:
            continue
        rows = _merge(_recognised(table, row) for row in table.rows)
        if table.name == "where.city":
            rows = _fold_small_cities(rows, min_count)
        table = replace(table, rows=rows)
        published.append((table, suppress(table, min_count)))
    _withhold_cities_of_withheld_countries(published)
    total = counts.reports if counts.reports >= min_count else None
    return Aggregate(min_count, "country" if coarsen_places else "city", total, published)


CSV_HEADER = ("table", "title", "group", "value", "label", "reports")


def aggregate_csv(result: Aggregate) -> str:
    """One line per figure; withheld counts say "suppressed"."""

    def shown(count: int | None) -> str | int:
        return SUPPRESSED if count is None else count

    rows: list[Sequence[Any]] = [CSV_HEADER]
    rows.append(("reports", "Reports", "", "all", "all reports", shown(result.reports)))
    for table, cells in result.tables:
        for cell in cells:
            r = cell.row
            rows.append((table.name, table.title, r.group, r.value, r.label, shown(cell.count)))
    return csv_text(rows)


def aggregate_json(result: Aggregate) -> str:
    def shown(count: int | None) -> int | dict[str, bool]:
        return {"suppressed": True} if count is None else count

    document: Mapping[str, Any] = {
        "format": FORMAT,
        "min_count": result.min_count,
        "places": result.places,
        "reports": shown(result.reports),
        "tables": [
            {
                "name": table.name,
                "title": table.title,
                "rows_add_up_to_reports": table.partition,
                "rows": [
                    {
                        **({"group": c.row.group} if c.row.group else {}),
                        "value": c.row.value,
                        "label": c.row.label,
                        "reports": shown(c.count),
                    }
                    for c in cells
                ],
            }
            for table, cells in result.tables
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

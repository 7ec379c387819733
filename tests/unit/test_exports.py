"""Exports (caseworker_client/exports.py, uwazi.py): figures with small counts withheld, and
the cases consent allows, as a Uwazi CSV safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from caseworker_client import exports
from caseworker_client.stats import Counts, Row, Table, chart, count, tables
from caseworker_client.uwazi import COLUMNS, case_rows
from tests.support.client_cache import decrypted_report

CANARY = "CANARY-7f3a9e-narrative"


def reports(*specs: tuple[int, dict[str, Any]], month: str = "2026-11") -> Counts:
    """Counts over `n` reports of each form answers given."""
    pairs = []
    for n, answers in specs:
        for _ in range(n):
            summary = {"id": f"r{len(pairs)}", "received_on": f"{month}-02"}
            pairs.append((summary, decrypted_report(**answers)))
    return count(pairs)


def figure(result: exports.Aggregate, name: str) -> dict[tuple[str, str], int | None]:
    [cells] = [cells for table, cells in result.tables if table.name == name]
    return {(c.row.group, c.row.value): c.count for c in cells}


@pytest.mark.parametrize(("n", "shown"), [(4, None), (5, 5)])
def test_a_count_below_the_threshold_is_withheld(n: int, shown: int | None) -> None:
    counts = reports((n, {"methods": ["interpol"]}), (20, {"methods": ["online"]}))
    result = exports.aggregate(counts, min_count=5)
    methods = figure(result, "methods")
    assert methods[("", "interpol")] == shown
    assert methods[("", "online")] == 20  # several answers a report: no total to recover from


def test_the_threshold_is_configurable() -> None:
    counts = reports((4, {"methods": ["interpol"]}), (20, {"methods": ["online"]}))
    assert figure(exports.aggregate(counts, min_count=3), "methods")[("", "interpol")] == 4
    assert figure(exports.aggregate(counts, min_count=25), "methods")[("", "online")] is None
    with pytest.raises(ValueError, match="1 or more"):
        exports.aggregate(counts, min_count=0)


def test_a_lone_withheld_row_of_a_total_takes_the_next_smallest_with_it() -> None:
    counts = reports((10, {"country": "NL"}), (6, {"country": "DE"}), (2, {"country": "BE"}))
    result = exports.aggregate(counts)
    assert figure(result, "where.country") == {("", "NL"): 10, ("", "DE"): None, ("", "BE"): None}
    assert result.reports == 18  # 18 - 10 = 8 tells nobody which country had 2


def test_rows_are_withheld_until_what_is_withheld_reaches_the_threshold() -> None:
    counts = reports(
        (10, {"country": "NL"}), (7, {"country": "FR"}),
        (2, {"country": "DE"}), (2, {"country": "BE"}),
    )  # fmt: skip
    countries = figure(exports.aggregate(counts), "where.country")
    assert countries == {("", "NL"): 10, ("", "FR"): None, ("", "DE"): None, ("", "BE"): None}
    enough = reports((10, {"country": "NL"}), (3, {"country": "DE"}), (3, {"country": "BE"}))
    countries = figure(exports.aggregate(enough), "where.country")
    assert countries == {("", "NL"): 10, ("", "DE"): None, ("", "BE"): None}


def test_complementary_suppression_on_a_plain_table() -> None:
    table = Table(
        "month", "Month", tuple(Row(m, m, n) for m, n in [("a", 9), ("b", 5), ("c", 1)]), True
    )
    assert [c.count for c in exports.suppress(table, 5)] == [9, None, None]
    table = Table("methods", "M", table.rows, False)
    assert [c.count for c in exports.suppress(table, 5)] == [9, 5, None]
    nothing_small = Table("month", "Month", (Row("a", "a", 9), Row("b", "b", 5)), True)
    assert [c.count for c in exports.suppress(nothing_small, 5)] == [9, 5]


def test_few_reports_withhold_even_the_total() -> None:
    result = exports.aggregate(reports((3, {"country": "NL"})))
    assert result.reports is None
    assert all(c.count is None for _, cells in result.tables for c in cells)


def test_rare_cities_are_never_named_and_each_country_is_its_own_total() -> None:
    counts = reports(
        (8, {"country": "NL", "city": "Rotterdam"}), (3, {"country": "NL", "city": " ROTTERDAM"}),
        (6, {"country": "NL", "city": "Utrecht"}),
        (2, {"country": "NL", "city": "Smallville-on-Sea"}),
        (9, {"country": "DE", "city": "Berlin"}),
    )  # fmt: skip
    result = exports.aggregate(counts)
    cities = figure(result, "where.city")
    assert cities == {
        ("DE", "berlin"): 9,
        ("NL", "rotterdam"): 11,  # "Rotterdam" and " ROTTERDAM" are one city
        ("NL", "utrecht"): None,  # withheld with "(other cities)", so it cannot be worked out
        ("NL", exports.OTHER_CITIES): None,
    }
    for text in (exports.aggregate_csv(result), exports.aggregate_json(result)):
        assert "smallville" not in text.lower()


def test_the_cities_of_a_withheld_country_are_withheld_too() -> None:
    counts = reports(
        (10, {"country": "DE", "city": "Berlin"}), (6, {"country": "NL", "city": "Utrecht"}),
        (2, {"country": "BE", "city": "Gent"}),
    )  # fmt: skip
    result = exports.aggregate(counts)
    assert figure(result, "where.country")[("", "NL")] is None  # withheld to protect BE
    cities = figure(result, "where.city")
    assert cities[("NL", "utrecht")] is None and cities[("DE", "berlin")] == 10


def test_coarsening_publishes_countries_and_no_city() -> None:
    counts = reports(
        (8, {"country": "NL", "city": "Rotterdam"}), (6, {"country": "DE", "city": "Berlin"})
    )
    result = exports.aggregate(counts, coarsen_places=True)
    assert "where.city" not in [table.name for table, _ in result.tables]
    assert figure(result, "where.country") == {("", "NL"): 8, ("", "DE"): 6}
    for text in (exports.aggregate_csv(result), exports.aggregate_json(result)):
        assert "rotterdam" not in text.lower() and "berlin" not in text.lower()
    assert json.loads(exports.aggregate_json(result))["places"] == "country"


def test_methods_actors_countries_and_months_are_all_published() -> None:
    counts = reports((6, {"methods": ["online"], "actors": ["embassy"], "country": "NL"}))
    names = [table.name for table, _ in exports.aggregate(counts).tables]
    for name in ("methods", "actors", "where.country", "month", "where.city", "urgent"):
        assert name in names
    assert [t.name for t in tables(counts)] == names


def test_tables_count_urgency_and_cities_by_country() -> None:
    counts = reports(
        (2, {"urgent": True, "country": "NL", "city": "Den  Haag"}),
        (1, {"country": "nl", "city": "den haag"}), (1, {"country": "DE"}),
    )  # fmt: skip
    found = {table.name: table for table in tables(counts)}
    assert [(r.value, r.count) for r in found["urgent"].rows] == [("yes", 2), ("no", 2)]
    assert found["urgent"].partition and not found["methods"].partition
    cities = [(r.group, r.value, r.count) for r in found["where.city"].rows]
    assert cities == [("DE", "(not given)", 1), ("NL", "den haag", 3)]
    assert [(r.value, r.label) for r in found["where.country"].rows] == [
        ("NL", "Netherlands"), ("DE", "Germany"),
    ]  # fmt: skip


def test_the_chart_can_be_drawn_in_memory_for_the_desk() -> None:
    buffer = io.BytesIO()
    chart(reports((6, {"country": "NL", "city": "Utrecht", "methods": ["online"]})), buffer)
    assert buffer.getvalue().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_chart_draws_city_names_in_any_script() -> None:
    """A city the reporter wrote in Chinese or Uyghur: drawn with a font that has it where
    this computer has one, as boxes otherwise, never a failure (the desk's page shows it)."""
    buffer = io.BytesIO()
    cities = reports((2, {"country": "NL", "city": "鹿特丹"}), (2, {"city": "ئۈرۈمچی"}))
    chart(cities, buffer)
    assert buffer.getvalue().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_csv_and_json_mark_withheld_figures() -> None:
    counts = reports((4, {"methods": ["interpol"]}), (20, {"methods": ["online"]}))
    result = exports.aggregate(counts)
    rows = list(csv.DictReader(io.StringIO(exports.aggregate_csv(result))))
    assert list(rows[0]) == list(exports.CSV_HEADER)
    by_value = {(r["table"], r["value"]): r["reports"] for r in rows}
    assert by_value[("reports", "all")] == "24"
    assert by_value[("methods", "interpol")] == "suppressed"
    assert by_value[("methods", "online")] == "20"
    document = json.loads(exports.aggregate_json(result))
    assert document["min_count"] == 5 and document["reports"] == 24
    [methods] = [t for t in document["tables"] if t["name"] == "methods"]
    assert {"value": "interpol", "label": "An Interpol notice or an extradition request",
            "reports": {"suppressed": True}} in methods["rows"]  # fmt: skip


def test_canary_no_reporter_words_reach_the_aggregate_export() -> None:
    planted = {
        "narrative": f"They said {CANARY} to me.",
        "people": f"Mr {CANARY}",
        "affiliation": CANARY,
        "city": f"{CANARY}-town",
        "place": {"text": CANARY},
        "actor_names": CANARY,
        "when_note": CANARY,
        "family": [{"relation": CANARY, "what_happened": CANARY, "may_share": True}],
    }
    counts = reports((3, planted), (7, {"country": "NL", "city": "Utrecht"}))
    counts.by_field["methods"][CANARY] += 9  # a code the catalogue does not know
    counts.months[CANARY] += 9
    for coarsen in (False, True):
        result = exports.aggregate(counts, coarsen_places=coarsen)
        for text in (exports.aggregate_csv(result), exports.aggregate_json(result)):
            assert CANARY.lower() not in text.lower()
            assert exports.UNRECOGNISED in text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("plain = text", "plain = text"),
        ("", ""), (5, "5"),
    ],
)  # fmt: skip
def test_csv_cells_cannot_start_a_formula(value: Any, written: str) -> None:
    assert exports.csv_cell(value) == written
    [[cell]] = list(csv.reader(io.StringIO(exports.csv_text([[value]]))))
    assert cell == written


# -- the case-level export for Uwazi ----------------------------------------------------------

IDENTIFYING = {
    "city": "Rotterdam", "place": {"text": "Station 12"}, "station_address": "Dock street 3",
    "police_place": "Fuzhou", "people": "Mr Wang", "actor_phones": "+86 138 0013 8000",
    "actor_accounts": "wx_wang", "actor_names": "Officer Li", "actor_plates": "AB-123-C",
}  # fmt: skip
FAMILY = [
    {"relation": "mother", "country": "CN", "location": "Fuzhou, Mawei", "harms": ["questioned",
     "pension"], "what_happened": "visited twice", "may_share": True, "do_not_contact": True},
    {"relation": "brother", "location": "Xiamen", "what_happened": "secret", "may_share": False},
]  # fmt: skip


def case(consent: str, server: str | None = None, **answers: Any) -> tuple[dict, dict]:
    summary = {"id": f"id-{consent}-{len(answers)}", "received_on": "2026-11-02",
               "consent": server or consent}  # fmt: skip
    return summary, decrypted_report(consent, **answers)


def by_column(export: Any) -> list[dict[str, str]]:
    return [dict(zip(export.header, row, strict=True)) for row in export.rows]


def test_only_reports_whose_consent_allows_sharing_are_exported() -> None:
    export = case_rows(
        [
            case("full"),
            case("anonymised"),
            case("none"),
            case("full", server="none"),  # the stricter of the two copies decides
            ({"id": "no-consent", "received_on": "2026-11-02"}, decrypted_report("full")),
        ]
    )
    assert [row["consent"] for row in by_column(export)] == ["full", "anonymised"]
    assert [why for _, why in export.left_out if "do not share" in why] != []
    assert len(export.left_out) == 3


def test_the_uwazi_columns_and_their_values() -> None:
    answers = {
        "methods": ["interpol", "online"], "actors": ["embassy"], "contact": ["phone"],
        "contact_app": "WeChat", "demands": ["return_home"], "deadline": "2026-12",
        "urgent": True, "country": "NL", "date_from": "2025-03", "when_note": "weekly",
        "affiliation": "a public security bureau", "narrative": "They called.", "family": FAMILY,
        **IDENTIFYING,
    }  # fmt: skip
    [row] = by_column(case_rows([case("full", **answers)]))
    assert list(row) == ["title", "received", "consent"] + [
        c.name for c in COLUMNS if not c.identifying
    ]
    assert row["title"] == "Case 1 (received 2026-11)" and row["received"] == "2026-11"
    assert row["what_they_did"] == "An Interpol notice or an extradition request|Online " \
        "harassment, impersonation or hacking attempts"  # fmt: skip
    assert row["who_did_it"] == "Embassy or consulate staff"
    assert row["host_country"] == "Netherlands" and row["urgent"] == "yes"
    assert row["date_from"] == "2025-03" and row["narrative"] == "They called."
    assert row["relatives"] == (
        "mother in CN: Questioned or visited by police, Pension stopped or cut (visited twice) "
        "DO NOT CONTACT"
    )
    assert row["relatives_do_not_contact"] == "yes"
    text = exports.csv_text([("x",), *[tuple(row.values())]])
    for secret in ("brother", "Xiamen", "secret", *(str(v) for v in IDENTIFYING.values())):
        assert secret not in text, secret  # no identifier without the flag
    assert "id-full" not in text and "zh_Hans" not in text


def test_identifiers_need_the_flag_and_a_report_shared_in_full() -> None:
    export = case_rows(
        [case("full", **IDENTIFYING, family=FAMILY), case("anonymised", **IDENTIFYING)],
        include_identifying=True,
    )
    full, anonymised = by_column(export)
    assert full["actor_phones"] == "+86 138 0013 8000" and full["city"] == "Rotterdam"
    assert full["station_or_office"] == "Station 12"
    assert full["relatives_locations"] == "Fuzhou, Mawei"  # the relative allowed to share only
    assert all(anonymised[c.name] == "" for c in COLUMNS if c.identifying)


def test_case_cells_cannot_start_a_formula() -> None:
    export = case_rows([case("full", narrative='=HYPERLINK("http://evil","x")')])
    text = exports.csv_text([export.header, *export.rows])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["narrative"] == '\'=HYPERLINK("http://evil","x")'

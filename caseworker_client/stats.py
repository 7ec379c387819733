"""Aggregate figures over locally decrypted reports: what an NGO publishes, nothing more.

Counts by each field the catalogue (protocol/catalogue.py) marks `counted` (methods,
actors, contact, demands, harms to relatives, urgency, the host country, and the
categories of older reports), by month received, and by city within its host country.
Only numbers and the codes of choices and countries leave this module, and city names:
the city is the reporter's own words (NFKC, casefolded, spaces collapsed), shown to the
caseworker here and published only through exports.py, which withholds small counts.
`tables` gives the figures as plain rows for the desk and the exports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from caseworker_client import normalise
from protocol import catalogue
from protocol.catalogue import Field, Kind, walk

UNKNOWN = "(not given)"


def counted_fields() -> tuple[Field, ...]:
    """The fields statistics may count, as the catalogue says when they are counted."""
    return tuple(f for f in walk() if f.counted)


@dataclass
class Counts:
    reports: int = 0
    by_field: dict[str, Counter[str]] = field(
        default_factory=lambda: {f.path: Counter() for f in counted_fields()}
    )
    months: Counter[str] = field(default_factory=Counter)
    station_countries: set[str] = field(default_factory=set)
    cities: Counter[tuple[str, str]] = field(default_factory=Counter)  # (country, city)


def values_at(value: Any, keys: list[str]) -> list[Any]:
    """The values at a dotted path, through the entries of repeated groups."""
    if not keys:
        return value if isinstance(value, list) else [value]
    if isinstance(value, list):
        return [found for item in value for found in values_at(item, keys)]
    if isinstance(value, Mapping):
        return values_at(value.get(keys[0]), keys[1:])
    return []


def answers(document: Mapping[str, Any], counted: Field) -> list[str]:
    """The codes a report gives for a counted field ([UNKNOWN] when it gives none)."""
    values = values_at(document, counted.path.split("."))
    if counted.kind is Kind.FLAG:  # a ticked box, or one left unticked
        values = ["yes" if v is True else "no" for v in values if isinstance(v, bool)]
    codes = list(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))
    if counted.kind is Kind.COUNTRY:
        codes = [code.upper() for code in codes]
    return codes or [UNKNOWN]


STATION_CODES = {
    "categories": "police_station",  # reporting/v1
    "methods": "association_or_station",
    "actors": "service_station",
}


def _met_a_station(document: Mapping[str, Any]) -> bool:
    return any(
        code in answers(document, catalogue.field(path)) for path, code in STATION_CODES.items()
    )


def count(reports: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> Counts:
    """Count (summary, decrypted report document) pairs."""
    counts = Counts()
    for summary, document in reports:
        counts.reports += 1
        for counted in counted_fields():
            if counted.retired and counted.path not in document:
                continue  # asked only in older reports: newer ones are not "not given"
            counts.by_field[counted.path].update(answers(document, counted))
        counts.months[str(summary.get("received_on") or "")[:7] or UNKNOWN] += 1
        # The one figure published about overseas "police service stations": in how many
        # host countries reporters met one.
        [country] = answers(document, catalogue.field("where.country"))
        if country != UNKNOWN and _met_a_station(document):
            counts.station_countries.add(country)
        counts.cities[(country, city(document))] += 1
    return counts


def city(document: Mapping[str, Any]) -> str:
    """The report's city, normalised so that "Rotterdam" and "ROTTERDAM " count as one."""
    values = [v for v in values_at(document, ["where", "city"]) if isinstance(v, str)]
    name = normalise.text(values[0]) if values else ""
    return name if normalise.meaningful(name) else UNKNOWN


@dataclass(frozen=True)
class Row:
    value: str  # a choice's code, a country code, a month, a city as normalised
    label: str  # what it means, in English
    count: int
    group: str = ""  # of a city: its host country's code


@dataclass(frozen=True)
class Table:
    """One figure as plain rows, for the desk to render and the exports to publish.

    `partition`: every report is in exactly one row (of its group, for cities), so the
    rows add up to the number of reports; a choice of several answers does not."""

    name: str
    title: str
    rows: tuple[Row, ...]
    partition: bool


def _label(counted: Field, value: str) -> str:
    if value == UNKNOWN:
        return value
    if counted.kind is Kind.COUNTRY:
        from caseworker_client.render import country_name

        return country_name(value).partition(" (")[2].rstrip(")") or value
    return counted.label_of(value)


def _one_per_report(counted: Field) -> bool:
    """Whether each report gives exactly one answer (UNKNOWN included) to the field."""
    parent = counted.path.rpartition(".")[0]
    repeated = bool(parent) and bool(catalogue.field(parent).max_entries)
    return counted.kind is not Kind.MULTIPLE and not repeated


def tables(counts: Counts) -> list[Table]:
    """Every figure: each counted field, then the month received, then cities by country."""
    result = []
    for path, counter in counts.by_field.items():
        if not counter:  # a field no decrypted report holds (retired, or not yet asked)
            continue
        counted = catalogue.field(path)
        rows = tuple(Row(v, _label(counted, v), n) for v, n in counter.most_common())
        result.append(Table(path, counted.name, rows, _one_per_report(counted)))
    months = tuple(Row(m, m, n) for m, n in sorted(counts.months.items()))
    result.append(Table("month", "Month received", months, True))
    cities = sorted(counts.cities.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    rows = tuple(Row(name, name, n, country) for (country, name), n in cities)
    result.append(Table("where.city", catalogue.field("where.city").name, rows, True))
    return result


def _rows(title: str, counter: Counter[str], by_key: bool = False) -> list[str]:
    items = sorted(counter.items()) if by_key else counter.most_common()
    width = max([len(title), *(len(k) for k, _ in items)])
    lines = [f"{title:<{width}}  reports", f"{'-' * width}  -------"]
    lines += [f"{key:<{width}}  {value:>7}" for key, value in items]
    return [*lines, ""]


def _city_counter(counts: Counts, top: int = 0) -> Counter[str]:
    found = Counter({f"{country} {name}": n for (country, name), n in counts.cities.items()})
    return Counter(dict(found.most_common(top or None)))


def table(counts: Counts) -> str:
    """The three counts as plain-text tables."""
    lines = [f"{counts.reports} report(s) decrypted on this machine.", ""]
    if counts.reports:
        for path, counter in counts.by_field.items():
            if counter:  # a field no decrypted report holds (retired, or not yet asked)
                lines += _rows(catalogue.field(path).name.lower(), counter)
        lines += _rows("month received", counts.months, by_key=True)
        lines += _rows("city", _city_counter(counts))
        n = len(counts.station_countries)
        lines.append(
            f"Reports of overseas police “service stations” came from {n} "
            f"countr{'y' if n == 1 else 'ies'}."
        )
    return "\n".join(lines).rstrip() + "\n"


# Fonts for city names in the reporters' scripts, tried after matplotlib's own where the
# caseworker's computer has them (a letter no font has is drawn as a box).
CHART_FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Sans Arabic",
    "Noto Sans Tibetan",
)


def chart(counts: Counts, path: Path | BinaryIO) -> None:
    """A bar chart per counted field, by month and by city, in one PNG (matplotlib's Agg
    canvas: no display needed), saved to a file or, for the desk, a buffer in memory."""
    import warnings

    from matplotlib import rc_context
    from matplotlib.font_manager import fontManager

    installed = {font.name for font in fontManager.ttflist}
    fonts = [name for name in CHART_FONTS if name in installed] or ["sans-serif"]
    with rc_context({"font.family": fonts}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        _draw(counts, path)


def _draw(counts: Counts, path: Path | BinaryIO) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [
        (f"By {catalogue.field(path).name.lower()}", counter.most_common())
        for path, counter in counts.by_field.items()
        if counter
    ]
    panels.append(("By month received", sorted(counts.months.items())))
    panels.append(("By city (the 15 most reported)", _city_counter(counts, 15).most_common()))
    figure = Figure(figsize=(9, 3.4 * len(panels)), layout="constrained")
    FigureCanvasAgg(figure)
    for index, (title, items) in enumerate(panels, start=1):
        axes = figure.add_subplot(len(panels), 1, index)
        labels = [k for k, _ in items]
        axes.barh(labels, [v for _, v in items], color="#3b6ea5")
        axes.invert_yaxis()
        axes.set_title(title)
        axes.set_xlabel("reports")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(f"{counts.reports} reports")
    figure.savefig(path, format="png", dpi=100)

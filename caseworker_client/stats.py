"""Aggregate figures over locally decrypted reports: what an NGO publishes, nothing more.

Counts by each field the catalogue (protocol/catalogue.py) marks `counted` (the
categories and the host country today) and by month received; no report's words
leave this module, only numbers and the codes of choices and countries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    return counts


def _rows(title: str, counter: Counter[str], by_key: bool = False) -> list[str]:
    items = sorted(counter.items()) if by_key else counter.most_common()
    width = max([len(title), *(len(k) for k, _ in items)])
    lines = [f"{title:<{width}}  reports", f"{'-' * width}  -------"]
    lines += [f"{key:<{width}}  {value:>7}" for key, value in items]
    return [*lines, ""]


def table(counts: Counts) -> str:
    """The three counts as plain-text tables."""
    lines = [f"{counts.reports} report(s) decrypted on this machine.", ""]
    if counts.reports:
        for path, counter in counts.by_field.items():
            if counter:  # a field no decrypted report holds (retired, or not yet asked)
                lines += _rows(catalogue.field(path).name.lower(), counter)
        lines += _rows("month received", counts.months, by_key=True)
        n = len(counts.station_countries)
        lines.append(
            f"Reports of overseas police “service stations” came from {n} "
            f"countr{'y' if n == 1 else 'ies'}."
        )
    return "\n".join(lines).rstrip() + "\n"


def chart(counts: Counts, path: Path) -> None:
    """A bar chart per counted field and one by month, in one PNG (matplotlib's Agg canvas:
    no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [
        (f"By {catalogue.field(path).name.lower()}", counter.most_common())
        for path, counter in counts.by_field.items()
        if counter
    ]
    panels.append(("By month received", sorted(counts.months.items())))
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

"""Aggregate figures over locally decrypted reports: what an NGO publishes, nothing more.

Counts by category, host country and month received; no report's words leave
this module, only numbers and the names of categories and countries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNKNOWN = "(not given)"


@dataclass
class Counts:
    reports: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    countries: Counter[str] = field(default_factory=Counter)
    months: Counter[str] = field(default_factory=Counter)
    station_countries: set[str] = field(default_factory=set)


def count(reports: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> Counts:
    """Count (summary, decrypted report document) pairs."""
    counts = Counts()
    for summary, document in reports:
        counts.reports += 1
        categories = [str(c) for c in document.get("categories") or []] or [UNKNOWN]
        counts.categories.update(categories)
        country = str((document.get("where") or {}).get("country") or "").upper() or UNKNOWN
        counts.countries[country] += 1
        counts.months[str(summary.get("received_on") or "")[:7] or UNKNOWN] += 1
        if "police_station" in categories and country != UNKNOWN:
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
        lines += _rows("category", counts.categories)
        lines += _rows("host country", counts.countries)
        lines += _rows("month received", counts.months, by_key=True)
        n = len(counts.station_countries)
        lines.append(
            f"Reports of overseas police “service stations” came from {n} "
            f"countr{'y' if n == 1 else 'ies'}."
        )
    return "\n".join(lines).rstrip() + "\n"


def chart(counts: Counts, path: Path) -> None:
    """Three bar charts in one PNG; matplotlib's Agg canvas, so no display is needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [
        ("By category", counts.categories.most_common()),
        ("By host country", counts.countries.most_common()),
        ("By month received", sorted(counts.months.items())),
    ]
    figure = Figure(figsize=(9, 10), layout="constrained")
    FigureCanvasAgg(figure)
    for index, (title, items) in enumerate(panels, start=1):
        axes = figure.add_subplot(3, 1, index)
        labels = [k for k, _ in items]
        axes.barh(labels, [v for _, v in items], color="#3b6ea5")
        axes.invert_yaxis()
        axes.set_title(title)
        axes.set_xlabel("reports")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(f"{counts.reports} reports")
    figure.savefig(path, format="png", dpi=100)

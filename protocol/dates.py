"""Dates kept to the day: what a reporter did is never recorded to the second."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """The UTC date: reporters' times are kept to the day, never to the second."""
    return datetime.now(UTC).date()


def parse_day(value: str) -> date:
    """An ISO day (YYYY-MM-DD) and nothing finer; ValueError for anything else."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("a day is written YYYY-MM-DD")
    return date.fromisoformat(value)

"""Column helpers shared by the models: random ids and dates coarsened to the day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from crypto.tokens import new_secret_hex

ID_LENGTH = 32


def new_id() -> str:
    """A random 128-bit id: it says nothing about order, time or content."""
    return new_secret_hex(16)


def today() -> date:
    """The UTC date: reporters' times are kept to the day, never to the second."""
    return datetime.now(UTC).date()

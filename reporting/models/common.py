"""Column helpers shared by the models: random ids and dates coarsened to the day."""

from __future__ import annotations

from crypto.tokens import new_secret_hex
from protocol.dates import today

__all__ = ["ID_LENGTH", "new_id", "today"]

ID_LENGTH = 32


def new_id() -> str:
    """A random 128-bit id: it says nothing about order, time or content."""
    return new_secret_hex(16)

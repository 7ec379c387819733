"""What the triage modules share: the "leave it" marker, the error, and id checks."""

from __future__ import annotations

from typing import Any, Final

from reporting.infra.exceptions import Refused
from reporting.models.common import ID_LENGTH


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
"""Leaves a triage field as it is (None means "clear it")."""


class TriageError(Refused, ValueError):
    """A refused triage change or filter: `message` is for people, `field` names the input."""


def choice(kind: Any, value: Any, name: str) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        message = f"Unknown {name} {str(value)[:40]!r}: use one of {allowed}."
        raise TriageError(message, name) from None


def is_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == ID_LENGTH
        and all(c in "0123456789abcdef" for c in value)
    )

"""What `flask doctor` reports: a problem and what to do about it, unsafe or a warning."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The marker deploy/env.example puts where the operator must fill something in.
PLACEHOLDER = "CHANGE-ME"


class Severity(StrEnum):
    """UNSAFE findings make the command exit 1; a WARNING is only shown."""

    UNSAFE = "unsafe"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: what is wrong, and what the operator should do about it."""

    severity: Severity
    problem: str
    fix: str


def unsafe(problem: str, fix: str) -> list[Finding]:
    """One unsafe finding, as a list, so checks can add findings up."""
    return [Finding(Severity.UNSAFE, problem, fix)]

"""The web service's own exceptions: one family, so a reader (and a handler) can tell a
refusal the person must read from a service that cannot answer, and both from a bug.

- `Refused`: bad input or a change the service will not make. Its `message` is a sentence
  to show as it is (it never repeats a secret that was pasted), `field` names the input at
  fault when one is; nothing was stored.
- `Unavailable`: the database could not answer, or could not say whether it stored
  something; the person is told to try again later, never that nothing was stored.

Each feature refuses with its own subclass (`AdminError`, `TriageError`, `KeyRefused`…),
so callers catch what they can handle. crypto/ and protocol/ have their own roots
(`crypto.errors.CryptoError`, `protocol.DocumentError`).
"""

from __future__ import annotations


class ReportingError(Exception):
    """Base of every error the web service raises on purpose (anything else is a bug)."""


class Refused(ReportingError):
    """A refused request or change, with a sentence for the person at the keyboard."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unavailable(ReportingError):
    """The database could not answer, or cannot say whether a change was stored."""

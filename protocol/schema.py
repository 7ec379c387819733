"""The names both ends agree on: schemas, document kinds, consent codes, the one error.

Every encrypted document names its schema, so the caseworker client (and a
caseworker reading the output of the stock `age` command) knows what it holds.
A schema not listed here is refused, never guessed at.
"""

from __future__ import annotations

SCHEMA_V1 = "reporting/v1"
SCHEMA_V2 = "reporting/v2"  # v1 and the vocabulary of transnational repression
SCHEMA = SCHEMA_V2  # what new documents are written in
VERSION = 2
KNOWN_SCHEMAS = (SCHEMA_V1, SCHEMA_V2)


def version(schema: str) -> int:
    """The version number of one of the KNOWN_SCHEMAS ("reporting/v2" is 2)."""
    return KNOWN_SCHEMAS.index(schema) + 1


REPORT = "report"
FOLLOWUP = "followup"
REPLY = "reply"
STATUS_NOTE = "status_note"
NOTE = "note"  # an internal note between caseworkers
ESCALATION = "escalation"
KINDS = (REPORT, FOLLOWUP, REPLY, STATUS_NOTE, NOTE, ESCALATION)

# What the reporter allowed, from the strictest: kept in clear on the server too.
CONSENTS = ("none", "anonymised", "full")


class DocumentError(ValueError):
    """A document that cannot be read as one of ours: the one error every reader raises."""

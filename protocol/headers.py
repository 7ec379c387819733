"""The HTTP headers a webhook delivery carries besides its signature.

The worker sends them and the NGO receiver keeps them beside the ciphertext, so
both read the names from here. They name ids, never content.
"""

from __future__ import annotations

ORGANISATION = "x-reporting-organisation"
REPORT = "x-reporting-report"
MESSAGE = "x-reporting-message"
KIND = "x-reporting-kind"
PART = "x-reporting-part"
METADATA_HEADERS = (REPORT, MESSAGE, KIND, PART, ORGANISATION)


def delivery_headers(
    organisation: str, report: str, message: str, kind: str, part: int
) -> dict[str, str]:
    """The metadata headers of one delivered blob (part 0 is the message's document)."""
    return {
        ORGANISATION: organisation,
        REPORT: report,
        MESSAGE: message,
        KIND: kind,
        PART: str(part),
    }

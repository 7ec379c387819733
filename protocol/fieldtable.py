"""The table of report fields in docs/report-fields.md, written from the catalogue.

Regenerate it after changing protocol/catalogue.py:
    .venv/bin/python -m protocol.fieldtable > docs/report-fields.md
tests/app/test_catalogue.py fails while the page and the catalogue disagree.
"""

from __future__ import annotations

from protocol import catalogue
from protocol.fields import Field

INTRO = """# The fields of a report

Written from `protocol/catalogue.py` by `python -m protocol.fieldtable`; do not edit by
hand. Every field is inside the encrypted document (schema `reporting/v2`): the server
stores none of them in clear except consent, which it keeps beside the ciphertext so
that it can refuse an escalation the reporter did not allow, and urgency, so that an
urgent report is notified at once and sorted first (deploy/THREAT-MODEL.md weighs it).

- **identifies**: names, places, accounts or files that can point at a person.
- **anonymised**: an escalation the reporter allowed only without identifying details
  keeps it; any other field is withheld (a field added later is withheld until its
  catalogue entry says otherwise).
- **counted**: `reporting-caseworker stats` counts its answers.
- **links**: `reporting-caseworker links` links reports that share an answer, compared as
  this kind of value (docs/exports.md); only identifying fields link.
- **required**: in every report; a field that is not may be missing (not answered, or a
  report written before the field existed).
- **schemas**: the schema versions whose form asks for it (`v1+`: since v1, still asked;
  `v1 only`: asked only in v1, still read). A v1 report is read and upgraded in memory: its
  categories are also given as v2 methods.
"""


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _versions(field: Field) -> str:
    if field.until:
        return (
            f"v{field.since} only"
            if field.until == field.since
            else f"v{field.since}-v{field.until}"
        )
    return f"v{field.since}+"


def _row(field: Field) -> str:
    codes = ", ".join(f"`{c.code}`" for c in field.choices)
    cells = [
        f"`{field.path}`",
        field.kind.value,
        field.label.replace("|", "\\|"),
        _yes(field.required),
        _yes(field.identifying),
        _yes(field.anonymised),
        _yes(field.counted),
        field.links.value,
        _versions(field),
        codes,
    ]
    return "| " + " | ".join(cells) + " |"


def markdown() -> str:
    """The whole page."""
    header = [
        "| field | kind | label | required | identifies | anonymised | counted | links | schemas "
        "| codes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [_row(field) for field in catalogue.walk()]
    return INTRO + "\n" + "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

"""The case-level export: one row per report whose consent allows sharing, as the columns of
a HURIDOCS Uwazi CSV import (docs/exports.md maps every column to its field).

Consent decides as it does for an escalation (escalate.shareable_report): a report whose
reporter chose "do not share", or that records no consent, is left out; "anonymised"
keeps only the fields the catalogue marks `anonymised`; relatives the reporter did not
allow to share are left out whatever the consent. On top of that the export leaves out,
for every report, what identifies the reporter, their relatives or the people who acted
(city, station, names, numbers, accounts, plates, where relatives live) unless the
caseworker asks for them (`include_identifying`), and even then only from reports shared
"in full". Never exported: files, the reporter's languages, the day they wrote, follow-ups,
replies, notes, and the server's id of the report (it would tie a published case to the
server's records): rows are numbered within the export instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from caseworker_client.errors import ClientError
from caseworker_client.escalate import shareable_report
from caseworker_client.render import country_name
from caseworker_client.stats import values_at
from protocol import catalogue

MULTI_SEPARATOR = "|"  # how Uwazi's import separates the values of a multiple select


def _text(path: str) -> Callable[[Mapping[str, Any]], str]:
    def read(report: Mapping[str, Any]) -> str:
        found = values_at(report, path.split("."))
        return "; ".join(str(v).strip() for v in found if isinstance(v, str) and v.strip())

    return read


def _choices(path: str) -> Callable[[Mapping[str, Any]], str]:
    field = catalogue.field(path)

    def read(report: Mapping[str, Any]) -> str:
        codes = [v for v in values_at(report, path.split(".")) if isinstance(v, str) and v]
        return MULTI_SEPARATOR.join(field.label_of(code) for code in dict.fromkeys(codes))

    return read


def _country(report: Mapping[str, Any]) -> str:
    code = _text("where.country")(report)
    return country_name(code).partition(" (")[2].rstrip(")") or code


def _place(report: Mapping[str, Any]) -> str:
    place = (report.get("where") or {}).get("place") or {}
    return str(place.get("name") or place.get("text") or "") if isinstance(place, dict) else ""


def _relatives(report: Mapping[str, Any]) -> str:
    """One line per relative the reporter allowed to share: relation, country, harms, words."""
    harms = catalogue.field("family.harms")
    lines = []
    for entry in report.get("family") or []:
        if not isinstance(entry, dict):
            continue
        parts = [str(entry.get("relation") or "relative")]
        if entry.get("country"):
            parts.append(f"in {entry['country']}")
        done = [harms.label_of(str(h)) for h in entry.get("harms") or []]
        line = " ".join(parts) + (": " + ", ".join(done) if done else "")
        if entry.get("what_happened"):
            line += f" ({entry['what_happened']})"
        if entry.get("do_not_contact") is True:
            line += " DO NOT CONTACT"
        lines.append(line)
    return "\n".join(lines)


def _do_not_contact(report: Mapping[str, Any]) -> str:
    flags = [e.get("do_not_contact") for e in report.get("family") or [] if isinstance(e, dict)]
    return "yes" if any(flag is True for flag in flags) else ""


def _urgent(report: Mapping[str, Any]) -> str:
    return {True: "yes", False: "no"}.get(report.get("urgent"), "")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Column:
    name: str  # the Uwazi property's name
    read: Callable[[Mapping[str, Any]], str]
    identifying: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("urgent", _urgent),
    Column("host_country", _country),
    Column("what_they_did", _choices("methods")),
    Column("who_did_it", _choices("actors")),
    Column("how_they_made_contact", _choices("contact")),
    Column("messaging_app", _text("contact_app")),
    Column("what_they_demanded", _choices("demands")),
    Column("deadline", _text("deadline")),
    Column("what_happened", _choices("categories")),  # reports of schema v1
    Column("date_from", _text("when.from")),
    Column("date_to", _text("when.to")),
    Column("when_note", _text("when.note")),
    Column("said_they_worked_for", _text("who.affiliation")),
    Column("narrative", _text("narrative")),
    Column("relatives", _relatives),
    Column("harms_to_relatives", _choices("family.harms")),
    Column("relatives_do_not_contact", _do_not_contact),
    Column("city", _text("where.city"), identifying=True),
    Column("station_or_office", _place, identifying=True),
    Column("station_address", _text("who.station_address"), identifying=True),
    Column("police_place", _text("police_place"), identifying=True),
    Column("people_involved", _text("who.people"), identifying=True),
    Column("actor_phones", _text("identifiers.phones"), identifying=True),
    Column("actor_accounts", _text("identifiers.accounts"), identifying=True),
    Column("actor_names", _text("identifiers.names"), identifying=True),
    Column("actor_plates", _text("identifiers.plates"), identifying=True),
    Column("relatives_locations", _text("family.location"), identifying=True),
)
HEAD = ("title", "received", "consent")


@dataclass(frozen=True)
class CaseExport:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    left_out: list[tuple[str, str]]  # (report id, why): for the caseworker, never in the file


def case_rows(
    reports: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    include_identifying: bool = False,
) -> CaseExport:
    """The Uwazi rows of (summary, decrypted document) pairs, oldest first."""
    columns = [c for c in COLUMNS if include_identifying or not c.identifying]
    rows: list[tuple[str, ...]] = []
    left_out: list[tuple[str, str]] = []
    ordered = sorted(reports, key=lambda pair: (str(pair[0].get("received_on") or ""),))
    for summary, document in ordered:
        try:
            consent, report, _ = shareable_report(document, summary.get("consent"))
        except ClientError as refusal:
            left_out.append((str(summary.get("id", "")), str(refusal)))
            continue
        month = str(summary.get("received_on") or "")[:7]
        title = f"Case {len(rows) + 1} (received {month or 'on an unknown day'})"
        full = consent == "full"
        cells = [c.read(report) if full or not c.identifying else "" for c in columns]
        rows.append((title, month, consent, *cells))
    return CaseExport((*HEAD, *(c.name for c in columns)), rows, left_out)

"""An organisation's registry of places, loaded from a CSV file (docs/place-registry.md).

The whole file is read and checked before anything is stored, and then replaces the
organisation's registry in one transaction: a file with one bad row changes nothing,
and the report form never offers half a registry.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reporting.models import Organisation, Place

COLUMNS = ("id", "name", "city", "country", "kind", "source")
REQUIRED = ("id", "name")
# Column limits, as the table holds them.
MAX_CHARS = {"id": 64, "name": 200, "city": 100, "country": 2, "kind": 60, "source": 500}
# A select longer than this is no use to a reporter on a phone.
MAX_PLACES = 5000
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class RegistryError(Exception):
    """A registry file that cannot be loaded, with every problem found (by line)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class PlaceRow:
    """One checked row of a registry file."""

    registry_id: str
    name: str
    city: str = ""
    country: str = ""
    kind: str = ""
    source: str = ""


def _text_lines(handle: IO[bytes]) -> list[str]:
    """The file as text: UTF-8 (a byte-order mark is allowed), or a clear error naming the
    line of the first byte that is not."""
    data = handle.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RegistryError(
            [f"line {line}: not UTF-8 text (save the file as UTF-8 CSV and try again)"]
        ) from None
    return text.splitlines(keepends=True)


def _header(fields: Sequence[str] | None) -> list[str]:
    names = [name.strip().lower() for name in fields or []]
    problems = []
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(unknown)}; the columns are "
                        f"{', '.join(COLUMNS)}")  # fmt: skip
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(f"line 1: the header lacks {', '.join(missing)}")
    if len(set(names)) != len(names):
        problems.append("line 1: a column is named twice")
    if problems:
        raise RegistryError(problems)
    return names


def _row_problems(line: int, values: dict[str, str]) -> list[str]:
    problems = []
    for column in REQUIRED:
        if not values[column]:
            problems.append(f"line {line}: {column} is empty")
    for column, value in values.items():
        if len(value) > MAX_CHARS[column]:
            problems.append(f"line {line}: {column} is longer than {MAX_CHARS[column]} characters")
        if _CONTROL.search(value):
            problems.append(f"line {line}: {column} holds a control character or a line break")
    if values["id"] and not _ID.fullmatch(values["id"]):
        problems.append(
            f"line {line}: id {values['id'][:64]!r} may hold only letters, digits and . _ : -"
        )
    country = values["country"]
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        problems.append(f"line {line}: country {country!r} is not a two-letter ISO 3166 code")
    return problems


def read_registry(
    handle: IO[bytes], progress: Callable[[int], None] | None = None
) -> list[PlaceRow]:
    """Every row of a registry CSV, checked; RegistryError lists every problem by line.

    `progress` is called with the number of rows read, every thousand rows.
    """
    reader = csv.reader(_text_lines(handle), strict=True)
    try:
        names = _header(next(reader, None))
        rows: list[PlaceRow] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        while True:
            line = reader.line_num + 1  # where the row starts (a quoted value may span lines)
            values = next(reader, None)
            if values is None:
                break
            if not any(value.strip() for value in values):
                continue  # a blank line
            if len(values) != len(names):
                problems.append(f"line {line}: {len(values)} values where the header has "
                                f"{len(names)} columns")  # fmt: skip
                continue
            row = {column: "" for column in COLUMNS}
            row.update({name: value.strip() for name, value in zip(names, values, strict=True)})
            row["country"] = row["country"].upper()
            found = _row_problems(line, row)
            if row["id"] in seen:
                found.append(f"line {line}: id {row['id']!r} is already on line {seen[row['id']]}")
            seen.setdefault(row["id"], line)
            problems += found
            if not found:
                rows.append(PlaceRow(row.pop("id"), **row))
            if progress and len(seen) % 1000 == 0:
                progress(len(seen))
    except csv.Error as error:
        raise RegistryError([f"line {reader.line_num}: not valid CSV ({error})"]) from None
    if len(seen) > MAX_PLACES:
        problems.append(f"the file has {len(seen)} places; at most {MAX_PLACES} can be offered")
    if problems:
        raise RegistryError(problems)
    return rows


def replace_registry(db: Session, organisation: Organisation, rows: Iterable[PlaceRow]) -> int:
    """Replace the organisation's registry with `rows` (in the caller's transaction)."""
    db.execute(delete(Place).where(Place.organisation_id == organisation.id))
    places = [
        Place(
            organisation_id=organisation.id,
            registry_id=row.registry_id,
            name=row.name,
            city=row.city,
            country=row.country,
            kind=row.kind,
            source=row.source,
        )
        for row in rows
    ]
    db.add_all(places)
    return len(places)


def places_of(db: Session, organisation_id: str) -> list[Place]:
    """The organisation's registry in the order the form offers it."""
    return list(
        db.scalars(
            select(Place)
            .where(Place.organisation_id == organisation_id)
            .order_by(Place.country, Place.city, Place.name, Place.registry_id)
        )
    )

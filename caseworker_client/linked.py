"""Linked cases: reports that name the same phone number, account, person, vehicle or place.

Several reporters meeting the same "Officer Li", called from the same number or summoned
to the same overseas station is what turns single reports into a pattern a partner can act
on. The server cannot see it (it holds ciphertext) and must not: this runs on the
caseworker's machine, over reports decrypted there, and keeps nothing.

Which fields link, and how their answers are compared, is the catalogue's decision
(`links` in protocol/catalogue.py): phone numbers (also those inside "people involved"),
messaging accounts, names, number plates, the station or office and a station's address.
Answers are normalised first (normalise.py): NFKC and casefolding, phone numbers reduced
to their national number, accounts without "@" or app labels, plates without separators.
Empty answers, "I do not know" and generic words ("police", "公安") link nothing. The city
does not link: two reports from the same city are not about the same people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from caseworker_client import normalise
from caseworker_client.stats import values_at
from protocol.catalogue import Field, Link, walk


@dataclass(frozen=True)
class Mention:
    """One identifier a report gives: the field, as written, and the key it compares by."""

    field: Field
    written: str
    key: str
    phone: normalise.Phone | None = None

    def same_as(self, other: Mention) -> bool:
        if self.phone is not None and other.phone is not None:
            return self.phone.same_as(other.phone)
        return self.key == other.key


@dataclass(frozen=True)
class Shared:
    """What two reports share: in this report's field and words, and in the other's."""

    field: str
    label: str
    value: str
    other_field: str
    other_label: str
    other_value: str


@dataclass(frozen=True)
class LinkedReport:
    report: str
    shared: tuple[Shared, ...]


@dataclass(frozen=True)
class Linking:
    """Every report's links (an empty tuple for one linked to none) and the clusters of
    reports linked directly or through others, largest first."""

    links: dict[str, tuple[LinkedReport, ...]]
    clusters: tuple[tuple[str, ...], ...]


def linking_fields() -> tuple[Field, ...]:
    return tuple(f for f in walk() if f.links is not Link.NONE)


def _answers(document: Mapping[str, Any], field: Field) -> Iterator[str]:
    for value in values_at(document, field.path.split(".")):
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):  # a place: from the registry, or the reporter's words
            place = value.get("name") or value.get("text")
            if isinstance(place, str):
                yield place
            elif value.get("registry_id"):
                yield f"registry place {value['registry_id']}"


def mentions(document: Mapping[str, Any]) -> list[Mention]:
    """The identifiers a decrypted report gives, normalised, placeholders left out."""
    found = []
    for field in linking_fields():
        for answer in _answers(document, field):
            if field.links is Link.PHONE:
                found += [
                    Mention(field, written, f"phone:{number.national}", number)
                    for written, number in normalise.phones_in(answer)
                ]
                continue
            items = [answer] if field.links is Link.PLACE else normalise.pieces(answer)
            for written in items:
                if not normalise.meaningful(normalise.text(written)):
                    continue
                key = {
                    Link.ACCOUNT: normalise.account,
                    Link.PLATE: normalise.plate,
                }.get(field.links, normalise.text)(written)
                if key:
                    found.append(Mention(field, written.strip(), f"{field.links.value}:{key}"))
    return found


def link_reports(documents: Mapping[str, Mapping[str, Any]]) -> Linking:
    """Link every pair of reports (id -> decrypted document) that share an identifier."""
    by_key: dict[str, list[tuple[str, Mention]]] = defaultdict(list)
    for report_id, document in documents.items():
        for mention in mentions(document):
            by_key[mention.key].append((report_id, mention))
    shared: dict[tuple[str, str], dict[Shared, None]] = defaultdict(dict)
    for found in by_key.values():
        for index, (one, mine) in enumerate(found):
            for other, theirs in found[index + 1 :]:
                if one == other or not mine.same_as(theirs):
                    continue
                shared[(one, other)][_shared(mine, theirs)] = None
                shared[(other, one)][_shared(theirs, mine)] = None
    links: dict[str, tuple[LinkedReport, ...]] = {}
    for report_id in documents:
        others = sorted(other for one, other in shared if one == report_id)
        links[report_id] = tuple(
            LinkedReport(other, tuple(shared[(report_id, other)])) for other in others
        )
    return Linking(links, _clusters(links))


def _shared(mine: Mention, theirs: Mention) -> Shared:
    return Shared(
        mine.field.path,
        mine.field.name,
        mine.written,
        theirs.field.path,
        theirs.field.name,
        theirs.written,
    )


def _clusters(links: Mapping[str, tuple[LinkedReport, ...]]) -> tuple[tuple[str, ...], ...]:
    """The connected groups of two or more reports."""
    seen: set[str] = set()
    groups = []
    for start in sorted(links):
        if start in seen or not links[start]:
            continue
        group, todo = {start}, [start]
        while todo:
            for link in links[todo.pop()]:
                if link.report not in group:
                    group.add(link.report)
                    todo.append(link.report)
        seen |= group
        groups.append(tuple(sorted(group)))
    return tuple(sorted(groups, key=lambda g: (-len(g), g)))

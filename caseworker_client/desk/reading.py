"""The reports as the desk shows them: decrypted here, held in this process's memory only.

A report is decrypted when the inbox or its page first needs it, and again only when the
server lists new messages for it; nothing decrypted is written anywhere (the cache holds
ciphertext only, as for the command line). The inbox's search looks through these texts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from caseworker_client import render
from caseworker_client.context import Context
from caseworker_client.decrypt import DecryptError
from caseworker_client.listing import reporter_change, summaries
from caseworker_client.report_actions import Opened, open_report
from caseworker_client.store import blobs_of
from protocol import catalogue

WHAT_FIELDS = ("methods", "categories")  # reporting/v2, then v1 reports


@dataclass(frozen=True)
class Row:
    """One report in the inbox: the server's triage facts and the decrypted summary."""

    id: str
    summary: dict[str, Any]
    assignee: str
    what: list[str]
    where: str
    when: str
    problem: str  # why it could not be decrypted here, if it could not
    reporter: str
    searchable: str  # every decrypted text of the report, case-folded
    unread: bool


@dataclass(frozen=True)
class Filters:
    status: str = ""
    tag: str = ""
    assignee: str = ""  # a username, or "-" for nobody
    urgent: bool = False
    query: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        return cls(
            status=args.get("status", ""),
            tag=args.get("tag", ""),
            assignee=args.get("assignee", ""),
            urgent=args.get("urgent", "") in ("1", "y", "on"),
            query=args.get("q", "").strip(),
        )

    def keeps(self, row: Row) -> bool:
        summary = row.summary
        terms = self.query.casefold().split()
        return (
            (not self.status or summary.get("status") == self.status)
            and (not self.tag or self.tag in (summary.get("tags") or []))
            and (not self.urgent or summary.get("urgent") is True)
            and (not self.assignee or (row.assignee or "-") == self.assignee)
            and all(term in row.searchable for term in terms)
        )


class Library:
    """Opened reports by id, with the blobs they were opened from (to know when to reopen)."""

    def __init__(self) -> None:
        self._opened: dict[str, tuple[tuple[str, ...], Opened]] = {}
        self.lock = threading.RLock()  # one request at a time works with the Context
        # Reports with news the caseworker has not opened on the desk. The server marks a
        # report read when its detail is fetched, which the inbox's pull does to decrypt
        # it: so what the list said before that pull is kept here until the case is opened.
        self.unread: set[str] = set()

    def opened(self, ctx: Context, report_id: str) -> Opened:
        """The report decrypted; decrypted again only when its messages changed since."""
        detail = ctx.pulled(report_id)
        blobs = tuple(blobs_of(detail))
        held = self._opened.get(report_id)
        if held is None or held[0] != blobs:
            held = (blobs, open_report(ctx, report_id))
            self._opened[report_id] = held
        return replace(held[1], detail=detail)  # the triage facts as last fetched

    def read(self, report_id: str) -> None:
        """The caseworker opened the case: its news are read."""
        self.unread.discard(report_id)

    def rows(self, ctx: Context) -> list[Row]:
        """Every report known here (pulled or only listed), urgent first, then newest."""
        names = ctx.caseworker_names()
        pulled = {str(d.get("id")) for d in ctx.store.details()}
        found = []
        for summary in summaries(ctx):
            report_id = str(summary.get("id"))
            if summary.get("unread") is True:
                self.unread.add(report_id)
            opened, problem = None, ""
            if report_id in pulled:
                try:
                    opened = self.opened(ctx, report_id)
                except DecryptError as error:
                    problem = str(error)
            else:
                problem = "not pulled yet"
            row = _row(summary, opened, problem, names)
            found.append(replace(row, unread=report_id in self.unread))
        return found


def _row(
    summary: dict[str, Any], opened: Opened | None, problem: str, names: Mapping[str, str]
) -> Row:
    document = opened.document if opened else {}
    what: list[str] = []
    for key in WHAT_FIELDS:
        if document.get(key):
            field = catalogue.field(key)
            what = [render.clean(field.label_of(str(code))) for code in document[key]]
            break
    where: dict[str, Any] = _group(document, "where")
    when: dict[str, Any] = _group(document, "when")
    place = [render.clean(where.get("city")), render.country_name(str(where.get("country") or ""))]
    period = [render.clean(when.get("from")), render.clean(when.get("to"))]
    return Row(
        id=str(summary.get("id")),
        summary=summary,
        assignee=render.person(summary.get("assignee"), names),
        what=what,
        where=", ".join(p for p in place if p),
        when=" to ".join(p for p in period if p) or render.clean(document.get("written_on")),
        problem=problem,
        reporter=reporter_change(summary),
        searchable=_searchable(opened),
        unread=summary.get("unread") is True,
    )


def _group(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _searchable(opened: Opened | None) -> str:
    if opened is None:
        return ""
    texts = [render.report_text(opened.document)]
    for message in opened.messages:
        if message.kind != "report" and message.document:
            texts.append(str(message.document.get("text", "")))
        texts += [f"{ref.filename} {ref.description}" for ref in message.attachments]
    return "\n".join(texts).casefold()


def filtered(rows: Sequence[Row], filters: Filters) -> list[Row]:
    return [row for row in rows if filters.keeps(row)]

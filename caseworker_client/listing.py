"""The `list` table: the server's triage metadata, and what of each report is pulled here."""

from __future__ import annotations

from typing import Any

from caseworker_client.context import Context
from caseworker_client.render import clean, person
from caseworker_client.store import blobs_of

ID_CHARS = 10
COLUMNS = (
    "ID", "RECEIVED", "STATUS", "SEVERITY", "ASSIGNEE", "TAGS", "UNREAD", "HERE", "URGENT",
    "REPORTER",
)  # fmt: skip


def _pulled(ctx: Context, detail: dict[str, Any] | None) -> str:
    if detail is None:
        return "no"
    blobs = blobs_of(detail)
    return "yes" if all(ctx.store.has_blob(b) for b in blobs) else "partly"


def reporter_change(summary: dict[str, Any]) -> str:
    """What the reporter changed from their case page: a deletion request first, since the
    report goes on its purge day and it may have been asked under coercion."""
    if summary.get("deletion_requested_on"):
        due = summary.get("deletion_due_on") or "?"
        return clean(f"deletion asked {summary['deletion_requested_on']}, purged {due}")
    if summary.get("consent_changed_on"):
        return clean(f"consent changed {summary['consent_changed_on']}")
    return "-"


def summaries(ctx: Context) -> list[dict[str, Any]]:
    """Every report known here, urgent first (as the server's inbox), then newest: the last
    server list's summaries, then reports only pulled."""
    found: dict[str, dict[str, Any]] = {}
    for summary in (ctx.store.load_index() or {}).get("reports", []):
        if isinstance(summary, dict) and isinstance(summary.get("id"), str):
            found[summary["id"]] = summary
    for detail in ctx.store.details():
        found.setdefault(str(detail.get("id")), detail)
    return sorted(
        found.values(),
        key=lambda s: (s.get("urgent") is True, str(s.get("received_on", "")), str(s.get("id"))),
        reverse=True,
    )


def rows(ctx: Context) -> list[tuple[str, ...]]:
    """One row per report known here, from the last server list, then pulled-only ones."""
    names = ctx.caseworker_names()
    details = {str(d.get("id")): d for d in ctx.store.details()}
    ordered = summaries(ctx)
    return [
        (
            clean(s.get("id"))[:ID_CHARS],
            clean(s.get("received_on")),
            clean(s.get("status")),
            clean(s.get("severity") or "-"),
            person(s.get("assignee"), names) or "-",
            clean(", ".join(str(t) for t in s.get("tags") or []) or "-"),
            "*" if s.get("unread") else "",
            _pulled(ctx, details.get(str(s.get("id")))),
            "yes" if s.get("urgent") is True else "-",
            reporter_change(s),
        )
        for s in ordered
    ]


def table_rows(ctx: Context) -> list[str]:
    """The rows laid out in aligned columns, with a heading; empty if nothing is known."""
    body = rows(ctx)
    if not body:
        return []
    widths = [max(len(r[i]) for r in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in [COLUMNS, *body]]  # fmt: skip

"""Who did what to a report, from the server's audit log: the hour, the caseworker, the action.

The log holds no content, only ids and short details such as "status=closed", so this
is the one part of a case the server can tell the client in clear. The server's words are
still cleaned of terminal controls before they are shown, as every server value is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from caseworker_client import render
from caseworker_client.context import ActionError, Context

# The audit log's actions as a caseworker would say them; an unknown one is shown as sent.
ACTIONS = {
    "view": "opened the report",
    "download": "downloaded a file",
    "status_change": "changed the status",
    "triage_change": "changed the triage",
    "reply": "replied to the reporter",
    "note": "added a note",
    "escalation": "escalated to a partner",
    "delivery_retry": "retried a delivery",
}


@dataclass(frozen=True)
class Event:
    at: str  # to the hour, as the server keeps it
    who: str  # a caseworker's name, or "the service" for entries without one
    what: str
    detail: str
    times: int = 1  # the same entry, repeated within the hour (each look at a case is one)


def history(ctx: Context, report_id: str) -> list[Event]:
    """The report's audit entries, oldest first (asks the server: needs a login)."""
    answer = ctx.api.get(f"/reports/{report_id}/history")
    entries = answer.get("history") if isinstance(answer, dict) else None
    if not isinstance(entries, list):
        raise ActionError("the server's history of this report is not in the expected form")
    names = ctx.caseworker_names()
    return _collapsed([_event(entry, names) for entry in entries if isinstance(entry, dict)])


def _collapsed(events: list[Event]) -> list[Event]:
    """Runs of the same entry as one, with how many times: a caseworker opening a case ten
    times in an hour is one line, not ten."""
    merged: list[Event] = []
    for event in events:
        last = merged[-1] if merged else None
        if last and (last.at, last.who, last.what, last.detail) == (
            event.at,
            event.who,
            event.what,
            event.detail,
        ):
            merged[-1] = replace(last, times=last.times + 1)
        else:
            merged.append(event)
    return merged


def _event(entry: Mapping[str, Any], names: Mapping[str, str]) -> Event:
    action = str(entry.get("action", ""))
    who = render.person(entry.get("actor"), names) or "the service"
    return Event(
        at=render.clean(str(entry.get("at", "")).replace("T", " ")),
        who=who,
        what=render.clean(ACTIONS.get(action, action)),
        detail=render.clean(entry.get("detail", "")),
    )


def history_lines(events: list[Event]) -> list[str]:
    """One line per event, for the terminal."""
    return [
        f"{e.at}  {e.who}  {e.what}"
        + (f" ({e.detail})" if e.detail else "")
        + (f", {e.times} times" if e.times > 1 else "")
        for e in events
    ]

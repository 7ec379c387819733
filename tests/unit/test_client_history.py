"""What the client makes of a report's history (the server's audit entries on it)."""

from __future__ import annotations

from caseworker_client import render
from caseworker_client.history import Event, _collapsed, _event, history_lines

NAMES = {"c1": "alice", "c2": "bob"}


def entry(actor: str | None, action: str, detail: str = "", at: str = "2026-12-03T10:00") -> dict:
    return {"at": at, "actor": actor, "action": action, "detail": detail}


def test_entries_read_as_sentences_with_names_and_the_hour() -> None:
    events = [_event(entry("c1", "status_change", "status=closed"), NAMES)]
    assert history_lines(events) == ["2026-12-03 10:00  alice  changed the status (status=closed)"]
    unknown = _event(entry(None, "something_new"), NAMES)
    assert (unknown.who, unknown.what) == ("the service", "something_new")


def test_repeats_within_the_hour_are_one_line_with_a_count() -> None:
    raw = [
        entry("c1", "view"),
        entry("c1", "view"),
        entry("c1", "view"),
        entry("c2", "view"),
        entry("c1", "view", at="2026-12-03T11:00"),
        entry("c1", "view", at="2026-12-03T11:00"),
    ]
    events = _collapsed([_event(e, NAMES) for e in raw])
    assert [(e.who, e.at, e.times) for e in events] == [
        ("alice", "2026-12-03 10:00", 3),
        ("bob", "2026-12-03 10:00", 1),
        ("alice", "2026-12-03 11:00", 2),
    ]
    assert history_lines(events)[0].endswith("opened the report, 3 times")
    assert history_lines(events)[1].endswith("opened the report")


def test_the_servers_words_lose_their_terminal_controls() -> None:
    event: Event = _event(entry("c1", "note", "message=1\x1b[2J"), NAMES)
    assert "\x1b" not in history_lines([event])[0]


def test_a_flag_reads_yes_or_no() -> None:
    assert "Urgent: no" in render.report_text({"urgent": False, "narrative": "x"})
    assert "Urgent: yes" in render.report_text({"urgent": True, "narrative": "x"})

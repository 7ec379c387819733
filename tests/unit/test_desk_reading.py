"""The desk inbox's filters and its search through the decrypted words (in memory)."""

from __future__ import annotations

from typing import Any

import pytest

from caseworker_client.desk.reading import Filters, Row, filtered


def row(report_id: str, words: str = "", assignee: str = "", **summary: Any) -> Row:
    return Row(
        id=report_id,
        summary={"id": report_id, **summary},
        assignee=assignee,
        what=[],
        where="",
        when="",
        problem="",
        reporter="-",
        searchable=words.casefold(),
        unread=False,
    )


ROWS = [
    row("a", "Two men called my MOTHER in Fuzhou", "alice", status="new", tags=["family"]),
    row("b", "They followed me in Rotterdam", "", status="in_progress", urgent=True),
    row("c", "公安局 called my father", "bob", status="closed", tags=["family", "legal"]),
]


@pytest.mark.parametrize(
    "args,expected",
    [
        ({}, ["a", "b", "c"]),
        ({"q": "mother"}, ["a"]),  # case-folded
        ({"q": "called my"}, ["a", "c"]),  # every word, anywhere
        ({"q": "called rotterdam"}, []),
        ({"q": "公安局"}, ["c"]),
        ({"status": "in_progress"}, ["b"]),
        ({"tag": "family"}, ["a", "c"]),
        ({"tag": "family", "assignee": "bob"}, ["c"]),
        ({"assignee": "-"}, ["b"]),  # nobody
        ({"urgent": "1"}, ["b"]),
        ({"urgent": "1", "q": "mother"}, []),
    ],
)
def test_filters_and_search(args: dict[str, str], expected: list[str]) -> None:
    assert [r.id for r in filtered(ROWS, Filters.from_args(args))] == expected


def test_a_report_not_decrypted_here_is_found_by_filters_but_not_by_words() -> None:
    locked = row("d", "", status="new")
    assert filtered([locked], Filters.from_args({"status": "new"})) == [locked]
    assert filtered([locked], Filters.from_args({"q": "anything"})) == []

"""protocol/: every document kind reads back as built, and every reader refuses the rest.

The readers are what stands between a decrypted file and the code that shows or
shares it, so they must refuse a malformed document with `DocumentError`, and
never with anything else (a KeyError or TypeError would surface as a crash in
the caseworker's client, or be mistaken for a valid document).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol
from protocol import AttachmentInfo, DocumentError, catalogue, padded_size
from tests.support.documents import V1_REPORT

FIELDS = {
    "categories": ["pressure_to_return", "online"],
    "narrative": "Two men from the bureau called my mother.",
    "country": "NL",
    "city": "Utrecht",
    "place": {"registry_id": "nl-utr-1", "name": "Hometown association — Utrecht, NL"},
    "date_from": "2025-03",
    "date_to": "",
    "when_note": "every week",
    "people": "+86 138 0000 0000",
    "affiliation": "a public security bureau",
    "station_address": "",
    "family": [
        {"relation": "mother", "location": "Fuzhou", "what_happened": "questioned"},
        {"relation": "", "location": "", "what_happened": ""},
    ],
    "consent": "anonymised",
    "reply_language": "zh_Hans",
}
FILE = AttachmentInfo(
    blob="ab" * 16,
    filename="call.png",
    content_type="image/png",
    size=1234,
    sha256="0f" * 32,
    description="a screenshot of the call",
)


def escalation() -> dict[str, Any]:
    return protocol.escalation_document(
        from_organisation="Safe Haven",
        reference="r" * 32,
        received_on="2026-11-28",
        consent="anonymised",
        redacted=["who.people", "attachments"],
        report={"narrative": "They called.", "where": {"country": "NL"}, "consent": "anonymised"},
        followups=[{"written_on": "2026-11-29", "text": "Again."}],
        attachments=[
            {
                "position": 0,
                "filename": "a.jpg",
                "content_type": "image/jpeg",
                "size": None,
                "from": "report",
                "metadata": "removed",
            }
        ],
        attachments_withheld=1,
        caveat="Check the narrative.",
        note="For your legal team.",
    )


BUILT: dict[str, Callable[[], dict[str, Any]]] = {
    "report": lambda: protocol.report_document(FIELDS, [FILE], "zh_Hant"),
    "followup": lambda: protocol.followup_document("They came again.", [FILE]),
    "reply": lambda: protocol.reply_document("We received your report."),
    "status_note": lambda: protocol.status_note_document("A lawyer will call."),
    "note": lambda: protocol.note_document("Call back on Monday."),
    "escalation": escalation,
}
READERS = {
    "report": protocol.read_report,
    "followup": protocol.read_followup,
    "reply": protocol.read_reply,
    "status_note": protocol.read_status_note,
    "note": protocol.read_note,
    "escalation": protocol.read_escalation,
}
OPTIONAL = {
    "status_note": {"written_on"},
    "escalation": {"caveat", "note", "attachments_note"},
    "report": {f.key for f in catalogue.REPORT_FIELDS if not f.required},
}


def test_every_kind_has_a_builder_and_a_reader() -> None:
    assert set(BUILT) == set(READERS) == set(protocol.KINDS)


@pytest.mark.parametrize("kind", protocol.KINDS)
def test_a_built_document_reads_back_padded_as_stored(kind: str) -> None:
    document = BUILT[kind]()
    plaintext = protocol.encode(document)
    padded = plaintext + b" " * (padded_size(len(plaintext)) - len(plaintext))
    assert READERS[kind](padded) == document
    assert protocol.read(padded) == document


@pytest.mark.parametrize("kind", protocol.KINDS)
def test_a_reader_refuses_another_kind(kind: str) -> None:
    other = next(k for k in protocol.KINDS if k != kind)
    with pytest.raises(DocumentError, match="expected"):
        READERS[kind](BUILT[other]())


@pytest.mark.parametrize("schema", ["reporting/v0", "reporting/v9", "", None, 1])
def test_unknown_schemas_are_refused(schema: Any) -> None:
    with pytest.raises(DocumentError, match="schema"):
        protocol.read({**protocol.reply_document("hello"), "schema": schema})


def test_a_v1_report_reads_upgraded_to_v2_in_memory() -> None:
    report = protocol.read_report(protocol.encode(V1_REPORT) + b"   ")
    assert report["schema"] == "reporting/v2"
    assert report["methods"] == ["association_or_station", "other", "relatives_punished"]
    assert report["categories"] == V1_REPORT["categories"]  # as the reporter chose them
    assert {k: v for k, v in report.items() if k not in ("schema", "methods")} == {
        k: v for k, v in V1_REPORT.items() if k != "schema"
    }


def test_a_v1_report_with_a_v2_field_is_refused() -> None:
    with pytest.raises(DocumentError, match="unknown field"):
        protocol.read_report({**V1_REPORT, "methods": ["other"]})


def test_new_reports_are_v2_and_no_longer_carry_categories() -> None:
    report = protocol.report_document(FIELDS, [], "en")
    assert report["schema"] == protocol.SCHEMA == "reporting/v2"
    assert "categories" not in report and report["methods"] == []


def test_the_family_keeps_only_what_the_form_asks() -> None:
    [member] = protocol.report_document(FIELDS, [], "en")["family"]
    assert member == {
        "relation": "mother", "country": "", "location": "Fuzhou", "harms": [],
        "what_happened": "questioned", "may_share": False, "do_not_contact": False,
    }  # fmt: skip


# -- property-based: malformed documents of every kind -------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document (keys of objects, indices of lists) below the top."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found += paths(child, (*prefix, key))
    return found


def other_type(value: Any) -> st.SearchStrategy[Any]:
    """Values a reader must refuse where `value` was: a JSON value of another type."""
    if isinstance(value, bool | int):
        return st.text(max_size=5) | st.none() | st.lists(st.integers(), max_size=2) | st.just(-1)
    if isinstance(value, str):
        return st.integers() | st.none() | st.booleans() | st.lists(st.text(max_size=3), max_size=2)
    if isinstance(value, list):
        return (
            st.text(max_size=5) | st.integers() | st.none() | st.dictionaries(st.text(), st.text())
        )
    return st.text(max_size=5) | st.integers() | st.lists(st.text(max_size=3), max_size=2)


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, Any]:
    """A document of some kind with one thing wrong that its reader must notice."""
    kind = draw(st.sampled_from(protocol.KINDS))
    document = BUILT[kind]()
    how = draw(st.sampled_from(["wrong type", "missing", "unknown key", "schema", "not json"]))
    if how == "wrong type":
        path = draw(st.sampled_from([p for p in paths(document) if p[0] not in ("schema", "kind")]))
        original: Any = document
        for key in path:
            original = original[key]
        if path[-1] == "size" and path[0] == "attachments" and kind == "escalation":
            return kind, replaced(document, path, draw(st.text(max_size=5)))
        return kind, replaced(document, path, draw(other_type(original)))
    if how == "missing":
        required = [k for k in document if k not in OPTIONAL.get(kind, set())]
        del document[draw(st.sampled_from(required))]
        return kind, document
    if how == "unknown key":
        key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in document))
        return kind, {**document, key: draw(JSON)}
    if how == "schema":
        schema = draw(JSON.filter(lambda s: s not in protocol.KNOWN_SCHEMAS))
        return kind, {**document, "schema": schema}
    return kind, draw(st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v).encode()))


@pytest.mark.slow
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(malformed())
def test_every_reader_refuses_a_malformed_document(case: tuple[str, Any]) -> None:
    kind, document = case
    with pytest.raises(DocumentError):
        READERS[kind](document)


@pytest.mark.slow
@settings(max_examples=300)
@given(st.sampled_from(protocol.KINDS), st.binary(max_size=200) | JSON)
def test_a_reader_given_anything_returns_or_raises_document_error(kind: str, value: Any) -> None:
    with contextlib.suppress(DocumentError):
        READERS[kind](value if isinstance(value, bytes | dict) else json.dumps(value).encode())

"""The escalation package follows the reporter's consent: refused, anonymised, or full."""

from __future__ import annotations

import json
from typing import Any

import pytest

from caseworker_client.decrypt import AttachmentRef, OpenedMessage
from caseworker_client.escalate import CAVEAT, EscalationRefused, build_package
from reporting.documents import AttachmentInfo, followup_document, report_document

FIELDS: dict[str, Any] = {
    "categories": ["police_station"],
    "narrative": "They summoned me to the station on Main street.",
    "country": "NL",
    "city": "Rotterdam",
    "date_from": "2025-03",
    "when_note": "every week",
    "people": "Mr Wang, +31 6 1234 5678, wechat wang_88",
    "affiliation": "Fuzhou public security bureau",
    "station_address": "Main street 12, Rotterdam",
    "family": [{"relation": "mother", "location": "Fuzhou, Gulou", "what_happened": "questioned"}],
    "reply_language": "ug",
}
IDENTIFYING = ("Rotterdam", "Mr Wang", "+31 6", "wang_88", "Main street 12", "Gulou", "photo.jpg")
SUMMARY = {"id": "rep1", "received_on": "2026-11-28"}


def messages(consent: str) -> list[OpenedMessage]:
    files = [AttachmentInfo("b1", "photo.jpg", "image/jpeg", 1234)]
    report = report_document({**FIELDS, "consent": consent}, files, "zh_Hans")
    ref = AttachmentRef(0, "b1", "photo.jpg", "image/jpeg", 1234)
    followup_ref = AttachmentRef(0, "b2", "call.m4a", "audio/mp4", 99)
    return [
        OpenedMessage(0, "report", "2026-11-28", None, None, report, None, [ref]),
        OpenedMessage(
            1, "followup", "2026-11-29", None, None,
            followup_document("They came again.", []), None, [followup_ref],
        ),
        OpenedMessage(2, "note", "2026-11-29", "cw", None, {"kind": "note", "text": "internal!"}),
    ]  # fmt: skip


def test_do_not_share_is_refused() -> None:
    with pytest.raises(EscalationRefused, match="do not share"):
        build_package(messages("none"), {**SUMMARY, "consent": "none"}, "NGO")


@pytest.mark.parametrize(("document", "server"), [("full", "none"), ("full", None), ("x", "full")])
def test_the_stricter_or_missing_consent_refuses(document: str, server: str | None) -> None:
    msgs = messages(document)
    with pytest.raises(EscalationRefused):
        build_package(msgs, {**SUMMARY, "consent": server}, "NGO")


def test_anonymised_drops_what_identifies_the_reporter() -> None:
    package = build_package(messages("anonymised"), {**SUMMARY, "consent": "anonymised"}, "NGO")
    document = package.document
    text = json.dumps(document, ensure_ascii=False)
    for value in IDENTIFYING:
        assert value not in text, value
    assert "internal!" not in text  # notes are never shared
    report = document["report"]
    assert report["categories"] == ["police_station"]
    assert report["where"] == {"country": "NL"}
    assert report["when"] == {"from": "2025-03", "to": "", "note": "every week"}
    assert report["who"] == {"affiliation": "Fuzhou public security bureau"}
    assert report["family"] == [{"relation": "mother", "what_happened": "questioned"}]
    assert report["narrative"] == FIELDS["narrative"]
    assert "reply_language" not in report and "interface_language" not in report
    assert document["followups"] == [
        {"written_on": report["written_on"], "text": "They came again."}
    ]
    assert (document["schema"], document["kind"], document["consent"]) == (
        "reporting/v1", "escalation", "anonymised",
    )  # fmt: skip
    assert document["caveat"] == CAVEAT
    assert package.attachments == [] and document["attachments"] == []
    assert document["attachments_withheld"] == 2
    assert set(document["redacted"]) == {
        "who.people", "who.station_address", "where.city", "family.location",
        "reply_language", "interface_language", "attachments",
    }  # fmt: skip


def test_full_shares_everything_and_the_files() -> None:
    package = build_package(
        messages("full"), {**SUMMARY, "consent": "full"}, "NGO", cover_note="Urgent."
    )
    document = package.document
    text = json.dumps(document, ensure_ascii=False)
    for value in IDENTIFYING[:-1]:
        assert value in text, value
    assert "internal!" not in text
    assert document["redacted"] == [] and "caveat" not in document
    assert document["note"] == "Urgent."
    assert [ref.blob for ref in package.attachments] == ["b1", "b2"]
    assert document["attachments"] == [
        {"position": 0, "filename": "photo.jpg", "content_type": "image/jpeg", "size": 1234,
         "from": "report"},
        {"position": 1, "filename": "call.m4a", "content_type": "audio/mp4", "size": 99,
         "from": "followup #1"},
    ]  # fmt: skip
    assert "attachments" not in document["report"]  # our blob ids mean nothing to a partner


def test_redact_drops_more_fields() -> None:
    package = build_package(
        messages("full"),
        {**SUMMARY, "consent": "full"},
        "NGO",
        redact=["who.people", "family.location", "attachments", "followups"],
    )
    document = package.document
    assert "people" not in document["report"]["who"]
    assert document["report"]["family"] == [{"relation": "mother", "what_happened": "questioned"}]
    assert package.attachments == [] and document["followups"] == []
    assert document["redacted"] == ["attachments", "family.location", "followups", "who.people"]
    assert document["report"]["where"]["city"] == "Rotterdam"


def test_unknown_redaction_is_refused_not_ignored() -> None:
    with pytest.raises(EscalationRefused, match=r"who\.peeple"):
        build_package(
            messages("full"), {**SUMMARY, "consent": "full"}, "NGO", redact=["who.peeple"]
        )


def test_an_unopened_report_cannot_be_escalated() -> None:
    unopened = [OpenedMessage(0, "report", "", None, None, None, "not encrypted to your key")]
    with pytest.raises(EscalationRefused, match="cannot be opened"):
        build_package(unopened, {**SUMMARY, "consent": "full"}, "NGO")

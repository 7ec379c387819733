"""The escalation package follows the reporter's consent: refused, anonymised, or full;
and the files it carries lose their metadata unless the caseworker keeps the originals."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import crypto
from caseworker_client import images
from caseworker_client.config import Home
from caseworker_client.context import Context
from caseworker_client.decrypt import AttachmentRef, OpenedMessage
from caseworker_client.escalate import (
    CAVEAT,
    FILES_NOTE,
    EscalationRefused,
    SentFile,
    build_package,
    describe_files,
)
from caseworker_client.partner_files import seal_attachment
from protocol import AttachmentInfo, followup_document, report_document
from tests.support.client_cache import Cache

FIELDS: dict[str, Any] = {
    "methods": ["association_or_station"],
    "police_place": "Quanzhou",
    "actor_phones": "+86 591 8888 0000",
    "actor_plates": "闽A 99999",
    "narrative": "They summoned me to the station on Main street.",
    "country": "NL",
    "city": "Rotterdam",
    "date_from": "2025-03",
    "when_note": "every week",
    "people": "Mr Wang, +31 6 1234 5678, wechat wang_88",
    "affiliation": "Fuzhou public security bureau",
    "station_address": "Main street 12, Rotterdam",
    "family": [
        {
            "relation": "mother",
            "location": "Fuzhou, Gulou",
            "what_happened": "questioned",
            "harms": ["questioned"],
            "may_share": True,
        },
        {
            "relation": "brother-in-law",
            "location": "Xiamen",
            "what_happened": "lost his job",
            "do_not_contact": True,
        },  # the reporter did not allow sharing this one
    ],
    "reply_language": "ug",
}
IDENTIFYING = (
    "Rotterdam", "Quanzhou", "+86 591", "闽A", "Mr Wang", "+31 6", "wang_88", "Main street 12",
    "Gulou", "photo.jpg",
)  # fmt: skip
NOT_SHARED = ("brother-in-law", "Xiamen", "lost his job")
UNSHARED = "family (entries not allowed to be shared)"
MOTHER = {
    "relation": "mother", "country": "", "harms": ["questioned"], "what_happened": "questioned",
    "may_share": True, "do_not_contact": False,
}  # fmt: skip
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
    assert report["methods"] == ["association_or_station"]
    assert "police_place" not in report  # the hometown's police narrows down who reported
    assert report["where"] == {"country": "NL"}
    assert report["when"] == {"from": "2025-03", "to": "", "note": "every week"}
    assert report["who"] == {"affiliation": "Fuzhou public security bureau"}
    assert report["family"] == [MOTHER]
    assert not any(value in text for value in NOT_SHARED)
    assert report["narrative"] == FIELDS["narrative"]
    assert "reply_language" not in report and "interface_language" not in report
    assert document["followups"] == [
        {"written_on": report["written_on"], "text": "They came again."}
    ]
    assert (document["schema"], document["kind"], document["consent"]) == (
        "reporting/v2", "escalation", "anonymised",
    )  # fmt: skip
    assert document["caveat"] == CAVEAT
    assert package.attachments == [] and document["attachments"] == []
    assert document["attachments_withheld"] == 2
    assert set(document["redacted"]) == {
        "who.people", "who.station_address", "where.city", "family.location",
        "reply_language", "interface_language", "attachments", "police_place",
        "identifiers.phones", "identifiers.plates", UNSHARED,
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
    assert not any(value in text for value in NOT_SHARED)  # whatever the consent
    assert document["redacted"] == [UNSHARED] and "caveat" not in document
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
    assert document["report"]["family"] == [MOTHER]
    assert package.attachments == [] and document["followups"] == []
    assert document["redacted"] == [
        "attachments", UNSHARED, "family.location", "followups", "who.people",
    ]  # fmt: skip
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


# The files that go to the partner: images without their metadata, unless asked otherwise.


def gps_png() -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("GPSPosition", "51.9244 N 4.4777 E")
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "blue").save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture
def home(tmp_path: Path) -> Cache:
    """A caseworker's home folder with an identity and a pulled report (real files)."""
    cache = Cache(tmp_path / "home", consent="full")
    cache.write()
    return cache


def seal_one(cache: Cache, data: bytes, keep: bool = False) -> tuple[SentFile, bytes]:
    """Seal `data` (as a pulled attachment) for a partner; what was sent and what they read."""
    partner = crypto.generate_identity()
    cache.blob("b9", data, b"\0")
    ref = AttachmentRef(0, "b9", "IMG_1.jpg", "image/jpeg", len(data))
    context = Context(Home(cache.home), lambda: "")
    out = io.BytesIO()
    sent = seal_attachment(context, ref, [partner.recipient], out, keep)
    opened = crypto.decrypt(out.getvalue(), [partner])
    assert not any(opened[sent.size :])  # zero padding after the size the package gives
    return sent, opened[: sent.size]


def test_an_escalated_image_loses_its_metadata(home: Cache) -> None:
    sent, jpeg = seal_one(home, home.photo)
    assert sent.metadata_removed and sent.content_type == "image/jpeg"
    assert b"Exif" not in jpeg and b"PhoneMaker" not in jpeg and b"taken at home" not in jpeg
    sent, png = seal_one(home, gps_png())
    assert (sent.filename, sent.content_type) == ("IMG_1.png", "image/png")  # its real format
    assert b"GPS" not in png and b"tEXt" not in png and png.startswith(b"\x89PNG")


def test_originals_are_sent_only_when_asked(home: Cache) -> None:
    sent, jpeg = seal_one(home, home.photo, keep=True)
    assert jpeg == home.photo and not sent.metadata_removed
    assert "metadata included (--keep-originals)" in sent.line(0)
    sent, text = seal_one(home, home.text_file)
    assert text == home.text_file and not sent.metadata_removed
    assert "not a JPEG, PNG or WebP image" in sent.line(0)


def test_an_image_that_cannot_be_cleaned_stops_the_escalation(home: Cache) -> None:
    with pytest.raises(EscalationRefused, match=r"Nothing was sent.*--keep-originals"):
        seal_one(home, b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # a JPEG's start, then nothing


def test_the_package_says_which_files_were_changed() -> None:
    package = build_package(messages("full"), {**SUMMARY, "consent": "full"}, "NGO")
    sent = [
        SentFile("photo.png", "image/png", 321, metadata_removed=True),
        SentFile("call.m4a", "audio/mp4", 99, metadata_removed=False, why="not an image"),
    ]
    document = describe_files(package.document, sent)
    assert [(e["filename"], e["size"], e["metadata"]) for e in document["attachments"]] == [
        ("photo.png", 321, "removed"),
        ("call.m4a", 99, "original"),
    ]
    assert document["attachments"][1]["metadata_note"] == "not an image"
    assert document["attachments_note"] == FILES_NOTE
    assert "attachments_note" not in describe_files({"attachments": []}, [])


@pytest.mark.parametrize(
    ("head", "expected"),
    [(b"\xff\xd8\xff\xe1\0\0Exif\0\0\0\0", True), (b"\x89PNG\r\n\x1a\n\0\0\0\r", True),
     (b"RIFF\x10\0\0\0WEBPVP8 ", True), (b"RIFF\x10\0\0\0WAVEfmt ", False),
     (b"%PDF-1.7\n%\xe2\xe3", False), (b"\0\0\0\x18ftypheic", False), (b"", False)],
)  # fmt: skip
def test_images_are_known_by_their_bytes(head: bytes, expected: bool) -> None:
    assert images.is_strippable(head) is expected

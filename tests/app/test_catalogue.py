"""One catalogue drives everything: a field added to it reaches every part of the service.

A synthetic field is added to the catalogue (and nowhere else), then followed: into
the document built from the form's answers, through encryption and the client's
strict reader, into `show`, through an anonymised and a full escalation, and into
`stats`. An identifying one beside it is withheld by the anonymised escalation
and never counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import crypto
import protocol
from caseworker_client.decrypt import open_messages, report_document
from caseworker_client.escalate import build_package, redactable
from protocol import catalogue, fieldtable
from protocol.catalogue import Choice, Field, Kind
from reporting.intake.pages.report_form import report_form
from tests.support.client_cache import REPORT_ID, Cache, invoke
from tests.support.portal import Caseworker, submit_report

METHOD = Field(
    "synthetic_method",
    Kind.CHOICE,
    "How they reached you (synthetic)",
    form_name="synthetic_method",
    choices=(Choice("visit", "A home visit"), Choice("call", "A phone call")),
    anonymised=True,
    counted=True,
)
PLATE = Field(
    "synthetic_plate",
    Kind.TEXT,
    "Vehicle plate (synthetic)",
    form_name="synthetic_plate",
    identifying=True,
)
ANSWERS = {"synthetic_method": "call", "synthetic_plate": "闽A 12345"}


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(catalogue, "REPORT_FIELDS", (*catalogue.REPORT_FIELDS, METHOD, PLATE))
    yield


def opened(cache: Cache) -> tuple[dict, list]:
    detail = cache.store.load_detail(REPORT_ID)
    assert detail is not None
    messages = open_messages(cache.store, detail, [cache.identity])
    return detail, messages


@pytest.mark.slow
def test_a_synthetic_field_reaches_document_show_escalation_and_stats(
    synthetic: None, tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "home", consent="anonymised")
    cache.write(extra=ANSWERS)
    cache.write("r3port0000000000000000000002", country="DE", extra={"synthetic_method": "visit"})

    detail, messages = opened(cache)  # decrypted, and read by the strict reader
    document = report_document(messages)
    assert document["synthetic_method"] == "call" and document["synthetic_plate"] == "闽A 12345"

    shown = invoke(cache.home, "show", REPORT_ID)
    assert shown.exit_code == 0, shown.output
    assert "How they reached you (synthetic): call: A phone call" in shown.output
    assert "Vehicle plate (synthetic): 闽A 12345" in shown.output

    anonymised = build_package(messages, {**detail, "consent": "anonymised"}, "NGO")
    assert anonymised.document["report"]["synthetic_method"] == "call"
    assert "synthetic_plate" not in anonymised.document["report"]
    assert "synthetic_plate" in anonymised.redacted
    assert "闽A" not in str(anonymised.document)
    protocol.read_escalation(anonymised.document)

    cache.consent = "full"
    cache.write(extra=ANSWERS)
    detail, messages = opened(cache)
    full = build_package(messages, {**detail, "consent": "full"}, "NGO")
    assert full.document["report"]["synthetic_plate"] == "闽A 12345"
    assert "synthetic_plate" in redactable() and "synthetic_method" in redactable()
    redacted = build_package(
        messages, {**detail, "consent": "full"}, "NGO", redact=["synthetic_plate"]
    )
    assert "synthetic_plate" not in redacted.document["report"]

    stats = invoke(cache.home, "stats", "--png", str(tmp_path / "stats.png"))
    assert stats.exit_code == 0, stats.output
    lines = [" ".join(line.split()) for line in stats.output.splitlines()]
    assert "how they reached you (synthetic) reports" in lines
    assert "call 1" in lines and "visit 1" in lines
    assert "闽A" not in stats.output and "plate" not in stats.output


@pytest.mark.slow
def test_a_synthetic_field_is_asked_for_and_stored_encrypted(
    synthetic: None, app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    page = client.get("/report").text
    assert "How they reached you (synthetic)" in page and "Vehicle plate (synthetic)" in page
    assert 'name="synthetic_method" type="radio" value="call"' in page
    assert 'name="synthetic_plate"' in page

    sent = submit_report(client, **ANSWERS)
    assert sent.status_code == 200, sent.text[:500]
    store = app.extensions["blobs"]
    ciphertexts = [store.path(blob_id).read_bytes() for blob_id in store.ids()]
    assert not any("闽A".encode() in c or b"synthetic" in c for c in ciphertexts)
    [plaintext] = [crypto.decrypt(c, [caseworker.identity]) for c in ciphertexts]
    document = protocol.read_report(plaintext)
    assert document["synthetic_method"] == "call" and document["synthetic_plate"] == "闽A 12345"

    refused = submit_report(client, synthetic_method="email")  # not one of its codes
    assert refused.status_code == 400 and len(list(store.ids())) == 1


def test_a_report_written_before_a_field_existed_still_reads(
    synthetic: None, tmp_path: Path
) -> None:
    document = protocol.report_document({"narrative": "x" * 50, "consent": "none",
                                         "reply_language": "en"}, [], "en")  # fmt: skip
    del document["synthetic_method"], document["synthetic_plate"]
    assert protocol.read_report(document) == document


def test_the_form_offers_the_catalogues_fields_labels_and_choices(app: Flask) -> None:
    with app.test_request_context():
        form = report_form(meta={"csrf": False})
        for field in catalogue.walk():
            if not field.form_name or field.path.startswith("family."):
                continue
            if field.retired:  # kept to read older reports, never asked again
                assert field.form_name not in form, field.path
                continue
            shown = form[field.form_name]
            assert str(shown.label.text) == field.label, field.path
            assert str(shown.description) == field.help, field.path
            if field.choices:
                assert [(c.value, str(c.label)) for c in shown.choices] == [
                    (c.code, c.label) for c in field.choices
                ]
        assert [c.value for c in form["consent"].choices] == list(protocol.CONSENTS)


def test_the_docs_field_table_is_the_catalogues() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "report-fields.md"
    assert page.read_text(encoding="utf-8") == fieldtable.markdown(), (
        "run: .venv/bin/python -m protocol.fieldtable > docs/report-fields.md"
    )

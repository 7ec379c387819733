"""Issue 12: the place (a registry entry or free text) and the evidence (each file's
description and the SHA-256 of its original bytes), from the form to the client's `show`."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

import crypto
import protocol
from caseworker_client import render
from caseworker_client.decrypt import AttachmentRef, DigestMismatch, OpenedMessage, decrypt_file
from caseworker_client.escalate import build_package
from protocol import AttachmentInfo, report_document
from reporting.infra import db
from reporting.models import Place, Report
from tests.support.client_cache import REPORT_ID, Cache, invoke
from tests.support.portal import (
    Caseworker,
    add_caseworker,
    file_part,
    only_kept_blobs,
    submit_report,
)

REGISTRY = (
    "id,name,city,country,kind,source\n"
    "nl-rtm-1,Fuzhou hometown association,Rotterdam,nl,association,a published list\n"
    "nl-ams-2,Overseas service station,Amsterdam,NL,station,\n"
)
SHOWN = "Overseas service station — Amsterdam, NL"


def load(runner: FlaskCliRunner, tmp_path: Path, content: bytes | str, *args: str) -> Any:
    path = tmp_path / "places.csv"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return runner.invoke(args=["registry", "load", str(path), *args])


def registry(app: Flask) -> list[str]:
    with app.app_context(), db.database().sessions() as session:
        return sorted(session.scalars(select(Place.registry_id)))


def nothing_stored(app: Flask) -> bool:
    """No report, and no file but those kept for the form that came back."""
    with app.app_context(), db.database().sessions() as session:
        reports = session.scalar(select(func.count()).select_from(Report))
    return reports == 0 and only_kept_blobs(app)


def stored_report(app: Flask, caseworker: Caseworker) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The decrypted report document, and every other blob's plaintext by blob id."""
    store = app.extensions["blobs"]
    document, others = None, {}
    for blob_id in store.ids():
        plaintext = crypto.decrypt(store.path(blob_id).read_bytes(), [caseworker.identity])
        if plaintext.startswith(b'{"schema"'):
            document = protocol.read_report(plaintext)
        else:
            others[blob_id] = plaintext
    assert document is not None
    return document, others


# -- the registry ------------------------------------------------------------------------


def test_a_registry_loads_and_shows(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, caseworker: Caseworker
) -> None:
    result = load(runner, tmp_path, "\ufeff" + REGISTRY)  # a spreadsheet's byte-order mark
    assert result.exit_code == 0, result.output
    assert "Loaded 2 places" in result.output
    shown = runner.invoke(args=["registry", "show"])
    assert "nl-ams-2\tOverseas service station — Amsterdam, NL\tstation" in shown.output
    assert "Fuzhou hometown association — Rotterdam, NL" in shown.output  # upper-cased


@pytest.mark.parametrize(
    ("content", "problems"),
    [
        ("id,name\n,No id\nx,\n", ["line 2: id is empty", "line 3: name is empty"]),
        ("id,name\na,One\na,Again\n", ["line 3: id 'a' is already on line 2"]),
        ("id,name,country\na,One,China\n", ["line 2: country 'CHINA' is not a two-letter"]),
        ("id,name\na b,One\n", ["line 2: id 'a b' may hold only letters"]),
        ("id,name\na,One,extra\n", ["line 2: 3 values where the header has 2 columns"]),
        ("id,name,colour\na,One,red\n", ["line 1: unknown column(s) colour"]),
        ("name,city\nOne,Paris\n", ["line 1: the header lacks id"]),
        ("id,name\na," + "n" * 201 + "\n", ["line 2: name is longer than 200 characters"]),
        ('id,name\na,"One\nTwo"\n', ["line 2: name holds a control character"]),
        ('id,name\na,"unclosed\n', ["not valid CSV"]),
    ],
)
def test_a_bad_file_changes_nothing_and_says_which_line(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    caseworker: Caseworker,
    content: str,
    problems: list[str],
) -> None:
    assert load(runner, tmp_path, REGISTRY).exit_code == 0
    result = load(runner, tmp_path, content)
    assert result.exit_code != 0
    assert "nothing was loaded" in result.output
    for problem in problems:
        assert problem in result.output
    assert registry(app) == ["nl-ams-2", "nl-rtm-1"]  # the old registry is whole


def test_a_file_that_is_not_utf8_is_refused_with_its_line(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, caseworker: Caseworker
) -> None:
    result = load(runner, tmp_path, b"id,name\na,One\n" + "b,Gé\n".encode("latin-1"))
    assert result.exit_code != 0
    assert "line 3: not UTF-8 text" in result.output
    assert registry(app) == []


def test_loading_replaces_the_registry_and_clear_empties_it(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, caseworker: Caseworker
) -> None:
    assert load(runner, tmp_path, REGISTRY).exit_code == 0
    assert load(runner, tmp_path, "id,name\nnl-ams-2,Renamed\nfr-1,Paris office\n").exit_code == 0
    assert registry(app) == ["fr-1", "nl-ams-2"]
    result = runner.invoke(args=["registry", "clear", "--yes"])
    assert result.exit_code == 0 and "Removed 2 places" in result.output
    assert registry(app) == []


def test_each_organisation_has_its_own_registry(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, caseworker: Caseworker
) -> None:
    add_caseworker(app, "Second organisation")
    result = load(runner, tmp_path, REGISTRY)
    assert result.exit_code != 0 and "--org" in result.output
    assert load(runner, tmp_path, REGISTRY, "--org", "Second organisation").exit_code == 0
    assert load(runner, tmp_path, "id,name\nx,Other\n", "--org", "Test organisation").exit_code == 0
    shown = runner.invoke(args=["registry", "show", "--org", "Second organisation"])
    assert "nl-ams-2" in shown.output and "\tOther" not in shown.output


def test_a_long_file_reports_progress(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, caseworker: Caseworker
) -> None:
    rows = "".join(f"p{n},Place {n}\n" for n in range(2500))
    result = load(runner, tmp_path, "id,name\n" + rows)
    assert result.exit_code == 0, result.output
    assert "read 2000 rows" in result.output and "Loaded 2500 places" in result.output


# -- the form and the document -------------------------------------------------------------


def test_without_a_registry_the_place_is_asked_as_text(
    client: FlaskClient, caseworker: Caseworker
) -> None:
    page = client.get("/report").text
    assert 'name="place-other"' in page and 'name="place-choice"' not in page


def test_the_place_chosen_from_the_registry_is_stored_by_id_and_name(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    tmp_path: Path,
    caseworker: Caseworker,
) -> None:
    load(runner, tmp_path, REGISTRY)
    page = client.get("/report").text
    assert re.search(r'<select[^>]*name="place-choice"', page)
    assert f'<option value="nl-ams-2">{SHOWN}</option>' in page
    assert submit_report(client, **{"place-choice": "nl-ams-2"}).status_code == 200
    document, _ = stored_report(app, caseworker)
    assert document["where"]["place"] == {"registry_id": "nl-ams-2", "name": SHOWN}
    shown = render.report_text(document)
    assert f"Station or office: {SHOWN} (registry entry nl-ams-2)" in shown


def test_the_place_in_the_reporters_words(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    tmp_path: Path,
    caseworker: Caseworker,
) -> None:
    load(runner, tmp_path, REGISTRY)
    words = "the back room of the restaurant on Kade 3"
    assert submit_report(client, **{"place-other": f"  {words} "}).status_code == 200
    document, _ = stored_report(app, caseworker)
    assert document["where"]["place"] == {"text": words}
    assert f"Station or office: {words} (in the reporter's words)" in render.report_text(document)


def test_an_unanswered_place_is_empty(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    assert submit_report(client).status_code == 200
    document, _ = stored_report(app, caseworker)
    assert document["where"]["place"] == {}
    assert "Station or office" not in render.report_text(document)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"place-choice": "nl-xxx-9"}, "This place is not in the list"),
        ({"place-choice": "nl-ams-2", "place-other": "x"}, "not both"),
        ({"place-other": "p" * 5000}, "This is too long"),
    ],
)
def test_a_bad_place_is_refused_and_nothing_stored(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    tmp_path: Path,
    caseworker: Caseworker,
    fields: dict[str, str],
    error: str,
) -> None:
    load(runner, tmp_path, REGISTRY)
    response = submit_report(client, attachments=[file_part(b"kept?")], **fields)
    assert response.status_code == 400
    assert error in response.text
    assert 'href="#place"' in response.text  # the error summary links to the question
    assert nothing_stored(app)


def test_each_file_has_its_description_and_the_sha256_of_its_bytes(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    page = client.get("/report").text
    assert page.count('type="file" name="attachments"') == 5
    assert 'name="attachments_rows-4-description"' in page
    first, third = b"the summons letter" * 1000, bytes(range(256)) * 3000
    response = submit_report(
        client,
        attachments=[file_part(first, "a.txt"), file_part(b"", ""), file_part(third, "c.bin")],
        **{
            "attachments_rows-0-description": "the summons, page 1",
            "attachments_rows-2-description": "  a recording  ",
        },
    )
    assert response.status_code == 200, response.text[:300]
    document, blobs = stored_report(app, caseworker)
    a, c = document["attachments"]
    assert (a["description"], c["description"]) == ("the summons, page 1", "a recording")
    assert a["sha256"] == hashlib.sha256(first).hexdigest()
    assert c["sha256"] == hashlib.sha256(third).hexdigest()
    assert blobs[c["blob"]][: c["size"]] == third
    refs = [
        AttachmentRef(
            i, f["blob"], f["filename"], f["content_type"], f["size"], f["sha256"], f["description"]
        )
        for i, f in enumerate((a, c))
    ]
    lines = "\n".join(render.attachment_lines(refs))
    assert "“the summons, page 1”" in lines and f"SHA-256 {a['sha256']}" in lines


def test_a_file_without_a_description_records_none(
    app: Flask, client: FlaskClient, caseworker: Caseworker
) -> None:
    assert submit_report(client, attachments=[file_part(b"x")]).status_code == 200
    (entry,) = stored_report(app, caseworker)[0]["attachments"]
    assert "description" not in entry and entry["sha256"] == hashlib.sha256(b"x").hexdigest()


@pytest.mark.parametrize(
    ("description", "files", "error"),
    [
        ("d" * 201, [file_part(b"x")], "one line of at most 200 characters"),
        ("two\nlines", [file_part(b"x")], "one line of at most 200 characters"),
        ("a file I forgot", [], "did not choose one"),
    ],
)
def test_a_bad_description_is_refused_and_nothing_stored(
    app: Flask,
    client: FlaskClient,
    caseworker: Caseworker,
    description: str,
    files: list[Any],
    error: str,
) -> None:
    response = submit_report(
        client, attachments=files, **{"attachments_rows-0-description": description}
    )
    assert response.status_code == 400
    assert error in response.text
    assert 'href="#attachments_rows-0-description"' in response.text  # the error summary
    assert "File 1: What this file shows" in response.text
    assert nothing_stored(app)


# -- the client ----------------------------------------------------------------------------


def test_the_client_checks_each_files_digest(tmp_path: Path) -> None:
    identity = crypto.generate_identity()
    original = b"evidence " * 10000
    path = tmp_path / "file.age"
    path.write_bytes(crypto.encrypt(original + bytes(100), [identity.recipient]))
    out = io.BytesIO()
    decrypt_file(path, [identity], out, len(original), hashlib.sha256(original).hexdigest())
    assert out.getvalue() == original
    other = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(DigestMismatch, match="does not match the one recorded"):
        decrypt_file(path, [identity], io.BytesIO(), len(original), other)
    decrypt_file(path, [identity], io.BytesIO(), len(original), "")  # an older report: no check


def _opened(consent: str) -> list[OpenedMessage]:
    files = [AttachmentInfo("b1", "photo.jpg", "image/jpeg", 5, "ab" * 32, "my uncle's house")]
    fields = {
        "narrative": "n" * 40,
        "consent": consent,
        "reply_language": "en",
        "place": {"text": "the station on Kade 3"},
    }
    document = protocol.read_report(report_document(fields, files, "en"))
    ref = AttachmentRef(0, "b1", "photo.jpg", "image/jpeg", 5, "ab" * 32, "my uncle's house")
    return [OpenedMessage(0, "report", "2026-12-01", None, None, document, None, [ref])]


def test_an_anonymised_escalation_drops_place_and_descriptions() -> None:
    package = build_package(_opened("anonymised"), {"id": "r", "consent": "anonymised"}, "NGO")
    text = protocol.encode(package.document).decode()
    assert "Kade 3" not in text and "uncle" not in text
    assert "where.place" in package.document["redacted"]
    protocol.read_escalation(package.document)


def test_a_full_escalation_keeps_them() -> None:
    package = build_package(_opened("full"), {"id": "r", "consent": "full"}, "NGO")
    document = protocol.read_escalation(package.document)
    assert document["report"]["where"]["place"] == {"text": "the station on Kade 3"}
    assert document["attachments"][0]["description"] == "my uncle's house"


# -- the reader ----------------------------------------------------------------------------


def _report(**changes: Any) -> dict[str, Any]:
    fields = {"narrative": "n" * 40, "consent": "none", "reply_language": "en"}
    document = report_document(fields, [AttachmentInfo("b", "f", "t", 1, "0" * 64, "d")], "en")
    document.update(changes)
    return document


def test_older_documents_without_digest_or_description_still_read() -> None:
    old = _report(attachments=[{"blob": "b", "filename": "f", "content_type": "t", "size": 1}])
    del old["where"]["place"]
    assert protocol.read_report(old)["attachments"][0]["size"] == 1


@pytest.mark.parametrize(
    "changes",
    [
        {
            "attachments": [
                {"blob": "b", "filename": "f", "content_type": "t", "size": 1, "sha256": "AB" * 32}
            ]
        },
        {
            "attachments": [
                {"blob": "b", "filename": "f", "content_type": "t", "size": 1, "sha256": "0" * 63}
            ]
        },
        {
            "attachments": [
                {
                    "blob": "b",
                    "filename": "f",
                    "content_type": "t",
                    "size": 1,
                    "description": "x" * 201,
                }
            ]
        },
        {
            "attachments": [
                {"blob": "b", "filename": "f", "content_type": "t", "size": 1, "description": 7}
            ]
        },
        {"where": {"place": "a string"}},
        {"where": {"place": {"text": ""}}},
        {"where": {"place": {"registry_id": "x"}}},
        {"where": {"place": {"registry_id": "x", "name": "n", "text": "t"}}},
        {"where": {"place": {"registry_id": 3, "name": "n"}}},
    ],
)
def test_the_reader_refuses_malformed_places_and_files(changes: dict[str, Any]) -> None:
    with pytest.raises(protocol.DocumentError):
        protocol.read_report(_report(**changes))


def test_show_prints_descriptions_and_digests_and_saves_only_matching_files(
    tmp_path: Path,
) -> None:
    cache = Cache(tmp_path / "home")
    cache.write(extra={"place": {"text": "the association's office"}})
    path = cache.store.blob_path(f"{REPORT_ID}d")
    document = json.loads(crypto.decrypt(path.read_bytes(), [cache.identity]))
    photo, text = document["attachments"]
    photo.update(sha256=hashlib.sha256(cache.photo).hexdigest(), description="the caller")
    text["sha256"] = hashlib.sha256(b"not the bytes that were sent").hexdigest()
    cache.blob(f"{REPORT_ID}d", protocol.encode(document), b" ")
    folder = tmp_path / "evidence"
    result = invoke(cache.home, "show", REPORT_ID, "--save", str(folder))
    out = result.output
    assert "Station or office: the association's office (in the reporter's words)" in out
    assert "“the caller”" in out and f"SHA-256 {photo['sha256']}" in out
    assert "02-call.txt: not saved, its SHA-256 does not match" in out
    assert sorted(p.name for p in folder.iterdir()) == ["01-evil_.jpg"]


def test_the_streaming_digest_is_sha256_and_compares_in_constant_time() -> None:
    data = bytes(range(256)) * 700
    digest = crypto.Sha256()
    for start in range(0, len(data), 65536):
        digest.update(memoryview(data)[start : start + 65536])
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert crypto.same_digest(digest.hexdigest(), hashlib.sha256(data).hexdigest())
    assert not crypto.same_digest(digest.hexdigest(), hashlib.sha256(b"").hexdigest())

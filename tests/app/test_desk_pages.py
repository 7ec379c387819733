"""The desk's evidence, linked cases, statistics and exports pages over a real client cache.

The desk is the real app (caseworker_client/desk/) over a client home holding an identity
and reports encrypted to it as `pull` leaves them (tests/support/client_cache.py), driven
through Flask's test client with its one-time link, cookie and CSRF tokens. Not logged
in: what these pages show comes from the cache, decrypted in memory. The Keys page, which
asks the server, is tests/app/test_desk_keys.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

import crypto
from caseworker_client import evidence, pdf_pages, sandbox
from caseworker_client.config import Home
from caseworker_client.context import Context
from caseworker_client.desk import create_app, guard
from protocol import encode
from tests.support.client_cache import REPORT_ID, Cache
from tests.support.desk import BASE, PORT, admitted, csrf_from_session
from tests.support.desk_cache import (
    CANARY,
    EVIDENCE_ID,
    OTHER_ID,
    PHONE,
    add_evidence,
    linked_cache,
    own_folders,
    sha256,
)
from tests.support.pdfs import pdf_file, text_page
from tests.support.scans import needles, scan_files
from tests.support.tools import require_tool, unavailable

DeskClient = tuple[Flask, FlaskClient]


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    return own_folders(tmp_path, monkeypatch)


@pytest.fixture
def cache(folders: dict[str, Path]) -> Cache:
    return linked_cache(folders)


@pytest.fixture
def client(cache: Cache) -> Iterator[tuple[Flask, FlaskClient]]:
    admission = guard.Admission()
    app = create_app(Context(Home(cache.home), lambda: ""), admission)
    guard.listen_on(app, PORT)
    yield app, admitted(app, admission)


def get(client: FlaskClient, path: str, status: int = 200) -> Any:
    answer = client.get(path, base_url=BASE)
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["Cache-Control"] == "no-store"
    return answer


def post(app: Flask, client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(
        path, base_url=BASE, data={**data, "csrf_token": csrf_from_session(app, client)}
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def file_page(report_id: str, blob: str) -> str:
    return f"/reports/{report_id}/files/{blob}"


# -- the pages ----------------------------------------------------------------------------------


PAGES = {
    "/linked": "Linked cases",
    "/statistics": "Statistics",
    "/exports": "Exports",
    f"/reports/{REPORT_ID}": "Report r3port0000",
    file_page(REPORT_ID, f"{REPORT_ID}p"): "File: ../../evil",
}


@pytest.mark.parametrize("path,title", PAGES.items())
def test_each_page_renders_without_scripts_and_links_from_the_menu(
    client: DeskClient, path: str, title: str
) -> None:
    _, browser = client
    page = get(browser, path)
    assert f"<h1>{title}" in page.text
    assert "<script" not in page.text.lower()
    menu = page.text.split("</nav>")[0]
    for href in ("/linked", "/statistics", "/exports", "/keys"):
        assert f'href="{href}"' in menu


def test_without_the_desk_cookie_every_new_page_is_refused(client: DeskClient) -> None:
    app, _ = client
    stranger = app.test_client()
    photo = file_page(REPORT_ID, f"{REPORT_ID}p")
    for path in (*PAGES, photo + "/pictures/0", "/statistics/chart.png", "/keys"):
        refused = stranger.get(path, base_url=BASE)
        assert refused.status_code == 403 and refused.mimetype == "text/html", path
        assert CANARY not in refused.text
    for path in (photo + "/save", "/exports/aggregate", "/exports/cases", "/keys/accept"):
        assert stranger.post(path, base_url=BASE).status_code == 403, path


def test_the_case_page_links_each_file_to_its_view(client: DeskClient) -> None:
    _, browser = client
    case = get(browser, f"/reports/{REPORT_ID}").text
    for blob in (f"{REPORT_ID}p", f"{REPORT_ID}t"):
        assert f'href="{file_page(REPORT_ID, blob)}"' in case


# -- evidence -----------------------------------------------------------------------------------


def test_an_image_is_shown_as_a_copy_without_its_metadata(client: DeskClient, cache: Cache) -> None:
    _, browser = client
    with Image.open(io.BytesIO(cache.photo)) as original:
        assert original.getexif()  # the reporter's photo carries EXIF (a GPS position)
    page = get(browser, file_page(REPORT_ID, f"{REPORT_ID}p")).text
    picture_url = file_page(REPORT_ID, f"{REPORT_ID}p") + "/pictures/0"
    assert f'<img src="{picture_url}"' in page
    assert "(none was recorded at submission)" in page  # an older report: no digest
    picture = get(browser, picture_url)
    assert picture.mimetype == "image/jpeg"
    for marker in (b"Exif", b"PhoneMaker", b"taken at home"):
        assert marker not in picture.data
    with Image.open(io.BytesIO(picture.data)) as shown:
        assert dict(shown.getexif()) == {} and "comment" not in shown.info
        assert shown.size == (20, 40)  # turned upright, as the EXIF said
    get(browser, file_page(REPORT_ID, f"{REPORT_ID}p") + "/pictures/1", 404)
    get(browser, file_page(REPORT_ID, "no-such-blob"), 404)


def test_the_digest_verdict_is_shown_and_a_changed_file_is_flagged(
    client: DeskClient, cache: Cache
) -> None:
    _, browser = client
    photo = cache.photo
    same, changed = add_evidence(
        cache,
        [
            ("summons.jpg", "image/jpeg", photo, sha256(photo)),
            ("letter.jpg", "image/jpeg", photo, sha256(b"the bytes the reporter sent")),
        ],
    )
    matches = text_of(get(browser, file_page(EVIDENCE_ID, same)).text)
    assert f"Checked: SHA-256 {sha256(photo)}: the bytes the reporter sent" in matches
    differs = text_of(get(browser, file_page(EVIDENCE_ID, changed)).text)
    assert "Different bytes:" in differs
    assert f"DIFFERS from the {sha256(b'the bytes the reporter sent')}" in differs
    assert "these are not the bytes the reporter sent" in differs


def test_a_file_of_another_kind_has_no_preview(client: DeskClient) -> None:
    _, browser = client
    page = text_of(get(browser, file_page(REPORT_ID, f"{REPORT_ID}t")).text)
    assert "no preview for this kind of file" in page
    assert "/pictures/" not in page and CANARY not in page


def test_a_pdf_is_shown_as_page_images_or_said_unsafe_here(
    client: DeskClient, cache: Cache
) -> None:
    _, browser = client
    document = pdf_file([text_page("Summons to the station"), text_page("Page two")])
    (blob,) = add_evidence(cache, [("summons.pdf", "application/pdf", document, "")])
    page = text_of(get(browser, file_page(EVIDENCE_ID, blob)).text)
    if "cannot render safely here" in page:
        require_tool(pdf_pages.PDFTOPPM)
        if sandbox.isolation_prefix() is None:
            unavailable("this machine refuses network namespaces", "CI runs as root")
        pytest.fail(page)
    assert "Page 1" in page and "Page 2" in page
    for number in (0, 1):
        picture = get(browser, f"{file_page(EVIDENCE_ID, blob)}/pictures/{number}")
        assert picture.mimetype == "image/png" and picture.data.startswith(b"\x89PNG")


def test_save_original_writes_only_on_a_post_with_csrf_into_the_folder_named(
    client: DeskClient, cache: Cache, folders: dict[str, Path]
) -> None:
    app, browser = client
    path = file_page(REPORT_ID, f"{REPORT_ID}t")
    shown = get(browser, path).text
    assert evidence.ORIGINAL_WARNING in shown  # before the button
    assert f'value="{folders["user home"] / "Downloads"}"' in shown  # the default folder
    chosen = folders["user home"] / "evidence for the lawyer"
    refused = browser.post(path + "/save", base_url=BASE, data={"folder": str(chosen)})
    assert refused.status_code == 400 and "Form refused" in refused.text
    assert browser.get(path + "/save", base_url=BASE).status_code == 405
    relative = post(app, browser, path + "/save", {"folder": "evidence"})
    assert relative.status_code == 400 and "name the whole folder" in relative.text
    assert not chosen.exists() and not (folders["user home"] / "Downloads").exists()
    assert not (folders["cwd"] / "evidence").exists()

    saved = post(app, browser, path + "/save", {"folder": str(chosen)})
    assert saved.status_code == 200
    (written,) = chosen.iterdir()
    assert f"saved {written}" in saved.text
    assert written.read_bytes() == cache.text_file  # the original, unchanged
    assert written.stat().st_mode & 0o077 == 0


def test_an_original_whose_digest_differs_is_not_saved(
    client: DeskClient, cache: Cache, folders: dict[str, Path]
) -> None:
    app, browser = client
    (blob,) = add_evidence(cache, [("a.jpg", "image/jpeg", cache.photo, sha256(b"other"))])
    chosen = folders["user home"] / "saved"
    answer = post(app, browser, file_page(EVIDENCE_ID, blob) + "/save", {"folder": str(chosen)})
    assert answer.status_code == 200
    said = text_of(answer.text.split('class="notice warning saved"')[1])
    assert "not saved" in said and "does not match the one recorded" in said
    assert list(chosen.iterdir()) == []


# -- linked cases, statistics, exports -----------------------------------------------------------


def test_the_case_page_shows_the_linked_report_and_what_they_share(client: DeskClient) -> None:
    _, browser = client
    case = get(browser, f"/reports/{REPORT_ID}").text
    section = case.split('class="part linked-cases"')[1].split("</section>")[0]
    assert f'href="/reports/{OTHER_ID}"' in section
    assert f'<strong class="shared">{PHONE}</strong>' in section
    assert "Somewhere street 1" in section  # the station's address, in both
    clusters = text_of(get(browser, "/linked").text)
    assert "Cluster 1: 2 reports" in clusters and PHONE in clusters


def test_a_report_linked_to_none_says_so(client: DeskClient, cache: Cache) -> None:
    _, browser = client
    add_evidence(cache, [])
    section = get(browser, f"/reports/{EVIDENCE_ID}").text.split("linked-cases")[1]
    assert "No other report decrypted here shares" in section


def test_a_report_for_another_key_is_left_out_and_said_so(cache: Cache, client: DeskClient) -> None:
    """A report this key cannot open is counted as such on the pages across reports, and
    the others are still shown."""
    stranger = crypto.generate_identity().recipient
    cache.write("r3port0000000000000000000009")
    cache.blob("r3port0000000000000000000009d", encode({"narrative": "x"}), b" ", [stranger])
    _, browser = client
    for path in ("/statistics", "/exports", "/linked"):
        page = get(browser, path).text
        assert "1 pulled report(s) could not be opened with your key" in page, path
    assert '<strong class="total">2</strong>' in get(browser, "/statistics").text


def test_the_statistics_page_has_the_counts_and_a_chart(client: DeskClient) -> None:
    _, browser = client
    page = get(browser, "/statistics").text
    assert '<strong class="total">2</strong>' in page
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert ["Netherlands", "2"] in cells
    assert ["2026-10", "1"] in cells and ["2026-11", "1"] in cells
    assert ["NL", "rotterdam", "2"] in cells
    assert '<img class="chart" src="/statistics/chart.png"' in page
    chart = get(browser, "/statistics/chart.png")
    assert chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG")


def rows_of(answer: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def test_the_aggregate_export_is_a_download_with_small_counts_withheld(client: DeskClient) -> None:
    app, browser = client
    answer = post(app, browser, "/exports/aggregate", {"form": "csv", "min_count": "5"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="figures-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    rows = rows_of(answer)
    assert rows[1] == ["reports", "Reports", "", "all", "all reports", "suppressed"]
    assert all(row[-1] == "suppressed" for row in rows[1:])
    assert not any("rotterdam" in cell for row in rows for cell in row)  # rare city: unnamed

    shown = post(app, browser, "/exports/aggregate", {"form": "json", "min_count": "2"})
    assert shown.mimetype == "application/json"
    assert shown.headers["Content-Disposition"].endswith('.json"')
    document = json.loads(shown.data)
    assert document["reports"] == 2 and document["places"] == "city"
    coarse = post(
        app, browser, "/exports/aggregate", {"form": "csv", "min_count": "2", "coarsen_places": "y"}
    )
    assert not any(row[0] == "where.city" for row in rows_of(coarse))
    assert any(row[:4] == ["where.country", row[1], "", "NL"] for row in rows_of(coarse))


@pytest.mark.parametrize("min_count", ["1", "0", "-3", "many", ""])
def test_a_threshold_below_two_is_refused_and_nothing_is_sent(
    client: DeskClient, min_count: str
) -> None:
    app, browser = client
    answer = post(app, browser, "/exports/aggregate", {"form": "csv", "min_count": min_count})
    assert answer.status_code == 400 and "Content-Disposition" not in answer.headers
    assert "<h1>Exports</h1>" in answer.text


def test_the_case_export_leaves_identifying_columns_out_unless_asked(client: DeskClient) -> None:
    app, browser = client
    page = text_of(get(browser, "/exports").text)
    assert "Identifying columns" in page and "left out of the file unless you tick" in page
    plain = post(app, browser, "/exports/cases", {})
    assert plain.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    header, *cases = rows_of(plain)
    assert "city" not in header and "actor_phones" not in header and len(cases) == 2
    assert PHONE not in plain.get_data(as_text=True)
    full = post(app, browser, "/exports/cases", {"include_identifying": "y"})
    header, *cases = rows_of(full)
    assert "city" in header and "Rotterdam" in cases[0][header.index("city")]


def test_exports_need_the_csrf_token(client: DeskClient) -> None:
    _, browser = client
    for form in ("aggregate", "cases"):
        refused = browser.post(f"/exports/{form}", base_url=BASE, data={"min_count": "5"})
        assert refused.status_code == 400 and "Form refused" in refused.text


# -- the canary ----------------------------------------------------------------------------------


def test_canary_after_every_page_nothing_decrypted_is_on_disk_but_the_original_saved(
    client: DeskClient, cache: Cache, folders: dict[str, Path]
) -> None:
    app, browser = client
    # The canary also as a city and a name, in two reports: in the statistics, the chart,
    # the linked cases and the exports.
    extra = {"city": CANARY, "actor_names": CANARY, "people": PHONE, "narrative": CANARY}
    cache.write("r3port0000000000000000000004", extra=extra)
    cache.write("r3port0000000000000000000005", extra=extra)  # the same name: linked
    document = pdf_file([text_page(CANARY.split("-金")[0])])
    add_evidence(
        cache,
        [("photo.jpg", "image/jpeg", cache.photo, ""), ("c.pdf", "application/pdf", document, "")],
    )
    pages = ["/", "/linked", "/statistics", "/statistics/chart.png", "/exports", "/keys"]
    for report_id in (REPORT_ID, OTHER_ID, EVIDENCE_ID, "r3port0000000000000000000004"):
        pages.append(f"/reports/{report_id}")
        opened = get(browser, f"/reports/{report_id}").text
        for blob in re.findall(rf"/reports/{report_id}/files/([\w-]+)\"", opened):
            pages += [file_page(report_id, blob), file_page(report_id, blob) + "/pictures/0"]
    assert len(pages) > 12
    seen = ""
    for path in pages:
        answer = browser.get(path, base_url=BASE)
        assert answer.status_code in (200, 404), path
        seen += answer.get_data(as_text=True) if answer.mimetype == "text/html" else ""
    assert CANARY in seen  # the pages did show the decrypted report
    exported = ""
    for form, data in (
        ("aggregate", {"form": "csv", "min_count": "2"}),
        ("cases", {"include_identifying": "y"}),
    ):
        answer = post(app, browser, f"/exports/{form}", data)
        assert answer.status_code == 200
        exported += answer.get_data(as_text=True)
    assert CANARY in exported  # the case export, identifying columns included
    assert CANARY in get(browser, "/statistics").text
    assert CANARY in get(browser, "/linked").text
    chosen = folders["user home"] / "saved"
    saved = post(
        app, browser, file_page(REPORT_ID, f"{REPORT_ID}t") + "/save", {"folder": str(chosen)}
    )
    assert saved.status_code == 200
    (original,) = chosen.iterdir()
    assert any(needle in original.read_bytes() for needle in needles(CANARY))

    os.rename(chosen, folders["tmp"].parent / "moved aside")  # the one file allowed
    assert scan_files(folders["user home"], CANARY) >= 10  # the client home: ciphertext
    scan_files(folders["tmp"], CANARY)
    scan_files(folders["cwd"], CANARY)

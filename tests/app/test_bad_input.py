"""Bad input gets a readable 4xx page and stores nothing (docs/design.md, invariant 5).

Every case checks the status, that the page is ours (an <h1> and a message that says what to
do, not Werkzeug's bare default page), and afterwards that nothing was stored: no rows, no
blobs, no temporary files, and no new files under the instance folder.
"""

from __future__ import annotations

import base64
import html
import io
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

import crypto
from reporting import create_app
from reporting.infra import migrate
from reporting.infra.blobs import BlobWriter
from reporting.infra.config import Limits
from tests.support.portal import (
    NARRATIVE,
    Caseworker,
    add_caseworker,
    come_back,
    csrf_token,
    file_part,
    report_fields,
    submit_report,
)
from tests.support.refusals import (
    assert_error_page,
    assert_nothing_more_stored,
    assert_nothing_stored,
    assert_refused,
    blob_store,
    page_text,
    stored_state,
)

MB = 1024 * 1024
BOUNDARY = "bad-input-test-boundary-7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"
CSRF_MESSAGE = "This form has expired or was already sent"
# Stands for a new random codename, made when the test runs (not at collection).
CODENAME = "<a fresh codename>"


def fresh_codename(value: str) -> str:
    return crypto.generate_codename() if value == CODENAME else value


# --- What is stored ---------------------------------------------------------------------------


def record_writers(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[BlobWriter]:
    """Every blob writer the app opens, so a test can show that upload sinks were made."""
    store = blob_store(app)
    opened: list[BlobWriter] = []
    original = store.writer

    def writer(*args: Any, **kwargs: Any) -> BlobWriter:
        sink = original(*args, **kwargs)
        opened.append(sink)
        return sink

    monkeypatch.setattr(store, "writer", writer)
    return opened


# --- What the reporter sees -------------------------------------------------------------------


def assert_form_error(
    response: TestResponse, status: int, field_id: str | None, phrase: str
) -> None:
    """The form again, with an error summary and `phrase` next to the field it is about."""
    assert response.status_code == status, page_text(response)[:2000]
    assert response.mimetype == "text/html"
    text = response.text
    assert re.search(r"<h1>[^<]+</h1>", text)
    assert 'class="error-summary" role="alert"' in text
    assert phrase in page_text(response)
    if field_id is None:
        return
    errors = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', text, re.S
    )
    assert errors, f"no error list next to {field_id}"
    assert phrase in " ".join(html.unescape(errors.group(1)).split())
    control = re.search(rf'<(?:input|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', text)
    assert control, f"no input {field_id}"
    assert f"{field_id}-errors" in control.group(0), "the error is not tied to the input"
    assert 'aria-invalid="true"' in control.group(0)


def textarea_value(response: TestResponse, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1)).strip()


def is_english(response: TestResponse) -> bool:
    return '<html lang="en"' in response.text


# --- Building requests by hand ----------------------------------------------------------------


def multipart_body(
    fields: Iterable[tuple[str, bytes]],
    files: Iterable[tuple[str, bytes]] = (),
    *,
    close: bool = True,
    boundary: str = BOUNDARY,
) -> bytes:
    """A multipart/form-data body with exactly the bytes given (no encoding, no checks)."""
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value + b"\r\n")
    for filename, content in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    if close:
        out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


def form_fields(client: FlaskClient, **overrides: Any) -> list[tuple[str, bytes]]:
    """A valid report with this client's CSRF token, as raw (name, bytes) pairs."""
    data = {"csrf_token": csrf_token(client, "/report"), **report_fields(**overrides)}
    return [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in data.items()]


def post_raw(client: FlaskClient, body: bytes, content_type: str = MULTIPART) -> TestResponse:
    """POST exactly these bytes to /report, with a truthful Content-Length."""
    return client.post("/report", data=body, content_type=content_type)


def post_cut(client: FlaskClient, body: bytes, promised: int) -> TestResponse:
    """A body whose Content-Length promises more than arrives: the connection was cut.

    The test client would set Content-Length from the stream, so it is overridden.
    """
    return client.post(
        "/report",
        input_stream=io.BytesIO(body),
        content_type=MULTIPART,
        environ_overrides={"CONTENT_LENGTH": str(promised)},
    )


def post_chunked(client: FlaskClient, body: bytes) -> TestResponse:
    """A chunked upload as a WSGI server passes it on: no Content-Length, stream terminated."""
    builder = EnvironBuilder(
        "/report",
        method="POST",
        input_stream=io.BytesIO(body),
        content_type=MULTIPART,
        headers={"Transfer-Encoding": "chunked"},
    )
    request = builder.get_request()
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input_terminated"] = True
    return client.open(request)


# --- Apps with other settings -----------------------------------------------------------------


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Callable[..., Flask]:
    """Build one app with extra config (like conftest's `app`); not for use with `app`."""

    def build(*, caseworker: bool = True, **config: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": tmp_path / "instance",
                "DATABASE_URL": database_url,
                **config,
            }
        )
        migrate.upgrade(database_url)
        if caseworker:
            add_caseworker(app)
        return app

    return build


SMALL_LIMITS = Limits(max_file_bytes=1 * MB, max_submission_bytes=2 * MB, max_files=3)


# --- CSRF --------------------------------------------------------------------------------------


def _missing_token(client: FlaskClient, other: FlaskClient) -> dict[str, Any]:
    csrf_token(client, "/report")
    return report_fields()


def _wrong_token(client: FlaskClient, other: FlaskClient) -> dict[str, Any]:
    token = csrf_token(client, "/report")
    return {"csrf_token": token[::-1], **report_fields()}


def _token_of_another_session(client: FlaskClient, other: FlaskClient) -> dict[str, Any]:
    csrf_token(client, "/report")
    return {"csrf_token": csrf_token(other, "/report"), **report_fields()}


@pytest.mark.parametrize(
    "make_data",
    [_missing_token, _wrong_token, _token_of_another_session],
    ids=["missing", "wrong", "other-session"],
)
def test_bad_csrf_token_is_refused(
    app: Flask, caseworker: Caseworker, make_data: Callable[..., dict[str, Any]]
) -> None:
    client, other = app.test_client(), app.test_client()
    response = client.post(
        "/report", data=make_data(client, other), content_type="multipart/form-data"
    )
    assert_error_page(response, 400, CSRF_MESSAGE, "Nothing new was stored")
    assert_nothing_stored(app)


@pytest.mark.slow
def test_replayed_submission_is_refused(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    data = {"csrf_token": csrf_token(client, "/report"), **report_fields()}
    first = client.post("/report", data=dict(data), content_type="multipart/form-data")
    assert first.status_code == 200
    before = stored_state(app)
    assert before[0] == {"reports": 1, "messages": 1, "attachments": 0, "blobs": 1}

    replay = client.post("/report", data=dict(data), content_type="multipart/form-data")
    assert_error_page(replay, 400, CSRF_MESSAGE)
    assert_nothing_more_stored(app, before)


# --- Uploads over the limits -------------------------------------------------------------------


@pytest.mark.slow
def test_file_over_the_per_file_limit(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(LIMITS=SMALL_LIMITS)
    writers = record_writers(app, monkeypatch)
    client = app.test_client()
    # A small file first: it was fully received when the second one broke the limit.
    body = multipart_body(
        form_fields(client),
        [("small.jpg", b"s" * 100_000), ("big.mp4", b"b" * (SMALL_LIMITS.max_file_bytes + 1))],
    )
    response = post_raw(client, body)
    assert_error_page(response, 413, "Each file can be at most 1 MB")
    assert len(writers) == 2
    assert not any(w.committed for w in writers)
    assert_nothing_stored(app)


@pytest.mark.slow
def test_too_many_files(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(LIMITS=SMALL_LIMITS)
    writers = record_writers(app, monkeypatch)
    client = app.test_client()
    files = [(f"photo{i}.jpg", b"p" * 1000) for i in range(SMALL_LIMITS.max_files + 1)]
    response = post_raw(client, multipart_body(form_fields(client), files))
    assert_error_page(response, 413, "Please send at most 3 files at a time")
    assert len(writers) == SMALL_LIMITS.max_files
    assert_nothing_stored(app)


def _over_the_total_limit(client: FlaskClient) -> bytes:
    """Three files, each under the per-file limit, together over the submission limit."""
    each = SMALL_LIMITS.max_file_bytes - 100 * 1024
    files = [(f"part{i}.bin", b"x" * each) for i in range(3)]
    body = multipart_body(form_fields(client), files)
    assert len(body) > SMALL_LIMITS.max_submission_bytes
    return body


@pytest.mark.slow
@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_body_over_the_submission_limit(make_app: Callable[..., Flask], transfer: str) -> None:
    # Only LIMITS is given: MAX_CONTENT_LENGTH must follow Limits.max_submission_bytes.
    app = make_app(LIMITS=SMALL_LIMITS)
    client = app.test_client()
    body = _over_the_total_limit(client)
    response = (
        post_raw(client, body) if transfer == "content-length" else post_chunked(client, body)
    )
    mb = SMALL_LIMITS.max_submission_bytes // (1024 * 1024)
    assert_error_page(response, 413, "larger than this service accepts", f"({mb} MB in all)")
    assert_nothing_stored(app)


def test_connection_cut_mid_upload(
    app: Flask, caseworker: Caseworker, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = record_writers(app, monkeypatch)
    client = app.test_client()
    # Every file part streams into an encrypting sink; the cut comes inside the file.
    full = multipart_body(form_fields(client), [("video.mp4", b"v" * 600_000)])
    response = post_cut(client, full[: len(full) - 1000], promised=len(full))
    assert_error_page(response, 400, "Nothing was stored")
    assert len(writers) == 1
    assert_nothing_stored(app)


# --- Text that is not valid UTF-8 --------------------------------------------------------------


def _multipart_invalid(client: FlaskClient) -> TestResponse:
    body = multipart_body(form_fields(client, narrative=b"\xff\xfe" + NARRATIVE.encode()))
    return post_raw(client, body)


def _urlencoded(client: FlaskClient, narrative: bytes) -> TestResponse:
    token = csrf_token(client, "/report").encode()
    body = b"csrf_token=" + token + b"&consent=none&reply_language=zh_Hans&narrative=" + narrative
    return post_raw(client, body, URLENCODED)


def _urlencoded_percent(client: FlaskClient) -> TestResponse:
    return _urlencoded(client, b"%FF%FE" + NARRATIVE.replace(" ", "+").encode())


def _urlencoded_raw(client: FlaskClient) -> TestResponse:
    return _urlencoded(client, b"\xff\xfe" + NARRATIVE.replace(" ", "+").encode())


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(_multipart_invalid, id="multipart"),
        pytest.param(_urlencoded_percent, id="urlencoded-percent"),
        pytest.param(_urlencoded_raw, id="urlencoded-raw-bytes"),
    ],
)
def test_text_that_is_not_utf8_is_refused(
    app: Flask, caseworker: Caseworker, send: Callable[[FlaskClient], TestResponse]
) -> None:
    response = send(app.test_client())
    # Either answer is readable: the error page, or the form with the field marked.
    assert_refused(response, 400)
    assert_nothing_stored(app)


# --- Overlong and short fields -----------------------------------------------------------------


@pytest.mark.parametrize("field", ["city", "affiliation", "family-0-relation"])
def test_overlong_short_field(app: Flask, caseworker: Caseworker, field: str) -> None:
    response = submit_report(app.test_client(), **{field: "長" * 10_000})
    assert_form_error(response, 400, field, "please keep it under 200 characters")
    assert textarea_value(response, "narrative") == NARRATIVE
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("overrides", "field_id", "phrase"),
    [
        pytest.param(
            {"narrative": "x" * 50_000},
            "narrative",
            "please keep it under 40000 characters",
            id="narrative-50000",
        ),
        pytest.param(
            {"narrative": "They called my mother."},
            "narrative",
            "Please write at least 40 characters",
            id="narrative-too-short",
        ),
        pytest.param(
            {"narrative": CODENAME},
            "narrative",
            "This looks like a codename",
            id="narrative-is-a-codename",
        ),
        pytest.param(
            {"website": "https://spam.example/"},
            None,  # the honeypot is hidden, so its message is only in the summary
            "Please leave this field empty",
            id="honeypot-filled",
        ),
    ],
)
def test_form_refused_with_message(
    app: Flask,
    caseworker: Caseworker,
    overrides: dict[str, str],
    field_id: str | None,
    phrase: str,
) -> None:
    fields = {k: fresh_codename(v) for k, v in overrides.items()}
    response = submit_report(app.test_client(), **fields)
    assert_form_error(response, 400, field_id, phrase)
    assert_nothing_stored(app)


# --- Malformed multipart -----------------------------------------------------------------------


def _no_closing_boundary(client: FlaskClient) -> tuple[bytes, str]:
    body = multipart_body(form_fields(client), [("a.jpg", b"a" * 600_000)], close=False)
    return body, MULTIPART


def _boundary_never_appears(client: FlaskClient) -> tuple[bytes, str]:
    body = multipart_body(form_fields(client), boundary="some-other-boundary")
    return body, MULTIPART


def _garbage(client: FlaskClient) -> tuple[bytes, str]:
    csrf_token(client, "/report")
    return bytes(range(256)) * 64, MULTIPART


def _no_boundary_parameter(client: FlaskClient) -> tuple[bytes, str]:
    return multipart_body(form_fields(client)), "multipart/form-data"


@pytest.mark.parametrize(
    "make_body",
    [_no_closing_boundary, _boundary_never_appears, _garbage, _no_boundary_parameter],
    ids=["no-closing-boundary", "boundary-never-appears", "garbage", "no-boundary-parameter"],
)
def test_malformed_multipart(
    app: Flask, caseworker: Caseworker, make_body: Callable[[FlaskClient], tuple[bytes, str]]
) -> None:
    client = app.test_client()
    body, content_type = make_body(client)
    response = post_raw(client, body, content_type)
    # Werkzeug drops an unparseable body whole, the CSRF token too; the page says so.
    assert_error_page(response, 400, "did not arrive complete", "Nothing was stored")
    assert_nothing_stored(app)


# --- Languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["xx", "EN", "zh_Hans.", "x" * 300])
def test_unknown_language_is_a_readable_404(app: Flask, code: str) -> None:
    client = app.test_client()
    response = client.get(f"/language/{code}?next=/report")
    assert_error_page(response, 404, "There is no page at this address")
    assert is_english(client.get("/report"))
    assert_nothing_stored(app)


ODD_ACCEPT_LANGUAGES = [
    "xx-YY, ;q=garbage",
    ",,,;;;",
    "en;q=garbage",
    "i-klingon",
    "zh-",
    "*",
    "zh-Hans;q=0",
    "x" * 5000,
]


@pytest.mark.slow
def test_odd_accept_language_gives_english(app: Flask) -> None:
    client = app.test_client()
    for header in ODD_ACCEPT_LANGUAGES:
        response = client.get("/report", headers={"Accept-Language": header})
        assert response.status_code == 200, header
        assert is_english(response), header
    assert_nothing_stored(app)


# --- Coming back with a wrong codename ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("codename", "status", "phrase"),
    [
        pytest.param(CODENAME, 403, "No report matches this codename", id="7-words"),
        pytest.param("apple banana cherry", 400, "This is not a codename", id="3-words"),
        pytest.param("x", 400, "This is not a codename", id="one-letter"),
        pytest.param("a" * 10_000, 400, "this is too long", id="10000-chars"),
    ],
)
def test_wrong_codename(
    app: Flask, caseworker: Caseworker, codename: str, status: int, phrase: str
) -> None:
    assert submit_report(app.test_client()).status_code == 200
    before = stored_state(app)

    client = app.test_client()
    response = come_back(client, fresh_codename(codename))
    assert_form_error(response, status, "codename", phrase)
    assert 'name="codename"' in response.text
    assert_nothing_more_stored(app, before)
    case = client.get("/case")
    assert case.status_code == 302
    assert case.headers["Location"].endswith("/return")


# --- No organisation to encrypt to -------------------------------------------------------------


@pytest.mark.parametrize("attachment", [False, True], ids=["text-only", "with-attachment"])
def test_no_organisation_configured(app: Flask, attachment: bool) -> None:
    extra = {"attachments": file_part(b"e" * 600_000, "evidence.jpg")} if attachment else {}
    response = submit_report(app.test_client(), **extra)
    assert_error_page(response, 503, "not ready to receive reports")
    assert_nothing_stored(app)


# --- Sessions ----------------------------------------------------------------------------------


def assert_sent_to_return(response: TestResponse) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/return")


def test_case_pages_without_a_session(app: Flask, caseworker: Caseworker) -> None:
    client = app.test_client()
    assert_sent_to_return(client.get("/case"))

    # A session with a CSRF token but no report: the follow-up goes nowhere.
    token = csrf_token(client, "/report")
    response = client.post(
        "/case/followup",
        data={"csrf_token": token, "message": NARRATIVE, "attachments": file_part(b"f" * 1000)},
        content_type="multipart/form-data",
    )
    assert_sent_to_return(response)
    assert_nothing_stored(app)

    # No cookie at all: no CSRF token can be valid.
    response = app.test_client().post("/case/followup", data={"message": NARRATIVE})
    assert_error_page(response, 400, CSRF_MESSAGE)
    assert_nothing_stored(app)


def _flip(cookie: str) -> str:
    middle = len(cookie) // 2
    return cookie[:middle] + ("A" if cookie[middle] != "A" else "B") + cookie[middle + 1 :]


@pytest.mark.slow
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_flip, id="one-character-changed"),
        pytest.param(lambda cookie: cookie[: len(cookie) // 2], id="truncated"),
        pytest.param(lambda cookie: "not base64!!", id="garbage"),
        pytest.param(
            lambda cookie: base64.urlsafe_b64encode(secrets.token_bytes(120)).decode(),
            id="random-base64",
        ),
        pytest.param(lambda cookie: "sessión", id="non-ascii"),
    ],
)
def test_tampered_session_cookie_is_no_session(
    app: Flask, caseworker: Caseworker, tamper: Callable[[str], str]
) -> None:
    client = app.test_client()
    received = submit_report(client)
    assert received.status_code == 200
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    assert client.get("/case").status_code == 200
    old_token = csrf_token(client, "/case")
    before = stored_state(app)

    client.set_cookie(name, tamper(cookie.value))
    assert_sent_to_return(client.get("/case"))
    client.set_cookie(name, tamper(cookie.value))
    response = client.post("/case/followup", data={"csrf_token": old_token, "message": NARRATIVE})
    assert_error_page(response, 400, CSRF_MESSAGE)
    client.set_cookie(name, tamper(cookie.value))
    assert client.get("/report").status_code == 200
    assert_nothing_more_stored(app, before)


# --- Rate limits -------------------------------------------------------------------------------

TOO_MANY = "Too many reports or follow-ups have been sent in a short time"


@pytest.mark.slow
def test_second_report_from_the_same_session_is_rate_limited(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(LIMITS=Limits(submissions_per_session=1))
    client = app.test_client()
    assert submit_report(client).status_code == 200
    before = stored_state(app)

    response = submit_report(client)
    assert_error_page(response, 429, TOO_MANY, "Nothing was stored")
    assert_nothing_more_stored(app, before)


@pytest.mark.slow
def test_one_session_over_its_limit_does_not_refuse_another(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(LIMITS=Limits(submissions_per_session=1))
    flooder = app.test_client()
    assert submit_report(flooder).status_code == 200
    assert submit_report(flooder).status_code == 429

    assert submit_report(app.test_client()).status_code == 200

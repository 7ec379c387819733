"""The caseworker desk lets in one browser on this machine, and no page or site besides.

Through Flask's test client against the desk app itself (caseworker_client/desk/): the
one-time link, the session cookie it sets, the Host check against DNS rebinding, CSRF on
every form, and the headers every answer carries (a strict CSP, no referrer, no caching).
The desk runs here with an empty client home (not logged in): what is checked happens
before any report is read. Reading and working real reports is
tests/browser/test_desk.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from caseworker_client.config import Home, Session
from caseworker_client.context import Context
from caseworker_client.desk import create_app, guard
from tests.support.desk import BASE, PORT, admitted, csrf_from_session

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
FORMS = ("reply", "note", "status", "assign", "tags", "severity", "escalate", "escalate/send")


def new_desk(tmp_path: Path, signed_in: bool = True) -> tuple[Flask, guard.Admission]:
    home = Home(tmp_path / "client home")
    home.ensure()
    if signed_in:  # a session with a service that is not there: pages show what was pulled
        home.save_session(Session("http://127.0.0.1:9", "alice", "rcw_" + "A" * 43))
    admission = guard.Admission()
    app = create_app(Context(home, lambda: "unused"), admission)
    guard.listen_on(app, PORT)
    return app, admission


@pytest.fixture
def desk(tmp_path: Path) -> tuple[Flask, guard.Admission]:
    return new_desk(tmp_path)


def test_without_a_session_every_page_leads_to_signing_in(tmp_path: Path) -> None:
    app, admission = new_desk(tmp_path, signed_in=False)
    client = admitted(app, admission)
    for path in ("/", "/reports/abc"):
        answer = client.get(path, base_url=BASE)
        assert (answer.status_code, answer.headers["Location"]) == (303, "/sign-in")
    page = client.get("/sign-in", base_url=BASE)
    assert page.status_code == 200 and 'type="password"' in page.text
    assert page.headers["Content-Security-Policy"] == CSP
    # A sign-in posted without the form's CSRF token is refused before anything is sent.
    body = {"server": "http://127.0.0.1:9", "username": "a", "password": "p", "code": "1"}
    refused = client.post("/sign-in", base_url=BASE, data=body)
    assert refused.status_code == 400 and "Form refused" in refused.text
    # With it, an unreachable service is said plainly, and nothing typed comes back.
    token = csrf_from_session(app, client)
    answer = client.post("/sign-in", base_url=BASE, data={**body, "csrf_token": token})
    assert answer.status_code == 400 and "Not signed in" in answer.text
    assert 'value="p"' not in answer.text
    assert not (tmp_path / "client home" / "session.json").exists()


def test_the_one_time_link_sets_a_strict_cookie_and_leaves_the_token_behind(desk) -> None:
    app, admission = desk
    client = app.test_client()
    opened = client.get(f"/open?token={admission.token}", base_url=BASE)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/"  # no token in the address bar or history
    [cookie] = opened.headers.getlist("Set-Cookie")
    assert cookie.startswith(f"desk-{PORT}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # gone with the browser
    assert admission.token not in cookie
    inbox = client.get("/", base_url=BASE)
    assert inbox.status_code == 200 and "<h1>Inbox</h1>" in inbox.text


def test_the_token_works_once(desk) -> None:
    app, admission = desk
    admitted(app, admission)
    again = app.test_client().get(f"/open?token={admission.token}", base_url=BASE)
    assert again.status_code == 403 and "works once only" in again.text
    assert not again.headers.getlist("Set-Cookie")


@pytest.mark.parametrize("offered", ["", "wrong", "x" * 43, "TOKEN-WITH-ONE-CHANGE"])
def test_a_wrong_token_lets_nobody_in_and_spends_nothing(desk, offered: str) -> None:
    app, admission = desk
    if offered == "TOKEN-WITH-ONE-CHANGE":
        offered = admission.token[:-1] + ("A" if admission.token[-1] != "A" else "B")
    client = app.test_client()
    refused = client.get(f"/open?token={offered}", base_url=BASE)
    assert refused.status_code == 403 and not refused.headers.getlist("Set-Cookie")
    assert client.get("/", base_url=BASE).status_code == 403
    admitted(app, admission)  # the real link still works after a wrong guess


@pytest.mark.parametrize("path", ["/", "/reports/abc", "/static/desk.css"])
def test_without_the_cookie_every_page_is_refused_with_an_explanation(desk, path: str) -> None:
    app, _ = desk
    refused = app.test_client().get(path, base_url=BASE)
    assert refused.status_code == 403
    assert "Open the link printed in the terminal" in refused.text


def test_a_cookie_from_another_run_is_refused(tmp_path: Path) -> None:
    """Each run signs its cookie with a key of its own: a cookie of an earlier run (same
    port) lets nobody into this one."""
    first_app, first = new_desk(tmp_path / "one")
    old = admitted(first_app, first)
    cookie = old.get_cookie(f"desk-{PORT}", domain="127.0.0.1")
    assert cookie is not None
    app, _ = new_desk(tmp_path / "two")
    client = app.test_client()
    client.set_cookie(f"desk-{PORT}", cookie.value, domain="127.0.0.1")
    assert client.get("/", base_url=BASE).status_code == 403


@pytest.mark.parametrize(
    "host",
    [
        "rebound.attacker.example",  # DNS rebinding: the name points at 127.0.0.1 now
        f"rebound.attacker.example:{PORT}",
        "127.0.0.1",
        f"127.0.0.1:{PORT + 1}",
        f"127.0.0.2:{PORT}",
        f"[::1]:{PORT}",
        f"LOCALHOST.:{PORT}",
    ],
)
def test_a_foreign_host_header_is_refused_even_with_the_cookie(desk, host: str) -> None:
    app, admission = desk
    client = admitted(app, admission)
    refused = client.get("/", base_url=BASE, headers={"Host": host})
    assert refused.status_code == 421 and "Wrong address" in refused.text
    assert "Inbox" not in refused.text.split("</header>")[1]


def test_the_token_link_is_refused_under_a_foreign_host(desk) -> None:
    app, admission = desk
    client = app.test_client()
    headers = {"Host": f"rebound.attacker.example:{PORT}"}
    assert client.get(f"/open?token={admission.token}", headers=headers).status_code == 421
    admitted(app, admission)  # not spent


def test_localhost_with_the_port_is_the_desk_too(desk) -> None:
    app, admission = desk
    client = app.test_client()
    local = f"http://localhost:{PORT}"
    assert client.get(f"/open?token={admission.token}", base_url=local).status_code == 303
    assert client.get("/", base_url=local).status_code == 200


@pytest.mark.parametrize("form", FORMS)
def test_every_form_needs_the_csrf_token(desk, form: str) -> None:
    app, admission = desk
    client = admitted(app, admission)
    refused = client.post(f"/reports/abc/{form}", base_url=BASE, data={"text": "hello"})
    assert refused.status_code == 400 and "Form refused" in refused.text


@pytest.mark.parametrize("form", FORMS)
def test_a_csrf_token_of_another_session_is_refused(tmp_path: Path, form: str) -> None:
    app, admission = new_desk(tmp_path)
    other_app, _ = new_desk(tmp_path / "other")
    with other_app.test_request_context(base_url=BASE):
        from flask_wtf.csrf import generate_csrf

        foreign = generate_csrf()
    client = admitted(app, admission)
    data = {"text": "hello", "csrf_token": foreign}
    refused = client.post(f"/reports/abc/{form}", base_url=BASE, data=data)
    assert refused.status_code == 400 and "Form refused" in refused.text


def test_with_its_csrf_token_a_form_reaches_the_client(desk) -> None:
    """The same post with the session's token goes through to report_actions, whose
    refusal (a ClientError: the service cannot be reached to find the report) is shown as a
    page of its own."""
    app, admission = desk
    client = admitted(app, admission)
    token = csrf_from_session(app, client)
    answer = client.post(
        "/reports/abc/severity", base_url=BASE, data={"level": "high", "csrf_token": token}
    )
    assert answer.status_code == 409
    assert "That did not work" in answer.text and "server is running" in answer.text


def every_kind_of_answer(app: Flask, admission: guard.Admission) -> dict[str, object]:
    stranger = app.test_client()
    answers: dict[str, object] = {
        "refused without cookie": stranger.get("/", base_url=BASE),
        "foreign host": stranger.get("/", headers={"Host": "evil.example"}),
        "wrong token": stranger.get("/open?token=nope", base_url=BASE),
    }
    client = app.test_client()
    answers["token redirect"] = client.get(f"/open?token={admission.token}", base_url=BASE)
    answers["inbox"] = client.get("/", base_url=BASE)
    answers["stylesheet"] = client.get("/static/desk.css", base_url=BASE)
    answers["not found"] = client.get("/no/such/page", base_url=BASE)
    answers["csrf refused"] = client.post("/reports/abc/reply", base_url=BASE)
    answers["client error"] = client.get("/reports/abc", base_url=BASE)
    return answers


def test_every_answer_forbids_scripts_other_origins_referrers_and_caching(desk) -> None:
    app, admission = desk
    for name, answer in every_kind_of_answer(app, admission).items():
        headers = answer.headers  # type: ignore[attr-defined]
        assert headers["Content-Security-Policy"] == CSP, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["Cache-Control"] == "no-store", name
        assert "ETag" not in headers and "Last-Modified" not in headers, name
        body = answer.get_data(as_text=True)  # type: ignore[attr-defined]
        assert "<script" not in body.lower(), name
        assert not re.search(r'(src|href|action)="(https?:)?//', body), name
        answer.close()  # type: ignore[attr-defined]


def test_the_stylesheet_ships_with_the_package() -> None:
    """setuptools takes the templates and the stylesheet into the wheel (pyproject.toml)."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["caseworker_client.desk"]
    package = root / "caseworker_client" / "desk"
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    wanted = {*package.glob("templates/**/*.html"), *package.glob("static/*")}
    assert wanted and wanted <= shipped

"""The caseworker's web login, logout, sessions and account page, on both databases."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import crypto
from crypto import passwords
from reporting.accounts import caseworkers, signin
from reporting.accounts.session import SealedSessionInterface
from reporting.infra import db
from reporting.models import ApiToken, AuditEntry, Caseworker, LoginThrottle, OrganisationRecipient
from tests.support.casework import (
    ACCOUNT,
    LOGIN,
    PASSWORD,
    Account,
    api_token,
    is_signed_in,
    login,
    make_account,
    sign_in,
)
from tests.support.portal import csrf_token

NEW_PASSWORD = "another long passphrase"


def post_account_form(
    client: FlaskClient, path: str, prefix: str, fields: dict[str, str]
) -> TestResponse:
    """Post one of the account page's forms (each has its own prefix) with the page's token."""
    page = client.get(ACCOUNT)
    token = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, page.text
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    data[f"{prefix}-csrf_token"] = token.group(1)
    return client.post(path, data=data)


def audit_rows(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_login_with_password_and_code_opens_the_account_page(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    assert not is_signed_in(client)
    response = login(client, "Alice", account.password, account.code())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/casework/")
    page = client.get(ACCOUNT)
    assert page.status_code == 200
    assert "alice" in page.text and account.organisation_name in page.text
    assert [(e.action, e.actor_id) for e in audit_rows(app)] == [("login", account.id)]


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/casework/account", "/casework/account"),
        ("/admin/", "/admin/"),
        ("//evil.example/casework", None),
        ("https://evil.example/casework", None),
        ("/casework\\@evil.example", None),
        ("/reporter-page", None),
        ("/caseworkers", None),
    ],
)
def test_login_goes_back_only_to_local_casework_pages(
    app: Flask, client: FlaskClient, next_path: str, expected: str | None
) -> None:
    account = make_account(app)
    response = login(
        client,
        account.username,
        account.password,
        account.code(),
        query="?"
        + ("next=" + next_path.replace("\\", "%5C").replace("/", "%2F").replace(":", "%3A")),
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    if expected is None:
        assert location in ("/casework/", "http://localhost/casework/")
    else:
        assert location == expected


@pytest.mark.slow
def test_wrong_password_wrong_code_and_unknown_name_get_the_same_answer(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    wrong_code = f"{(int(account.code()) + 1) % 1_000_000:06d}"
    answers = [
        login(client, account.username, "not the password at all", account.code()),
        login(client, account.username, account.password, wrong_code),
        login(client, "nobody-here", "a typed password that is secret", account.code()),
        login(client, account.username, account.password, "not a code"),
    ]
    for answer in answers:
        assert answer.status_code == 403
        assert caseworkers.LOGIN_REFUSED in answer.text
        assert "a typed password" not in answer.text and "not the password" not in answer.text
    assert not is_signed_in(client)
    entries = audit_rows(app)
    assert [e.action for e in entries] == ["login_failed"] * 4
    assert [e.actor_id for e in entries] == [account.id, account.id, None, account.id]
    for entry in entries:  # neither the typed name of no account nor any password
        text = " ".join([entry.target, entry.detail, entry.actor_id or ""])
        assert "nobody" not in text and "password" not in text


@pytest.mark.slow
def test_a_code_is_accepted_once(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    code = account.code()
    assert login(client, account.username, account.password, code).status_code == 302
    other = app.test_client()
    replay = login(other, account.username, account.password, code)
    assert replay.status_code == 403
    assert caseworkers.LOGIN_REFUSED in replay.text
    assert not is_signed_in(other)


@pytest.mark.slow
def test_a_recovery_code_works_once(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    with app.app_context(), db.database().transaction() as session:
        codes = caseworkers.new_recovery_codes(session, session.get_one(Caseworker, account.id))
    assert login(client, account.username, account.password, codes[0].upper()).status_code == 302
    other = app.test_client()
    assert login(other, account.username, account.password, codes[0]).status_code == 403
    assert login(other, account.username, account.password, codes[1]).status_code == 302


def _lock(client: FlaskClient, username: str) -> None:
    for _ in range(5):
        assert login(client, username, "wrong password here", "123456").status_code == 403


@pytest.mark.slow
@pytest.mark.parametrize("exists", [True, False])
def test_five_failures_lock_the_name_whether_or_not_it_exists(
    app: Flask, client: FlaskClient, exists: bool
) -> None:
    account = make_account(app)
    username = account.username if exists else "no-such-person"
    _lock(client, username)
    answer = login(client, username, account.password, account.code())
    assert answer.status_code == 429
    assert caseworkers.LOCKED in answer.text
    assert not is_signed_in(client)
    with app.app_context():  # the failures were committed, keyed by an HMAC of the name
        rows = db.session().scalars(select(LoginThrottle)).all()
        assert len(rows) == 1 and rows[0].locked_until is not None
        assert username not in rows[0].key


@pytest.mark.slow
def test_a_locked_name_refuses_the_right_password_until_the_lock_ends(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(app)
    _lock(client, account.username)
    assert login(client, account.username, account.password, account.code()).status_code == 429
    bob = make_account(app, "bob")  # the other names are not locked
    assert login(app.test_client(), bob.username, bob.password, bob.code()).status_code == 302
    lock = app.config["SETTINGS"].limits.login_lock_seconds
    start = time.time()
    monkeypatch.setattr(signin, "_now", lambda: start + lock - 30)
    assert login(client, account.username, account.password, account.code()).status_code == 429
    monkeypatch.setattr(signin, "_now", lambda: start + lock + 1)
    assert login(client, account.username, account.password, account.code()).status_code == 302


@pytest.mark.slow
def test_failures_spread_over_more_than_the_window_do_not_lock(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(app)
    start = time.time()
    for attempt in range(8):
        monkeypatch.setattr(signin, "_now", lambda attempt=attempt: start + attempt * 20)
        assert login(client, account.username, "wrong password", "123456").status_code == 403
    assert login(client, account.username, account.password, account.code()).status_code == 302


def test_a_session_ends_after_two_hours_even_when_active(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(app)
    assert login(client, account.username, account.password, account.code()).status_code == 302
    start = time.time()
    for minutes in (20, 40, 60, 80, 100, 119):
        monkeypatch.setattr(signin, "_now", lambda minutes=minutes: start + minutes * 60)
        assert is_signed_in(client)
    monkeypatch.setattr(signin, "_now", lambda: start + 2 * 3600 + 1)
    response = client.get(ACCOUNT)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN + "?next=")
    monkeypatch.setattr(signin, "_now", lambda: start + 60)  # the session itself was dropped
    assert not is_signed_in(client)


def test_a_session_ends_after_thirty_idle_minutes(app: Flask, client: FlaskClient) -> None:
    now = [time.time()]
    app.session_interface = SealedSessionInterface(
        app.secret_key, app.config["SETTINGS"].limits.session_idle_seconds, clock=lambda: now[0]
    )
    account = make_account(app)
    assert login(client, account.username, account.password, account.code()).status_code == 302
    now[0] += 29 * 60
    assert is_signed_in(client)
    now[0] += 31 * 60
    assert not is_signed_in(client)


def test_logout_ends_the_session_and_a_copy_of_its_cookie(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    assert login(client, account.username, account.password, account.code()).status_code == 302
    page = client.get(ACCOUNT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    cookie = client.get_cookie("session")
    assert cookie is not None
    response = client.post("/casework/logout", data={"csrf_token": token.group(1)})
    assert response.status_code == 302 and response.headers["Location"] == LOGIN
    assert not is_signed_in(client)
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    assert not is_signed_in(copy)
    assert [e.action for e in audit_rows(app)] == ["login", "logout"]


@pytest.mark.slow
def test_a_disabled_account_is_refused_and_its_session_stops(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    assert login(client, account.username, account.password, account.code()).status_code == 302
    with app.app_context(), db.database().transaction() as session:
        session.get_one(Caseworker, account.id).active = False
    assert not is_signed_in(client)
    other = app.test_client()
    answer = login(other, account.username, account.password, account.code(time.time() + 30))
    assert answer.status_code == 403 and caseworkers.LOGIN_REFUSED in answer.text


@pytest.mark.slow
def test_password_change_keeps_this_session_and_ends_the_others_and_tokens(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    assert login(client, account.username, account.password, account.code()).status_code == 302
    elsewhere = app.test_client()
    sign_in(elsewhere, account)
    token = api_token(app, account)
    assert is_signed_in(elsewhere)
    response = post_account_form(
        client,
        "/casework/account/password",
        "password",
        {"current": account.password, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "Your password is changed" in client.get(ACCOUNT).text
    assert is_signed_in(client)
    assert not is_signed_in(elsewhere)
    with app.app_context():
        assert signin.find_token(db.session(), token) is None
    assert "password_change" in [e.action for e in audit_rows(app)]
    fresh = app.test_client()
    assert (
        login(fresh, account.username, PASSWORD, account.code(time.time() + 30)).status_code == 403
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "wrong password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
         "not your current password"),
        ({"current": PASSWORD, "password": "short", "confirm": "short"}, "at least 12"),
        ({"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
         "not the same"),
    ],
)  # fmt: skip
def test_a_refused_password_change_changes_nothing(
    app: Flask, client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    account = make_account(app)
    sign_in(client, account)
    token = api_token(app, account)
    response = post_account_form(client, "/casework/account/password", "password", fields)
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert is_signed_in(client)
    with app.app_context():
        assert signin.find_token(db.session(), token) is not None
        caseworker = db.session().get_one(Caseworker, account.id)
        assert passwords.verify_password(caseworker.password_hash, PASSWORD)


def _pq_recipient() -> str:
    return str(crypto.generate_identity().recipient)


def test_registering_a_key_replaces_the_previous_one(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    sign_in(client, account)
    new_key = _pq_recipient()
    response = post_account_form(
        client, "/casework/account/key", "key", {"recipient": new_key, "current": PASSWORD}
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session().scalars(
            select(OrganisationRecipient).where(OrganisationRecipient.caseworker_id == account.id)
        )
        assert [r.recipient for r in rows] == [new_key]
    assert new_key in client.get(ACCOUNT).text
    assert "key_change" in [e.action for e in audit_rows(app)]


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("AGE-SECRET-KEY-PQ-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "secret key"),
        ("age-secret-key-1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "secret key"),
        ("not a key", "not an age public key"),
    ],
)
def test_a_secret_key_or_junk_is_refused_and_not_echoed(
    app: Flask, client: FlaskClient, recipient: str, message: str
) -> None:
    account = make_account(app)
    sign_in(client, account)
    response = post_account_form(
        client, "/casework/account/key", "key", {"recipient": recipient, "current": PASSWORD}
    )
    assert response.status_code == 400
    assert message in response.text
    assert recipient not in response.text
    with app.app_context():
        rows = db.session().scalars(
            select(OrganisationRecipient.recipient).where(
                OrganisationRecipient.caseworker_id == account.id
            )
        )
        assert list(rows) == [str(account.identity.recipient)]


def test_a_key_change_needs_the_current_password(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    sign_in(client, account)
    response = post_account_form(
        client, "/casework/account/key", "key", {"recipient": _pq_recipient(), "current": "nope"}
    )
    assert response.status_code == 400 and "not your current password" in response.text
    with app.app_context():
        assert db.session().scalar(select(LoginThrottle)) is not None  # it counts as a failure


@pytest.mark.slow
def test_new_recovery_codes_are_shown_once_and_replace_the_old(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    with app.app_context(), db.database().transaction() as session:
        old = caseworkers.new_recovery_codes(session, session.get_one(Caseworker, account.id))
    sign_in(client, account)
    response = post_account_form(
        client, "/casework/account/recovery-codes", "recovery", {"current": PASSWORD}
    )
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}(?:-[0-9a-f]{5}){3})</code>", response.text)
    assert len(codes) == caseworkers.RECOVERY_CODES
    assert codes[0] not in client.get(ACCOUNT).text
    other = app.test_client()
    assert login(other, account.username, PASSWORD, old[0]).status_code == 403
    assert login(other, account.username, PASSWORD, codes[0]).status_code == 302


def test_own_tokens_are_listed_and_can_be_revoked(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    bob = make_account(app, "bob")
    token = api_token(app, account)
    bobs = api_token(app, bob)
    sign_in(client, account)
    page = client.get(ACCOUNT)
    with app.app_context():
        session = db.session()
        mine = session.scalar(select(ApiToken).where(ApiToken.caseworker_id == account.id))
        theirs = session.scalar(select(ApiToken).where(ApiToken.caseworker_id == bob.id))
        assert mine is not None and theirs is not None
        mine_id, theirs_id = mine.id, theirs.id
    assert f"/casework/account/tokens/{mine_id}/revoke" in page.text
    assert f"/casework/account/tokens/{theirs_id}/revoke" not in page.text
    csrf = re.search(r'name="revoke-csrf_token" value="([^"]+)"', page.text)
    assert csrf
    data = {"revoke-csrf_token": csrf.group(1)}
    assert client.post(f"/casework/account/tokens/{theirs_id}/revoke", data=data).status_code == 404
    assert client.post(f"/casework/account/tokens/{mine_id}/revoke", data=data).status_code == 302
    with app.app_context():
        assert signin.find_token(db.session(), token) is None
        assert signin.find_token(db.session(), bobs) is not None
    assert f"/casework/account/tokens/{mine_id}/revoke" not in client.get(ACCOUNT).text
    assert "token_revoked" in [e.action for e in audit_rows(app)]


def test_account_pages_need_a_login(app: Flask, client: FlaskClient) -> None:
    response = client.get(ACCOUNT)
    assert response.status_code == 302
    assert response.headers["Location"] == LOGIN + "?next=/casework/account"


POSTS: list[tuple[str, dict[str, Any]]] = [
    (LOGIN, {"username": "alice", "password": PASSWORD, "code": "000000"}),
    ("/casework/logout", {}),
    ("/casework/account/password",
     {"password-current": PASSWORD, "password-password": NEW_PASSWORD,
      "password-confirm": NEW_PASSWORD}),
    ("/casework/account/key", {"key-recipient": "age1xyz", "key-current": PASSWORD}),
    ("/casework/account/recovery-codes", {"recovery-current": PASSWORD}),
    ("/casework/account/tokens/1/revoke", {}),
    ("/casework/enrol", {"code": "000000"}),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("path", "data"), POSTS)
def test_every_form_needs_the_csrf_token(
    app: Flask, client: FlaskClient, path: str, data: dict[str, Any]
) -> None:
    account = make_account(app)
    sign_in(client, account)
    api_token(app, account)
    before = audit_rows(app)
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert is_signed_in(client)
    with app.app_context():
        caseworker = db.session().get_one(Caseworker, account.id)
        assert passwords.verify_password(caseworker.password_hash, PASSWORD)
        assert db.session().scalars(select(ApiToken.revoked)).all() == [False]
    assert [e.seq for e in audit_rows(app)] == [e.seq for e in before]


def test_csrf_token_of_another_session_is_refused(app: Flask, client: FlaskClient) -> None:
    account = make_account(app)
    stranger = app.test_client()
    foreign = csrf_token(stranger, LOGIN)
    csrf_token(client, LOGIN)
    response = client.post(
        LOGIN,
        data={
            "csrf_token": foreign,
            "username": account.username,
            "password": account.password,
            "code": account.code(),
        },
    )
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_signed_in_login_page_redirects(app: Flask, client: FlaskClient) -> None:
    account: Account = make_account(app)
    sign_in(client, account)
    response = client.get(LOGIN + "?next=%2Fcasework%2Faccount")
    assert response.status_code == 302 and response.headers["Location"] == "/casework/account"

"""Accounts: invitations and TOTP enrolment on the web, the first admin made with `flask
caseworker create-admin`, and the plain functions behind them."""

from __future__ import annotations

import base64
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import totp
from crypto.tokens import token_digest
from reporting.accounts import audit, caseworkers, login_throttle, signin
from reporting.infra import db
from reporting.models import AuditEntry, Caseworker, LoginThrottle, Role
from reporting.organisations.recipients import create_organisation, find_organisation
from tests.support.casework import PASSWORD, is_signed_in, login, make_account, sign_in
from tests.support.enrolment import create_admin
from tests.support.portal import csrf_token
from tests.support.processes import ROOT, clean_environ

ORGANISATION = "Test organisation"


def invite(app: Flask, username: str = "carol", role: Role = Role.CASEWORKER) -> str:
    with app.app_context(), db.database().transaction() as session:
        organisation = find_organisation(session, ORGANISATION) or create_organisation(
            session, ORGANISATION
        )
        _caseworker, token = caseworkers.invite(session, organisation, username, role)
    return token


def set_password(client: FlaskClient, token: str, password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    path = f"/casework/invite/{token}"
    data = {
        "csrf_token": csrf_token(client, path),
        "password": password,
        "confirm": password if confirm is None else confirm,
    }
    return client.post(path, data=data)


def secret_on(page: str) -> bytes:
    found = re.search(r"<code>([A-Z2-7]{32})</code>", page)
    assert found, page
    text = found.group(1)
    return base64.b32decode(text + "=" * (-len(text) % 8))


def enrol(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/casework/enrol", data={"csrf_token": csrf_token(client, "/casework/enrol"), "code": code}
    )


def find(session: Session, username: str, organisation: str = ORGANISATION) -> Caseworker | None:
    found = find_organisation(session, organisation)
    return caseworkers.find_account(session, found.id if found else None, username)


def caseworker_row(app: Flask, username: str) -> Caseworker:
    with app.app_context():
        found = find(db.session(), username)
        assert found is not None
        return found


@pytest.mark.slow
def test_an_invitation_sets_a_password_enrols_totp_and_shows_recovery_codes(
    app: Flask, client: FlaskClient
) -> None:
    token = invite(app)
    page = client.get(f"/casework/invite/{token}")
    assert page.status_code == 200 and "carol" in page.text
    assert caseworker_row(app, "carol").invite_token_hash == token_digest(token)

    response = set_password(client, token, "a good long passphrase")
    assert response.status_code == 302 and response.headers["Location"] == "/casework/enrol"
    assert caseworker_row(app, "carol").invite_token_hash is None
    assert client.get(f"/casework/invite/{token}").status_code == 404  # spent

    page = client.get("/casework/enrol")
    assert page.status_code == 200
    secret = secret_on(page.text)
    assert "<svg" in page.text and "otpauth://totp/Casework:carol?" in page.text
    # The CSP allows no script, no inline style and no data: URI; the QR code needs none.
    assert "<script" not in page.text and "style=" not in page.text and "data:" not in page.text
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert secret_on(client.get("/casework/enrol").text) == secret  # the same on a reload

    # Password set, authenticator not confirmed: no login yet.
    other = app.test_client()
    code = totp.code_at(secret, time.time())
    assert login(other, "carol", "a good long passphrase", code).status_code == 403

    wrong = enrol(client, f"{(int(code) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 400 and "That code is not right" in wrong.text
    done = enrol(client, code)
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f-]{23})</code>", done.text)
    assert len(codes) == caseworkers.RECOVERY_CODES
    assert client.get("/casework/enrol").status_code == 404  # enrolment is over

    later = totp.code_at(secret, time.time() + 30)
    assert login(other, "carol", "a good long passphrase", later).status_code == 302
    assert is_signed_in(other)
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [(e.action, e.detail) for e in entries] == [
        ("password_change", "invitation"),
        ("login_failed", "web"),
        ("totp_change", "enrolled"),
        ("account_change", "invitation accepted"),
        ("login", "web"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "at least 12 characters"),
        ("a good long passphrase", "a good long passphrase!", "not the same"),
        ("carol's own password", "carol's own password", "must not contain the username"),
    ],
)
def test_a_refused_password_leaves_the_invitation_usable(
    app: Flask, client: FlaskClient, password: str, confirm: str, message: str
) -> None:
    token = invite(app)
    response = set_password(client, token, password, confirm)
    assert response.status_code == 400
    assert message in response.text and 'aria-invalid="true"' in response.text
    row = caseworker_row(app, "carol")
    assert row.invite_token_hash == token_digest(token) and row.password_hash == ""
    assert client.get("/casework/enrol").status_code == 404
    assert set_password(client, token, "a good long passphrase").status_code == 302


def test_an_expired_or_unknown_invitation_is_a_clear_404(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = invite(app)
    unknown = client.get("/casework/invite/" + "0" * 64)
    assert unknown.status_code == 404 and "new invitation link" in unknown.text
    lifetime = app.config["SETTINGS"].limits.invite_seconds
    start = time.time()
    monkeypatch.setattr(signin, "_now", lambda: start + lifetime - 60)
    assert client.get(f"/casework/invite/{token}").status_code == 200
    monkeypatch.setattr(signin, "_now", lambda: start + lifetime + 1)
    expired = client.get(f"/casework/invite/{token}")
    assert expired.status_code == 404 and "has expired" in expired.text
    response = client.post(
        f"/casework/invite/{token}",
        data={
            "csrf_token": csrf_token(client, "/casework/login"),
            "password": "a good long passphrase",
            "confirm": "a good long passphrase",
        },
    )
    assert response.status_code == 404
    assert caseworker_row(app, "carol").password_hash == ""


def test_enrolment_belongs_to_the_browser_that_set_the_password(
    app: Flask, client: FlaskClient
) -> None:
    token = invite(app)
    assert set_password(client, token, "a good long passphrase").status_code == 302
    assert app.test_client().get("/casework/enrol").status_code == 404
    assert client.get("/casework/enrol").status_code == 200


@pytest.mark.slow
def test_a_new_invitation_starts_over_and_ends_what_the_account_had(
    app: Flask, client: FlaskClient
) -> None:
    account = make_account(app)
    sign_in(client, account)
    with app.app_context(), db.database().transaction() as session:
        token = caseworkers.renew_invite(session, session.get_one(Caseworker, account.id))
    assert not is_signed_in(client)
    other = app.test_client()
    assert login(other, account.username, PASSWORD, account.code()).status_code == 403
    assert set_password(other, token, "a brand new passphrase").status_code == 302
    secret = secret_on(other.get("/casework/enrol").text)
    assert secret != account.totp_secret
    assert enrol(other, totp.code_at(secret, time.time())).status_code == 200


def test_a_disabled_account_cannot_use_its_invitation(app: Flask, client: FlaskClient) -> None:
    token = invite(app)
    with app.app_context(), db.database().transaction() as session:
        found = find(session, "carol")
        assert found is not None
        found.active = False
    assert client.get(f"/casework/invite/{token}").status_code == 404


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("alice", True),
        ("Alice.Smith-2_x", True),
        ("", False),
        ("a" * 65, False),
        ("alice smith", False),
        ("\u0430lice", False),  # a Cyrillic letter that looks like the Latin "a"
        ("alice@example.org", False),
    ],
)
def test_usernames(username: str, ok: bool) -> None:
    if ok:
        assert caseworkers.check_username(username) == username.lower()
    else:
        with pytest.raises(caseworkers.AccountError):
            caseworkers.check_username(username)


def test_stale_throttle_counters_are_forgotten(app: Flask) -> None:
    now = signin.utcnow()
    limits = app.config["SETTINGS"].limits
    with app.app_context():
        for key in ("first", "second"):
            assert login_throttle.admit(key, now, limits)
        assert login_throttle.admit("third", now + timedelta(seconds=61), limits)
        assert len(db.session().scalars(select(LoginThrottle)).all()) == 1


# `flask caseworker create-admin`: a real process, as an operator would run it.


@pytest.mark.slow
def test_create_admin_enrols_at_the_terminal(
    app: Flask, runner: FlaskCliRunner, database_url: str, tmp_path: Path
) -> None:
    assert runner.invoke(args=["org", "create", ORGANISATION]).exit_code == 0
    environ = clean_environ(
        REPORTING_INSTANCE_PATH=str(tmp_path / "instance"), REPORTING_DATABASE_URL=database_url
    )
    command = [sys.executable, "-m", "flask", "--app", "reporting", "caseworker", "create-admin"]
    secret, shown, rest = create_admin(
        [*command, ORGANISATION, "root-admin", "--password-stdin"],
        "the admin's passphrase",
        environ,
        ROOT,
    )
    assert "otpauth://totp/Casework:root-admin?" in shown
    assert "\u2588" in shown or "\u2580" in shown  # the QR code, in block characters
    codes = re.findall(r"^  ([0-9a-f]{5}(?:-[0-9a-f]{5}){3})$", rest, re.MULTILINE)
    assert len(codes) == caseworkers.RECOVERY_CODES
    assert "the admin's passphrase" not in shown + rest

    row = caseworker_row(app, "root-admin")
    assert row.role is Role.ADMIN and row.totp_confirmed and row.active
    client = app.test_client()
    later = totp.code_at(secret, time.time() + 30)
    assert login(client, "root-admin", "the admin's passphrase", later).status_code == 302
    other = app.test_client()
    assert login(other, "root-admin", "the admin's passphrase", codes[0]).status_code == 302
    with app.app_context():  # its audit entries link into the same chain as the app's
        assert audit.verify(db.session(), audit.chain()).ok


def test_create_admin_with_hidden_prompts_refuses_wrong_codes(
    app: Flask, runner: FlaskCliRunner
) -> None:
    runner.invoke(args=["org", "create", ORGANISATION])
    result = runner.invoke(
        args=["caseworker", "create-admin", ORGANISATION, "boss"],
        input="a fine passphrase\na fine passphrase\nabcdef\n12\n\n",
    )
    assert result.exit_code == 1
    assert "Password again" in result.output
    assert result.output.count("That code is not right") == 3
    assert "no code matched, so nothing was created" in result.output
    assert "a fine passphrase" not in result.output
    with app.app_context():
        assert find(db.session(), "boss") is None
        assert db.session().scalar(select(AuditEntry)) is None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["No such org", "boss"], "a fine passphrase\n", "flask org create"),
        ([ORGANISATION, "bad name!"], "a fine passphrase\n", "A username is 1 to 64"),
        ([ORGANISATION, "alice"], "a fine passphrase\n", "is taken"),
        ([ORGANISATION, "boss"], "short\n", "at least 12 characters. Nothing was created."),
    ],
)
def test_create_admin_errors_say_what_to_do(
    app: Flask, runner: FlaskCliRunner, args: list[str], stdin: str, message: str
) -> None:
    make_account(app, "alice", ORGANISATION)
    result = runner.invoke(
        args=["caseworker", "create-admin", *args, "--password-stdin"], input=stdin
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Secret:" not in result.output
    with app.app_context():
        assert find(db.session(), "boss") is None


def test_caseworker_list(app: Flask, runner: FlaskCliRunner) -> None:
    make_account(app, "alice", ORGANISATION, role=Role.ADMIN)
    make_account(app, "bob", ORGANISATION, with_key=False)
    invite(app, "carol")
    result = runner.invoke(args=["caseworker", "list", ORGANISATION])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.match(r"alice\s+admin\s+active\s+key registered", lines[0])
    assert re.match(r"bob\s+caseworker\s+active\s+no key", lines[1])
    assert re.match(r"carol\s+caseworker\s+invited\s+no key", lines[2])
    missing = runner.invoke(args=["caseworker", "list", "Nobody"])
    assert missing.exit_code == 1 and "flask org create" in missing.output

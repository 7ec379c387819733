"""Usernames are unique per organisation, not across the service: an admin learns nothing
about the names of another organisation, and a login names its organisation (which may be
left out while the service hosts only one)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from caseworker_client.cli import main as client_main
from reporting.accounts import caseworkers
from reporting.infra import db, migrate
from reporting.models import Caseworker, Role
from tests.support.admin import ORG, OTHER, admin_app, errors_shown, post, signed_in
from tests.support.casework import Account, make_account
from tests.support.portal import csrf_token
from tests.support.processes import free_port

LOGIN = "/casework/login"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return admin_app(tmp_path, database_url)


def web_login(client: FlaskClient, account: Account, organisation: str) -> tuple[int, str]:
    fields = {
        "csrf_token": csrf_token(client, LOGIN),
        "organisation": organisation,
        "username": account.username,
        "password": account.password,
        "code": account.code(),
    }
    response = client.post(LOGIN, data=fields)
    return response.status_code, response.text


def signed_in_as(client: FlaskClient) -> str:
    page = client.get("/casework/account")
    assert page.status_code == 200
    return page.text


def test_an_admin_learns_nothing_of_another_organisations_names(app: Flask) -> None:
    make_account(app, "alice", OTHER)
    admin = make_account(app, "boss", ORG, Role.ADMIN, with_key=False)
    response = post(
        signed_in(app, admin), "/admin/caseworkers", {"username": "alice", "role": "caseworker"}
    )
    assert response.status_code == 200, errors_shown(response.text)
    assert "is taken" not in response.text
    with app.app_context():
        names = db.session().scalars(select(Caseworker.username).order_by(Caseworker.username))
        assert list(names) == ["alice", "alice", "boss"]
    # Within one organisation a name is still taken.
    again = post(
        signed_in(app, admin), "/admin/caseworkers", {"username": "alice", "role": "caseworker"}
    )
    assert again.status_code == 400 and "is taken" in errors_shown(again.text)


@pytest.mark.slow
def test_the_login_names_the_organisation(app: Flask) -> None:
    ours = make_account(app, "alice", ORG)
    theirs = make_account(app, "alice", OTHER, password="their own long passphrase")

    client = app.test_client()
    assert web_login(client, ours, " test ORGANISATION ")[0] == 302
    assert ORG in signed_in_as(client)
    client = app.test_client()
    assert web_login(client, theirs, OTHER)[0] == 302
    assert OTHER in signed_in_as(client)

    # Our password in their organisation, or an organisation that does not exist: the
    # same refusal as any wrong password.
    for organisation in (OTHER, "No such organisation"):
        status, page = web_login(app.test_client(), ours, organisation)
        assert status == 403 and caseworkers.LOGIN_REFUSED in page
    # Several organisations, none named: the page says to name it.
    status, page = web_login(app.test_client(), ours, "")
    assert status == 403 and caseworkers.ORGANISATION_NEEDED in page


def test_the_api_login_names_the_organisation(app: Flask) -> None:
    ours = make_account(app, "alice", ORG)
    make_account(app, "alice", OTHER)
    client = app.test_client()
    body = {"username": "alice", "password": ours.password, "code": ours.code()}
    refused = client.post("/api/v1/login", json=body)
    assert refused.status_code == 401
    assert refused.get_json()["message"] == caseworkers.ORGANISATION_NEEDED
    answer = client.post("/api/v1/login", json={**body, "organisation": ORG})
    assert answer.status_code == 200
    assert answer.get_json()["caseworker"]["organisation"]["name"] == ORG


@pytest.mark.slow
def test_a_lock_holds_one_name_of_one_organisation(app: Flask) -> None:
    ours = make_account(app, "alice", ORG)
    theirs = make_account(app, "alice", OTHER)
    wrong = Account(**{**ours.__dict__, "password": "not the passphrase"})
    limit = app.config["SETTINGS"].limits.login_failures
    for _ in range(limit):
        assert web_login(app.test_client(), wrong, ORG)[0] == 403
    assert web_login(app.test_client(), ours, ORG)[0] == 429
    assert web_login(app.test_client(), theirs, OTHER)[0] == 302


def test_the_migration_keeps_accounts_and_frees_names_per_organisation(
    tmp_path: Path, database_url: str
) -> None:
    migrate.upgrade(database_url, "0004")
    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        for org in ("o1", "o2"):
            connection.execute(
                text(
                    "INSERT INTO organisation (id, name, created_on, retention_days, "
                    "notify_email, notification_due) VALUES (:id, :id, '2026-01-01', 90, '', false)"
                ),
                {"id": org},
            )
        insert = text(
            "INSERT INTO caseworker (id, organisation_id, username, display_name, role, "
            "password_hash, totp_secret_sealed, totp_confirmed, totp_last_step, active, "
            "auth_epoch, created_on) VALUES (:id, :org, 'alice', '', 'caseworker', '', '', "
            "false, 0, true, 0, '2026-01-01')"
        )
        connection.execute(insert, {"id": "c1", "org": "o1"})
    migrate.upgrade(database_url)
    with engine.begin() as connection:
        connection.execute(insert, {"id": "c2", "org": "o2"})
        rows = connection.execute(text("SELECT id FROM caseworker ORDER BY id")).scalars()
        assert list(rows) == ["c1", "c2"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"id": "c3", "org": "o2"})
    engine.dispose()


@pytest.mark.slow
def test_the_client_logs_in_naming_the_organisation(app: Flask, tmp_path: Path) -> None:
    ours = make_account(app, "alice", ORG)
    make_account(app, "alice", OTHER)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        env = {"REPORTING_CASEWORKER_HOME": str(tmp_path / "home")}
        runner = CliRunner()
        login = ["login", url, "--username", "alice"]
        refused = runner.invoke(
            client_main, login, input=f"{ours.password}\n{ours.code()}\n", env=env
        )
        assert refused.exit_code != 0 and caseworkers.ORGANISATION_NEEDED in refused.output
        done = runner.invoke(
            client_main,
            [*login, "--organisation", ORG],
            input=f"{ours.password}\n{ours.code()}\n",
            env=env,
        )
        assert done.exit_code == 0, done.output
        assert "Logged in" in done.output
    finally:
        server.shutdown()
        thread.join()

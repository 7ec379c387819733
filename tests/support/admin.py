"""The admin pages as tests drive them: an app with its people, signed-in clients, form posts,
and the audit entries they leave."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from reporting import create_app
from reporting.infra import db
from reporting.models import (
    AuditEntry,
    Role,
)
from tests.support import casework, databases
from tests.support.casework import Account, make_account
from tests.support.portal import csrf_token

ORG = "Test organisation"


OTHER = "Other organisation"


def admin_app(tmp_path: Path, database_url: str, **config: Any) -> Flask:
    """Reports are filed with ORG (there are two organisations); no broker, so queueing
    after a retry fails fast and the rows are what count."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "ORGANISATION": ORG,
            "REDIS_URL": "redis://127.0.0.1:9/0",
            **config,
        }
    )
    databases.migrate_fresh(database_url)
    return app


@dataclass
class People:
    admin: Account  # ORG's admin, without a key of their own
    alice: Account  # ORG's caseworker, with a key
    other: Account  # OTHER's admin


def make_people(app: Flask) -> People:
    return People(
        make_account(app, "boss", ORG, Role.ADMIN, with_key=False),
        make_account(app, "alice", ORG),
        make_account(app, "other", OTHER, Role.ADMIN),
    )


def signed_in(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    casework.sign_in(client, account)
    return client


def post(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, prefix: str = ""
) -> TestResponse:
    """POST a form with the session's CSRF token (under the form's prefix, if it has one)."""
    token = csrf_token(client, "/casework/account")
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(path, data={name: token, **(data or {})})


def errors_shown(page: str) -> str:
    """The page's error summary and the messages tied to fields (not their help texts)."""
    blocks = re.findall(r'role="alert".*?</div>|<ul class="errors".*?</ul>', page, re.S)
    return " ".join(re.sub(r"\s+", " ", block) for block in blocks)


def audit_details(app: Flask, action: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session().scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(row.target, row.detail) for row in rows]


def audit_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(AuditEntry)) or 0)

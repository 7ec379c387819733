"""Logging in and out, who the caseworker is, their key, and their organisation."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from sqlalchemy import select

from reporting.accounts import caseworkers, logins
from reporting.accounts.audit import Action, record
from reporting.accounts.caseworker_keys import register_recipient
from reporting.accounts.signin import (
    api_caseworker,
    api_token,
    find_token,
    issue_token,
    token_ends_at,
    token_required,
)
from reporting.accounts.signin import utcnow as now
from reporting.casework.api import bp
from reporting.casework.api.bodies import json_object, string_field
from reporting.casework.api.errors import fail
from reporting.casework.api.shapes import caseworker_json
from reporting.infra import db
from reporting.models import Caseworker, DeliveryChannel, Partner, TriageTag
from reporting.organisations.recipients import KeyRefused, recipients_of

TOKEN_LABEL = "reporting-caseworker"  # noqa: S105  (a label, not a secret)


def _utc(moment: Any) -> str:
    return f"{moment.replace(microsecond=0).isoformat()}Z"


@bp.post("/login")
def login() -> Any:
    body = json_object()
    credentials = logins.Credentials(
        organisation=string_field(body, "organisation", 200) if "organisation" in body else "",
        username=string_field(body, "username", 200),
        password=string_field(body, "password", 1024),
        code=string_field(body, "code", 100),
    )
    refusal = None
    with db.database().transaction() as dbs:
        try:
            caseworker = logins.attempt_login(dbs, credentials, now(), via="api")
        except caseworkers.AccountError as error:
            refusal = str(error)  # the failure is counted and audited, then committed
        else:
            token = issue_token(dbs, caseworker, TOKEN_LABEL)
            row = find_token(dbs, token)
            assert row is not None
            record(dbs, Action.TOKEN_ISSUED, actor=caseworker, target=str(row.id), detail="api")
            answer = {
                "token": token,
                "expires_at": _utc(row.expires_at),  # moves forward with use, up to ends_at
                "ends_at": _utc(token_ends_at(row)),
                "idle_seconds": current_app.config["SETTINGS"].limits.session_idle_seconds,
                "caseworker": caseworker_json(dbs, caseworker),
            }
    if refusal == caseworkers.LOCKED:
        fail(429, "locked", refusal)
    if refusal is not None:
        fail(401, "login_failed", refusal)
    return jsonify(answer)


@bp.post("/logout")
@token_required
def logout() -> Any:
    dbs = db.session()
    token = api_token()
    token.revoked = True
    record(dbs, Action.LOGOUT, actor=api_caseworker(), target=str(token.id), detail="api")
    dbs.commit()
    return jsonify(logged_out=True)


@bp.get("/me")
@token_required
def me() -> Any:
    return jsonify(caseworker_json(db.session(), api_caseworker()))


@bp.put("/me/recipient")
@token_required
def set_recipient() -> Any:
    text = string_field(json_object(), "recipient", 4096)
    dbs = db.session()
    caseworker = api_caseworker()
    try:
        register_recipient(dbs, caseworker, text)
    except KeyRefused as refused:
        dbs.rollback()
        if refused.conflict:
            fail(409, "conflict", refused.message)
        fail(400, "bad_request", refused.message, fields=["recipient"])
    dbs.commit()
    return jsonify(caseworker_json(dbs, caseworker))


@bp.get("/organisation")
@token_required
def organisation() -> Any:
    dbs = db.session()
    caseworker = api_caseworker()
    org = caseworker.organisation
    tags = dbs.scalars(
        select(TriageTag.name).where(TriageTag.organisation_id == org.id).order_by(TriageTag.name)
    )
    colleagues = dbs.scalars(
        select(Caseworker)
        .where(Caseworker.organisation_id == org.id, Caseworker.active.is_(True))
        .order_by(Caseworker.username)
    )
    partners = dbs.scalars(
        select(Partner).where(Partner.organisation_id == org.id).order_by(Partner.name)
    )
    reachable = set(
        dbs.scalars(
            select(DeliveryChannel.partner_id).where(
                DeliveryChannel.organisation_id == org.id,
                DeliveryChannel.partner_id.is_not(None),
                DeliveryChannel.enabled.is_(True),
            )
        )
    )
    return jsonify(
        id=org.id,
        name=org.name,
        recipients=[str(r) for r in recipients_of(org)],
        tags=list(tags),
        caseworkers=[
            {"id": c.id, "username": c.username, "display_name": c.display_name} for c in colleagues
        ],
        partners=[
            {
                "id": p.id,
                "name": p.name,
                "recipients": p.recipient_list,
                "deliverable": p.id in reachable,
            }
            for p in partners
        ],
    )

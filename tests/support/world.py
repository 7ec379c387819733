"""A world for tests that walk every route: two organisations, a report, and one of every
row a URL can name (tests/app/test_authorisation.py, tests/app/test_fuzz_input.py).

Routes are read from the app's URL map, so a new route is covered the day it is added; a
route whose URL needs an argument the world cannot fill fails until one is added to its ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

import crypto
from crypto import webhooks
from reporting.infra import db
from reporting.infra.db import Base
from reporting.models import (
    ApiToken,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    OrganisationRecipient,
    Partner,
    Report,
    Role,
    TriageTag,
)
from tests.support.casework import Account, api_token, make_account
from tests.support.portal import submit_report


@dataclass
class World:
    """Organisation A (an admin, a caseworker, a report and everything around it) and
    organisation B, whose admin must not reach any of A's things."""

    ada: Account  # A's admin
    bob: Account  # A's caseworker
    mallory: Account  # B's admin
    ids: dict[str, str]


def _first_report(app: Flask) -> tuple[str, str]:
    with app.app_context():
        report = db.session().scalars(select(Report)).one()
        return report.id, report.messages[0].document_blob_id


def build_world(app: Flask, client: FlaskClient) -> World:
    """Make the world: two organisations, a report of A's with consent to share, and
    one of every row a URL can name, with their ids."""
    ada = make_account(app, "ada", "Org A", Role.ADMIN)
    bob = make_account(app, "bob", "Org A")
    assert submit_report(client, consent="full").status_code == 200
    report_id, blob_id = _first_report(app)
    mallory = make_account(app, "mallory", "Org B", Role.ADMIN)
    with app.app_context(), db.database().transaction() as session:
        tag = TriageTag(organisation_id=ada.organisation_id, name="family")
        partner = Partner(organisation_id=ada.organisation_id, name="Legal aid", recipients="")
        session.add_all([tag, partner])
        session.flush()
        own = DeliveryChannel(
            organisation_id=ada.organisation_id,
            kind=ChannelKind.WEBHOOK,
            target="https://ngo.example/hook",
            secret=webhooks.new_secret(),
        )
        partners = DeliveryChannel(
            organisation_id=ada.organisation_id,
            kind=ChannelKind.EMAIL,
            target="intake@partner.example",
            partner_id=partner.id,
        )
        key = OrganisationRecipient(
            organisation_id=ada.organisation_id,
            recipient=str(crypto.generate_identity().recipient),
            label="escrow",
        )
        session.add_all([own, partners, key])
        session.flush()
        message = session.scalars(select(Message).where(Message.report_id == report_id)).one()
        dead = Delivery(
            channel_id=own.id,
            report_id=report_id,
            message_id=message.id,
            blob_id=blob_id,
            state=DeliveryState.DEAD,
            attempts=10,
        )
        session.add(dead)
        session.flush()
        ids = {
            "report_id": report_id,
            "blob_id": blob_id,
            "caseworker_id": bob.id,
            "channel_id": str(own.id),
            "delivery_id": dead.id,
            "key_id": str(key.id),
            "partner_id": str(partner.id),
            "tag_id": str(tag.id),
        }
    bob_token = api_token(app, bob)
    with app.app_context():
        ids["token_id"] = str(
            db.session().scalar(
                select(ApiToken.id).where(ApiToken.token_hash == _digest(bob_token))
            )
        )
    ids["token"] = "not-a-real-invitation-token"
    return World(ada, bob, mallory, ids)


def _digest(token: str) -> str:
    from crypto.tokens import token_digest

    return token_digest(token)


def routes(app: Flask, prefixes: tuple[str, ...]) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) of the endpoints under `prefixes`, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.endpoint.startswith(prefixes):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def fill_url(rule: Rule, ids: dict[str, str]) -> str:
    """The rule's path with each argument taken from `ids`."""
    missing = [name for name in rule.arguments if name not in ids]
    assert not missing, f"{rule.endpoint}: add {missing} to the world fixture's ids"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", ids[name]).replace(f"<int:{name}>", ids[name])
    return path


def snapshot(app: Flask, volatile: Collection[str]) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every row of every table but the `volatile` ones, to compare before and after
    (read through the driver: converting each value to its Python type is slow; and on
    PostgreSQL in one query, since each round trip costs more than the reading)."""
    names = [t.name for t in Base.metadata.sorted_tables if t.name not in volatile]
    state: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in names}
    with app.app_context(), db.database().engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        if connection.dialect.name == "postgresql":
            union = " UNION ALL ".join(
                f"SELECT '{name}', row_to_json(t)::text FROM {quote(name)} t" for name in names
            )
            for name, row in connection.exec_driver_sql(union):
                state[name][(row,)] += 1
            return state
        for name in names:
            state[name].update(
                map(tuple, connection.exec_driver_sql(f"SELECT * FROM {quote(name)}"))
            )
    return state

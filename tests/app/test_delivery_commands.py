"""The operator's `flask` commands for delivery channels, notices, retention and the outbox.

What matters: a webhook takes the secret the NGO's receiver made (from a file, or pasted at
a hidden prompt) and never makes or prints one, with the admin page's checks (the same
function makes the channel); bad input (a URL that is not http(s) or leads to a private
address, a secret file without a strong secret, something that is not an e-mail address, a
retention of 0 days, an unknown organisation) is refused with a message that says what to
do, and changes nothing; `deliveries list` shows states and reasons, never content;
`deliveries retry` brings dead deliveries back to pending.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from crypto.webhooks import new_secret
from reporting import create_app
from reporting.infra import db
from reporting.models import (
    AuditEntry,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Organisation,
)
from reporting.organisations.recipients import find_organisation
from tests.support import databases
from tests.support.portal import Caseworker, add_caseworker, submit_report

ORG = "Test organisation"  # add_caseworker's
CANARY = "canary-cli-8c41d2"
# A literal public address: adding a webhook resolves its host, and tests have no DNS.
PUBLIC = "https://9.9.9.9"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            # No broker: `deliveries retry` queues and fails fast; the rows are what count.
            "REDIS_URL": "redis://127.0.0.1:9/0",
        }
    )
    databases.migrate_fresh(database_url)
    return app


@pytest.fixture
def organisation(app: Flask) -> Caseworker:
    return add_caseworker(app, ORG)


def _channels(app: Flask) -> list[DeliveryChannel]:
    with app.app_context(), db.database().transaction() as session:
        return list(session.scalars(select(DeliveryChannel).order_by(DeliveryChannel.id)))


def _organisation(app: Flask) -> Organisation:
    with app.app_context(), db.database().transaction() as session:
        found = find_organisation(session, ORG)
        assert found is not None
        return found


def _deliveries(app: Flask) -> dict[str, Delivery]:
    with app.app_context(), db.database().transaction() as session:
        return {d.id: d for d in session.scalars(select(Delivery))}


def _fails(result: Any, *phrases: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for phrase in phrases:
        assert phrase in result.output


# Channels


def test_add_webhook_takes_the_receivers_secret_file(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, tmp_path: Path
) -> None:
    secret = new_secret()
    path = tmp_path / "secret"
    path.write_text(secret + "\n")
    args = ["org", "add-webhook", ORG, f"{PUBLIC}/in", "--secret-file", str(path)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert secret not in result.output and "whsec_" not in result.output
    [channel] = _channels(app)
    assert (channel.kind, channel.target, channel.secret) == (
        ChannelKind.WEBHOOK,
        f"{PUBLIC}/in",
        secret,
    )
    assert channel.organisation_id == _organisation(app).id and channel.enabled
    # Audited as the admin page's channels are, as an operator's change.
    with app.app_context():
        [entry] = db.session().scalars(select(AuditEntry)).all()
    assert (entry.target, entry.detail) == (f"channel:{channel.id}", "webhook added by operator")
    assert entry.actor_id is None and entry.organisation_id == channel.organisation_id


def test_add_webhook_reads_a_pasted_secret_and_never_makes_one(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker
) -> None:
    secret = new_secret()
    result = runner.invoke(args=["org", "add-webhook", ORG, f"{PUBLIC}/in"], input=secret + "\n")
    assert result.exit_code == 0, result.output
    assert "whsec_" not in result.output
    [channel] = _channels(app)
    assert channel.secret == secret
    nothing = runner.invoke(args=["org", "add-webhook", ORG, f"{PUBLIC}/other"], input="")
    _fails(nothing, "whsec_", "reporting-ngo-receiver --new-secret")
    assert len(_channels(app)) == 1


@pytest.mark.parametrize(
    "url", ["ftp://receiver.ngo.example/", "receiver.ngo.example", "javascript:alert(1)", ""]
)
def test_add_webhook_refuses_a_url_that_is_not_http(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, url: str
) -> None:
    result = runner.invoke(args=["org", "add-webhook", ORG, url], input=new_secret() + "\n")
    _fails(result, "must start with https://")
    assert "whsec_" not in result.output
    assert _channels(app) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.7", "[::1]"])
def test_add_webhook_refuses_a_private_address_naming_the_setting(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, host: str
) -> None:
    result = runner.invoke(
        args=["org", "add-webhook", ORG, f"http://{host}:8080/"], input=new_secret() + "\n"
    )
    _fails(result, "private", "REPORTING_WEBHOOK_ALLOWED_NETWORKS")
    assert _channels(app) == []


@pytest.mark.parametrize(
    "content",
    ["not a secret at all", "whsec_c2hvcnQ=", "", new_secret().removeprefix("whsec_")],
    ids=["words", "too-short", "empty", "no-prefix"],  # the last is random
)
def test_add_webhook_refuses_a_bad_secret_file(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "secret"
    path.write_text(content)
    args = ["org", "add-webhook", ORG, f"{PUBLIC}/in", "--secret-file", str(path)]
    _fails(runner.invoke(args=args), "whsec_", "reporting-ngo-receiver")
    assert _channels(app) == []


def test_add_webhook_refuses_a_missing_secret_file(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, tmp_path: Path
) -> None:
    args = ["org", "add-webhook", ORG, f"{PUBLIC}/in"]
    _fails(
        runner.invoke(args=[*args, "--secret-file", str(tmp_path / "nope")]),
        "does not exist",
        code=2,
    )
    _fails(runner.invoke(args=[*args, "--secret-file", str(tmp_path)]), "is a directory", code=2)
    assert _channels(app) == []


def test_add_webhook_refuses_a_binary_secret_file(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, tmp_path: Path
) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"\xff\xfe\x00binary")
    args = ["org", "add-webhook", ORG, f"{PUBLIC}/in", "--secret-file", str(path)]
    _fails(runner.invoke(args=args), "reporting-ngo-receiver")
    assert _channels(app) == []


def test_add_email(runner: FlaskCliRunner, app: Flask, organisation: Caseworker) -> None:
    # Surrounding white space (a pasted line end) is trimmed, as on the admin page.
    result = runner.invoke(args=["org", "add-email", ORG, " triage@ngo.example\n"])
    assert result.exit_code == 0, result.output
    assert "triage@ngo.example" in result.output
    [channel] = _channels(app)
    assert (channel.kind, channel.target, channel.secret) == (
        ChannelKind.EMAIL,
        "triage@ngo.example",
        "",
    )


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "two words@ngo.example",
        "Triage <triage@ngo.example>",
        "triage@ngo.example\r\nBcc: spy@evil.example",
        "triage@ngo.example\nBcc: spy@evil.example",
    ],
)
def test_add_email_refuses_a_non_address(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, address: str
) -> None:
    _fails(runner.invoke(args=["org", "add-email", ORG, address]), "address")
    assert _channels(app) == []


@pytest.mark.parametrize(
    "address",
    ["triage@", "@ngo.example", "triage@localhost", "a<b>@ngo.example", "a,b@ngo.example"],
)
def test_add_email_refuses_what_the_channel_would_refuse(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, address: str
) -> None:
    _fails(runner.invoke(args=["org", "add-email", ORG, address]), "address")
    assert _channels(app) == []


# Notices and retention


def test_notify_sets_and_clears_the_address(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker
) -> None:
    result = runner.invoke(args=["org", "notify", ORG, "alerts@ngo.example"])
    assert result.exit_code == 0, result.output
    assert "alerts@ngo.example" in result.output
    assert _organisation(app).notify_email == "alerts@ngo.example"
    result = runner.invoke(args=["org", "notify", ORG])
    assert result.exit_code == 0, result.output
    assert "off" in result.output
    assert _organisation(app).notify_email == ""


@pytest.mark.parametrize("address", ["not an address", "alerts@ngo.example\r\nBcc: x@evil.example"])
def test_notify_refuses_a_non_address(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, address: str
) -> None:
    _fails(runner.invoke(args=["org", "notify", ORG, address]), "address")
    assert _organisation(app).notify_email == ""


def test_retention(runner: FlaskCliRunner, app: Flask, organisation: Caseworker) -> None:
    assert _organisation(app).retention_days == 90  # the default
    result = runner.invoke(args=["org", "retention", ORG, "30"])
    assert result.exit_code == 0, result.output
    assert "30 days" in result.output
    assert _organisation(app).retention_days == 30
    for bad in ("0", "-5", "soon", "3651"):
        _fails(runner.invoke(args=["org", "retention", ORG, bad]), "DAYS", code=2)
    assert _organisation(app).retention_days == 30


def test_deletion_delay_and_maximum_age(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker
) -> None:
    assert (_organisation(app).deletion_delay_days, _organisation(app).max_report_age_days) == (
        7,
        365,
    )  # the defaults
    result = runner.invoke(args=["org", "deletion-delay", ORG, "14"])
    assert result.exit_code == 0, result.output
    assert "14 days" in result.output
    result = runner.invoke(args=["org", "max-age", ORG, "180"])
    assert result.exit_code == 0, result.output
    assert "180 days" in result.output
    for bad in ("-1", "91", "soon"):
        _fails(runner.invoke(args=["org", "deletion-delay", ORG, bad]), "DAYS", code=2)
    for bad in ("0", "3651", "soon"):
        _fails(runner.invoke(args=["org", "max-age", ORG, bad]), "DAYS", code=2)
    _fails(runner.invoke(args=["org", "max-age", "Nobody", "30"]), "Nobody")
    organisation_row = _organisation(app)
    assert (organisation_row.deletion_delay_days, organisation_row.max_report_age_days) == (14, 180)
    with app.app_context():
        details = [
            e.detail for e in db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
    assert details == [
        "deletion_delay_days=14 by operator",
        "max_report_age_days=180 by operator",
    ]


def test_notices_and_retention_are_audited_as_the_admin_page_does(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker
) -> None:
    """The commands change settings through the admin page's function, so an operator's
    change leaves the same content-free entry (no address), marked as the operator's."""
    assert runner.invoke(args=["org", "retention", ORG, "30"]).exit_code == 0
    assert runner.invoke(args=["org", "notify", ORG, "alerts@ngo.example"]).exit_code == 0
    assert runner.invoke(args=["org", "retention", ORG, "30"]).exit_code == 0  # no change
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        details = [(e.action, e.actor_id, e.detail) for e in entries]
    assert details == [
        ("organisation_change", None, "retention_days=30 by operator"),
        ("organisation_change", None, "notify=on by operator"),
    ]
    assert all(e.organisation_id == _organisation(app).id for e in entries)


@pytest.mark.parametrize(
    "args",
    [
        ["org", "add-webhook", "Nobody", "https://r.ngo.example/"],
        ["org", "add-email", "Nobody", "triage@ngo.example"],
        ["org", "notify", "Nobody", "alerts@ngo.example"],
        ["org", "notify", "Nobody"],
        ["org", "retention", "Nobody", "30"],
    ],
    ids=["add-webhook", "add-email", "notify", "notify-off", "retention"],
)
def test_an_unknown_organisation_is_refused_helpfully(
    runner: FlaskCliRunner, app: Flask, organisation: Caseworker, args: list[str]
) -> None:
    result = runner.invoke(args=args)
    _fails(result, "no organisation named 'Nobody'", "flask org list")
    assert "whsec_" not in result.output  # no secret shown for a channel never made
    assert _channels(app) == []
    assert _organisation(app).notify_email == ""
    assert _organisation(app).retention_days == 90


# The outbox


@pytest.fixture
def outbox(app: Flask, organisation: Caseworker) -> dict[str, str]:
    """Four deliveries (four reports to one webhook): pending, delivered and two dead."""
    with app.app_context(), db.database().transaction() as session:
        session.add(
            DeliveryChannel(
                organisation=find_organisation(session, ORG),
                kind=ChannelKind.WEBHOOK,
                target="https://r.ngo.example/",
                secret=new_secret(),
            )
        )
    for _ in range(4):
        response = submit_report(app.test_client(), narrative=f"{CANARY} " * 8, city=CANARY)
        assert response.status_code == 200
    ids = sorted(_deliveries(app))
    names = dict(zip(["pending", "delivered", "dead-1", "dead-2"], ids, strict=True))
    with app.app_context(), db.database().transaction() as session:
        delivered = session.get_one(Delivery, names["delivered"])
        delivered.state, delivered.attempts = DeliveryState.DELIVERED, 1
        for name, error in (("dead-1", "HTTP 500"), ("dead-2", "address 10.1.2.3 is private")):
            dead = session.get_one(Delivery, names[name])
            dead.state, dead.attempts, dead.last_error = DeliveryState.DEAD, 3, error
    return names


def _counts(output: str) -> dict[str, int]:
    first = output.splitlines()[0]
    return {state: int(n) for state, n in re.findall(r"(\w+): (\d+)", first)}


def test_list_with_no_deliveries(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["deliveries", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no deliveries"


@pytest.mark.slow
def test_list_counts_by_state_and_shows_dead_ones_without_content(
    runner: FlaskCliRunner, outbox: dict[str, str]
) -> None:
    result = runner.invoke(args=["deliveries", "list"])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == {"pending": 1, "delivered": 1, "dead": 2}
    # Without --state the dead ones are listed too: they are what an operator must see.
    assert outbox["dead-1"] in result.output and outbox["dead-2"] in result.output
    pending = runner.invoke(args=["deliveries", "list", "--state", "pending"]).output
    assert outbox["pending"] in pending and outbox["dead-1"] not in pending

    result = runner.invoke(args=["deliveries", "list", "--state", "dead"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:]
    assert len(lines) == 2
    dead_1 = next(line for line in lines if line.startswith(outbox["dead-1"]))
    dead_2 = next(line for line in lines if line.startswith(outbox["dead-2"]))
    assert "webhook" in dead_1 and "attempts 3" in dead_1 and dead_1.endswith("HTTP 500")
    assert dead_2.endswith("address 10.1.2.3 is private")
    assert outbox["pending"] not in result.output and outbox["delivered"] not in result.output
    assert CANARY not in result.output and "r.ngo.example" not in result.output

    _fails(runner.invoke(args=["deliveries", "list", "--state", "lost"]), "lost", code=2)


@pytest.mark.slow
def test_retry_one_dead_delivery(
    runner: FlaskCliRunner, app: Flask, outbox: dict[str, str]
) -> None:
    result = runner.invoke(args=["deliveries", "retry", outbox["dead-1"]])
    assert result.exit_code == 0, result.output
    assert "1 deliveries will be tried again" in result.output
    rows = _deliveries(app)
    again = rows[outbox["dead-1"]]
    assert (again.state, again.attempts, again.due_at, again.lease_until) == (
        DeliveryState.PENDING,
        0,
        None,
        None,
    )
    assert rows[outbox["dead-2"]].state == DeliveryState.DEAD
    assert rows[outbox["delivered"]].state == DeliveryState.DELIVERED

    # Only dead deliveries are retried: a delivered one, or an unknown id, is left alone.
    result = runner.invoke(args=["deliveries", "retry", outbox["delivered"], "no-such-id"])
    assert result.exit_code == 0, result.output
    assert "0 deliveries" in result.output
    assert _deliveries(app)[outbox["delivered"]].state == DeliveryState.DELIVERED


@pytest.mark.slow
def test_retry_all_dead(runner: FlaskCliRunner, app: Flask, outbox: dict[str, str]) -> None:
    result = runner.invoke(args=["deliveries", "retry", "--all-dead"])
    assert result.exit_code == 0, result.output
    assert "2 deliveries will be tried again" in result.output
    rows = _deliveries(app)
    for name in ("dead-1", "dead-2", "pending"):
        assert rows[outbox[name]].state == DeliveryState.PENDING
        assert rows[outbox[name]].attempts == 0
    assert rows[outbox["delivered"]].state == DeliveryState.DELIVERED
    assert _counts(runner.invoke(args=["deliveries", "list"]).output) == {
        "pending": 3,
        "delivered": 1,
    }


@pytest.mark.slow
def test_retry_needs_ids_or_all_dead(runner: FlaskCliRunner, outbox: dict[str, str]) -> None:
    _fails(runner.invoke(args=["deliveries", "retry"]), "--all-dead")

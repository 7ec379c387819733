"""The audit log: entries appended in the caller's transaction, and `flask audit verify`
catching every edited, removed or reordered entry."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select, update

from crypto.chain import GENESIS, Chain
from reporting.accounts import audit
from reporting.accounts.audit import Action
from reporting.infra import db
from reporting.models import AuditEntry, Caseworker
from tests.support.casework import make_account


def write_entries(app: Flask, count: int = 5) -> list[str]:
    """`count` entries by one caseworker; their MACs in order."""
    account = make_account(app)
    with app.app_context(), db.database().transaction() as session:
        actor = session.get_one(Caseworker, account.id)
        return [
            audit.record(
                session,
                Action.STATUS_CHANGE,
                actor=actor,
                target=f"report{n}",
                detail="status=closed",
            ).hash
            for n in range(count)
        ]


def change(app: Flask, *statements: object) -> None:
    with app.app_context(), db.database().transaction() as session:
        for statement in statements:
            session.execute(statement)  # type: ignore[call-overload]


def verify(runner: FlaskCliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["audit", "verify", *args])


def test_an_intact_chain_verifies_and_names_its_head(app: Flask, runner: FlaskCliRunner) -> None:
    macs = write_entries(app)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"5 entries; head MAC: {macs[-1]}" in result.output
    assert verify(runner, "--head", macs[2]).exit_code == 0


def test_an_empty_log_verifies(runner: FlaskCliRunner) -> None:
    result = verify(runner)
    assert result.exit_code == 0
    assert f"0 entries; head MAC: {GENESIS}" in result.output


def test_an_edited_entry_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    write_entries(app)
    change(app, update(AuditEntry).where(AuditEntry.seq == 3).values(detail="status=new"))
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 3 was changed after it was written" in result.output
    assert "entry 4" not in result.output  # the others still check


def test_an_edit_with_a_rebuilt_chain_under_another_key_is_found(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Someone with the database but not the instance secret cannot re-link the chain."""
    write_entries(app, 3)
    forger = Chain(b"a key that is not the instance's")
    with app.app_context(), db.database().transaction() as session:
        prev = GENESIS
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            entry.detail = "status=new" if entry.seq == 2 else entry.detail
            entry.prev_hash = prev
            entry.hash = prev = forger.link(prev, audit._fields(entry))
    result = verify(runner)
    assert result.exit_code == 1
    for seq in (1, 2, 3):
        assert f"entry {seq} was changed after it was written" in result.output


def test_a_removed_middle_entry_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    write_entries(app)
    change(app, delete(AuditEntry).where(AuditEntry.seq == 3))
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 3 to 3 missing (removed?)" in result.output
    assert "entry 4 does not follow the entry before it" in result.output
    assert "4 entries" in result.output


def test_reordered_entries_are_found(app: Flask, runner: FlaskCliRunner) -> None:
    write_entries(app)
    change(
        app,
        update(AuditEntry).where(AuditEntry.seq == 2).values(seq=100),
        update(AuditEntry).where(AuditEntry.seq == 3).values(seq=2),
        update(AuditEntry).where(AuditEntry.seq == 100).values(seq=3),
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 2 was changed after it was written" in result.output
    assert "entry 3 was changed after it was written" in result.output


def test_a_changed_sequence_number_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    write_entries(app)
    change(app, update(AuditEntry).where(AuditEntry.seq == 5).values(seq=6))
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 5 to 5 missing" in result.output
    assert "entry 6 was changed after it was written" in result.output


def test_removing_the_newest_entries_shows_against_a_noted_head(
    app: Flask, runner: FlaskCliRunner
) -> None:
    macs = write_entries(app)
    change(app, delete(AuditEntry).where(AuditEntry.seq >= 4))
    assert verify(runner).exit_code == 0  # a shorter chain is valid on its own
    result = verify(runner, "--head", macs[-1])
    assert result.exit_code == 1
    assert "the noted head is not in the chain" in result.output


def test_record_links_each_entry_to_the_one_before_and_keeps_only_the_hour(app: Flask) -> None:
    macs = write_entries(app, 3)
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.prev_hash for e in entries] == [GENESIS, *macs[:2]]
    assert all(e.at.minute == e.at.second == e.at.microsecond == 0 for e in entries)
    assert entries[0].organisation_id is not None
    assert {e.organisation_id for e in entries} == {entries[0].organisation_id}


def test_an_entry_rolls_back_with_its_transaction(app: Flask) -> None:
    write_entries(app, 1)
    with app.app_context():
        session = db.session()
        audit.record(session, Action.LOGOUT)
        session.rollback()
        assert audit.verify(session, audit.chain()).count == 1


def test_audit_list_shows_the_newest_entries(app: Flask, runner: FlaskCliRunner) -> None:
    write_entries(app, 4)
    result = runner.invoke(args=["audit", "list", "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "3" and lines[1].split()[0] == "4"
    assert "status_change" in lines[1] and "alice" in lines[1] and "report3" in lines[1]
    assert runner.invoke(args=["audit", "list", "--limit", "0"]).exit_code == 2

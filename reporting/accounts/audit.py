"""The audit log of caseworker actions: appended to a keyed hash chain, verified by
`flask audit verify`.

Entries name who did what to which opaque id, and when to the hour. Nothing a
reporter wrote and nothing that identifies a reporter goes in: callers pass ids
and short details such as "status=closed", never text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crypto.chain import GENESIS, Chain
from crypto.instance_keys import AUDIT_CHAIN, derive_instance_key
from reporting.models import AuditEntry, Caseworker

_LOCK_ID = 0x5250_4155  # any constant: serialises appends on PostgreSQL


class Action(enum.StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    TOKEN_ISSUED = "token_issued"  # noqa: S105
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    DOWNLOAD = "download"
    VIEW = "view"
    STATUS_CHANGE = "status_change"
    TRIAGE_CHANGE = "triage_change"
    REPLY = "reply"
    NOTE = "note"
    ESCALATION = "escalation"
    KEY_CHANGE = "key_change"
    ACCOUNT_CHANGE = "account_change"
    PASSWORD_CHANGE = "password_change"  # noqa: S105
    TOTP_CHANGE = "totp_change"
    ORGANISATION_CHANGE = "organisation_change"
    DELIVERY_RETRY = "delivery_retry"


def _fields(entry: AuditEntry) -> list[str]:
    return [
        str(entry.seq),
        entry.at.isoformat(),
        entry.organisation_id or "",
        entry.actor_id or "",
        entry.action,
        entry.target,
        entry.detail,
    ]


def chain() -> Chain:
    """The current app's chain key."""
    audit_chain: Chain = current_app.extensions["audit_chain"]
    return audit_chain


def _hour_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)


def append(
    db: Session,
    links: Chain,
    action: Action,
    *,
    actor: Caseworker | None = None,
    organisation_id: str | None = None,
    target: str = "",
    detail: str = "",
) -> AuditEntry:
    """Add an entry in the caller's transaction, so the action and its record commit together."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    last = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    entry = AuditEntry(
        seq=1 if last is None else last.seq + 1,
        at=_hour_now(),
        organisation_id=organisation_id or (actor.organisation_id if actor else None),
        actor_id=actor.id if actor else None,
        action=str(action),
        target=target,
        detail=detail[:200],
        prev_hash=GENESIS if last is None else last.hash,
    )
    entry.hash = links.link(entry.prev_hash, _fields(entry))
    db.add(entry)
    db.flush()
    return entry


def record(
    db: Session,
    action: Action,
    *,
    actor: Caseworker | None = None,
    organisation_id: str | None = None,
    target: str = "",
    detail: str = "",
) -> AuditEntry:
    """`append` with the current app's chain key."""
    return append(
        db,
        chain(),
        action,
        actor=actor,
        organisation_id=organisation_id,
        target=target,
        detail=detail,
    )


def about(db: Session, organisation_id: str, target: str) -> list[AuditEntry]:
    """The organisation's entries on one target (a report's id), oldest first: what its
    caseworkers see of who did what to a report, from the same log `verify` checks."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.organisation_id == organisation_id, AuditEntry.target == target)
        .order_by(AuditEntry.seq)
    )
    return list(db.scalars(query))


@dataclass
class Verification:
    """What `verify` found: the entries checked, the head to note down, and any breaks."""

    count: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Session, links: Chain) -> Verification:
    """Walk the chain from the first entry; report every entry that is edited, removed or
    out of place."""
    result = Verification()
    prev = GENESIS
    expected_seq = 1
    for entry in db.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if entry.seq != expected_seq:
            result.problems.append(
                f"entry {expected_seq} to {entry.seq - 1} missing (removed?)"
                if entry.seq > expected_seq
                else f"entry {entry.seq} out of order"
            )
        if entry.prev_hash != prev:
            result.problems.append(f"entry {entry.seq} does not follow the entry before it")
        if not links.check(entry.prev_hash, _fields(entry), entry.hash):
            result.problems.append(f"entry {entry.seq} was changed after it was written")
        prev = entry.hash
        expected_seq = entry.seq + 1
        result.count += 1
    result.head = prev
    return result


def init_app(app: Flask) -> None:
    """Derive the chain key from the instance secret."""
    app.extensions["audit_chain"] = Chain(
        derive_instance_key(app.config["SECRET_KEY"], AUDIT_CHAIN)
    )

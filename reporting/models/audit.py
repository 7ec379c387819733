"""The audit log: what caseworkers did, chained by hashes so edits and removals show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base


class AuditEntry(Base):
    """One caseworker action. No reporter identifier and no content: ids, names, an action.

    `at` is kept to the hour: a finer time of, say, a first download would date the
    report's arrival more closely than the day the service keeps.
    """

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    organisation_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), default=None)
    action: Mapped[str] = mapped_column(String(40))
    # What the action was on: a report, message or caseworker id, or a partner's id.
    target: Mapped[str] = mapped_column(String(64), default="")
    # A short, content-free detail such as "status=closed".
    detail: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

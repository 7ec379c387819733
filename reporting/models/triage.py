"""What caseworkers note about a report in clear: severity, tags, who read what.

None of it comes from the reporter; it is the NGO's own triage.
"""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class TriageTag(Base):
    """A label an organisation's admins define (for example "police station", "family")."""

    __tablename__ = "triage_tag"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))


report_tag = Table(
    "report_tag",
    Base.metadata,
    Column("report_id", ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("triage_tag.id", ondelete="CASCADE"), primary_key=True),
)


class ReportRead(Base):
    """How far a caseworker has read a report: unread again when a message arrives."""

    __tablename__ = "report_read"

    caseworker_id: Mapped[str] = mapped_column(ForeignKey("caseworker.id"), primary_key=True)
    report_id: Mapped[str] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    # The highest message seq the caseworker has seen.
    seq_seen: Mapped[int] = mapped_column(Integer, default=0)

"""A report: who receives it, how the reporter gets back in, and its triage status."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH, new_id, today
from reporting.models.triage import Severity, TriageTag, report_tag

if TYPE_CHECKING:
    from reporting.models.blob import Blob
    from reporting.models.caseworker import Caseworker
    from reporting.models.message import Message
    from reporting.models.organisation import Organisation


class ReportStatus(enum.StrEnum):
    """The fixed set of statuses caseworkers set and a reporter sees."""

    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    CLOSED = "closed"


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Consent(enum.StrEnum):
    """What the reporter allowed for escalation. Kept in clear, unlike the rest of the
    report, so the server itself refuses an escalation the reporter did not allow."""

    NONE = "none"
    ANONYMISED = "anonymised"
    FULL = "full"


class Report(Base):
    """Everything here is either opaque, coarse, or set by caseworkers; the words are in blobs."""

    __tablename__ = "report"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Argon2id-derived from the codename; the codename itself is never stored.
    lookup_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The reporter's public key, so caseworkers' replies can be encrypted to them.
    reporter_recipient: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date, default=today)
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus, 32),
        default=ReportStatus.NEW,
    )
    # An optional note to the reporter about the status, encrypted to the reporter's key.
    status_note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blob.id"), default=None)
    # The day the report was closed; retention counts from it.
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    # Whether any caseworker has opened it; unread reports are never purged silently.
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    # None for reports stored before consent was kept in clear: escalation is then refused.
    consent: Mapped[Consent | None] = mapped_column(_enum(Consent, 16), default=None)
    # The reporter said someone is in danger now or within days: kept in clear, like consent,
    # so the organisation is told at once and the inbox sorts it first (deploy/THREAT-MODEL.md).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the reporter changed from /case, each to the day only (deploy/THREAT-MODEL.md,
    # "Reporter controls"): the caseworkers see that consent or urgency changed, and when.
    consent_changed_on: Mapped[date | None] = mapped_column(Date, default=None)
    urgent_changed_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The reporter asked for deletion: closed to the codename at once, purged after the
    # organisation's delay (Organisation.deletion_delay_days).
    deletion_requested_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The organisation was told that this report nears its maximum age (told once).
    expiry_warned: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[Severity | None] = mapped_column(_enum(Severity, 16), default=None)
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("caseworker.id"), default=None, index=True
    )

    organisation: Mapped[Organisation] = relationship()
    status_note: Mapped[Blob | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="report", order_by="Message.seq", cascade="all, delete-orphan"
    )
    assignee: Mapped[Caseworker | None] = relationship()
    tags: Mapped[list[TriageTag]] = relationship(secondary=report_tag, order_by=TriageTag.name)

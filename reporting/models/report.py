"""A report: who receives it, how the reporter gets back in, and its triage status."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.db import Base
from reporting.models.common import ID_LENGTH, new_id, today

if TYPE_CHECKING:
    from reporting.models.blob import Blob
    from reporting.models.message import Message
    from reporting.models.organisation import Organisation


class ReportStatus(enum.StrEnum):
    """The fixed set of statuses a reporter can see."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    NEEDS_INFORMATION = "needs_information"
    ESCALATED = "escalated"
    CLOSED = "closed"


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
        Enum(
            ReportStatus,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ReportStatus.RECEIVED,
    )
    # An optional note to the reporter about the status, encrypted to the reporter's key.
    status_note_blob_id: Mapped[str | None] = mapped_column(ForeignKey("blob.id"), default=None)
    # The day the report was closed; retention counts from it.
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    # Whether any caseworker has opened it; unread reports are never purged silently.
    read: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation: Mapped[Organisation] = relationship()
    status_note: Mapped[Blob | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="report", order_by="Message.seq", cascade="all, delete-orphan"
    )

"""Messages of a report (the report itself, follow-ups, replies) and their attachments."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH, new_id, today

if TYPE_CHECKING:
    from reporting.models.blob import Blob
    from reporting.models.report import Report


class MessageKind(enum.StrEnum):
    """Who wrote a message, which decides whose key it is encrypted to."""

    REPORT = "report"  # the reporter's first submission, to the organisation's keys
    FOLLOWUP = "followup"  # later words from the reporter, to the organisation's keys
    REPLY = "reply"  # from caseworkers, to the reporter's and the organisation's keys
    NOTE = "note"  # internal, between caseworkers: the organisation's keys only
    ESCALATION = "escalation"  # a package for a partner organisation, to the partner's keys


# What the reporter sees of a conversation: never internal notes or escalations.
REPORTER_VISIBLE = (MessageKind.REPORT, MessageKind.FOLLOWUP, MessageKind.REPLY)


class Message(Base):
    """One encrypted JSON document; `seq` orders messages without storing times of day."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MessageKind] = mapped_column(
        Enum(
            MessageKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_on: Mapped[date] = mapped_column(Date, default=today)
    document_blob_id: Mapped[str] = mapped_column(ForeignKey("blob.id"), unique=True)
    # The caseworker who wrote a reply, note or escalation; None for the reporter's words.
    author_id: Mapped[str | None] = mapped_column(ForeignKey("caseworker.id"), default=None)
    # The partner an escalation went to.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), default=None)

    report: Mapped[Report] = relationship(back_populates="messages")
    document: Mapped[Blob] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.position", cascade="all, delete-orphan"
    )


class Attachment(Base):
    """An encrypted file; its name and type are inside the message document, not here."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("message.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blob.id"), unique=True)

    message: Mapped[Message] = relationship(back_populates="attachments")
    blob: Mapped[Blob] = relationship()

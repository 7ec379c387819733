"""The outbox: where each ciphertext must go, and how far it got.

Delivery rows are written in the same transaction as the report, so a report
that is stored is a report that will be delivered; the worker only moves them
forward. Nothing here says what a report contains or when, to the second, it
came: dates are days, the error is a short technical reason.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH, new_id, today

if TYPE_CHECKING:
    from reporting.models.organisation import Organisation


class ChannelKind(enum.StrEnum):
    WEBHOOK = "webhook"  # a signed POST of the age file (Standard Webhooks)
    EMAIL = "email"  # the armored age file attached to a content-free message


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # not yet tried
    FAILED = "failed"  # tried, will be tried again
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last attempt; an operator may retry it


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class DeliveryChannel(Base):
    """One place an organisation's ciphertext is delivered to, besides the built-in inbox."""

    __tablename__ = "delivery_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, 16))
    # The webhook URL or the e-mail address.
    target: Mapped[str] = mapped_column(Text)
    # The webhook signing secret (whsec_…); empty for e-mail.
    secret: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set for a partner's channel: it carries escalations to that partner, never reports.
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id"), default=None, index=True
    )

    organisation: Mapped[Organisation] = relationship()


class Delivery(Base):
    """One ciphertext (a document or an attachment) on its way to one channel."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("channel_id", "blob_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    # Sent as `webhook-id`: the receiver stores each id once, so retries are harmless.
    idempotency_id: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: f"msg_{new_id()}"
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("delivery_channel.id"), index=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("message.id"), index=True)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blob.id"), index=True)
    # 0 for the message's document, n for its n-th attachment.
    part: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, 16), default=DeliveryState.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_on: Mapped[date] = mapped_column(Date, default=today)
    delivered_on: Mapped[date | None] = mapped_column(Date, default=None)
    # While a delivery is in flight: when the sweep may queue it (again), and until when a
    # worker holds it, so two workers never send it at once. Both are cleared once it is
    # delivered or dead, so a delivered report keeps no time finer than its day.
    due_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # Which claim holds the lease: an attempt whose lease was taken over records nothing.
    lease_token: Mapped[str | None] = mapped_column(String(ID_LENGTH), default=None)
    # Seen pending by a sweep: the next sweep queues it again. A new row's task is queued
    # after its commit, so only a row that outlives two sweeps is queued twice; no creation
    # time is needed for that.
    swept: Mapped[bool] = mapped_column(Boolean, default=False)

    channel: Mapped[DeliveryChannel] = relationship()


class PurgeRecord(Base):
    """That a retention purge happened and how much it removed; nothing about what."""

    __tablename__ = "purge_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    purged_on: Mapped[date] = mapped_column(Date, default=today)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    blobs: Mapped[int] = mapped_column(Integer, default=0)
    # Closed reports past retention that nobody ever read: kept, and admins warned.
    kept_unread: Mapped[int] = mapped_column(Integer, default=0)

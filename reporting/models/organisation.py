"""Organisations, and the age recipients that reports for them are encrypted to."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH, new_id, today

if TYPE_CHECKING:
    from reporting.models.caseworker import Caseworker

DEFAULT_RETENTION_DAYS = 90
DEFAULT_DELETION_DELAY_DAYS = 7
DEFAULT_MAX_REPORT_AGE_DAYS = 365


class Organisation(Base):
    """An NGO that receives reports (or escalations): its caseworkers hold the private keys."""

    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_on: Mapped[date] = mapped_column(Date, default=today)
    # Closed reports are purged this many days after closing.
    retention_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_DAYS)
    # A report the reporter asked to delete is purged this many days after the request: time
    # for caseworkers to reach out, since a deletion may be made under coercion.
    deletion_delay_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_DELETION_DELAY_DAYS)
    # Any report, whatever its status and read or not, is purged at this age.
    max_report_age_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_REPORT_AGE_DAYS)
    # Where content-free "new reports" notices go; none when empty.
    notify_email: Mapped[str] = mapped_column(String(320), default="")
    # Set when something arrives, cleared when the periodic notice goes out: no times kept.
    notification_due: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by an urgent report, cleared when its immediate notice goes out (worker/notify.py).
    urgent_notice_due: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when reports near their maximum age, cleared when the "some reports will be
    # deleted soon" notice goes out (worker/notify.py).
    expiry_notice_due: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[list[OrganisationRecipient]] = relationship(
        back_populates="organisation", order_by="OrganisationRecipient.id"
    )


class OrganisationRecipient(Base):
    """One caseworker's public key (age1pq1… by default); never a private key."""

    __tablename__ = "organisation_recipient"
    __table_args__ = (UniqueConstraint("organisation_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    recipient: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    # The caseworker whose key this is; None for an organisation key (an escrow key kept
    # offline, or one added with `flask org add-recipient`). A disabled caseworker's key
    # is left out of new reports.
    caseworker_id: Mapped[str | None] = mapped_column(
        ForeignKey("caseworker.id"), default=None, index=True
    )
    added_on: Mapped[date] = mapped_column(Date, default=today)
    organisation: Mapped[Organisation] = relationship(back_populates="recipients")
    caseworker: Mapped[Caseworker | None] = relationship()

"""Partner organisations that receive escalations: their keys and, via channels, where."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base
from reporting.models.common import today


class Partner(Base):
    """A partner NGO of one organisation. Escalations are encrypted to `recipients` by the
    caseworker client and delivered by the worker through the partner's channels."""

    __tablename__ = "partner"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The partner's age recipients, one per line (public keys only).
    recipients: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[date] = mapped_column(Date, default=today)

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]

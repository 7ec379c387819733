"""The registry of places an organisation loads (`flask registry load`): stations, offices.

Public information the organisation chose to list (no reporter wrote it), so it is kept
in clear: the report form offers it as a choice. What a reporter chose is stored only
inside the encrypted report, as the entry's id and the name the reporter saw.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base


class Place(Base):
    """One entry of an organisation's registry, as its CSV row gave it."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("organisation_id", "registry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    registry_id: Mapped[str] = mapped_column(String(64))  # the CSV's id: stable across loads
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")  # ISO 3166 alpha-2, or ""
    kind: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(500), default="")

    @property
    def label(self) -> str:
        """How the form shows it, and the name a report records: "name — city, CC"."""
        where = ", ".join(part for part in (self.city, self.country) if part)
        return f"{self.name} — {where}" if where else self.name

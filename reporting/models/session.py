"""Session ids that no longer open a session (reporting/accounts/revocation.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base


class RevokedSession(Base):
    """A random session id ended by logout, sign-in or a submission. It names no report and
    no person; `until` is a day, never a time, so the rows do not say when anyone came."""

    __tablename__ = "revoked_session"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The row is deleted after this day: by then any copy of the cookie has gone idle.
    until: Mapped[date] = mapped_column(Date, index=True)

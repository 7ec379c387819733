"""Caseworker accounts, their second factor, recovery codes, API tokens and login throttling.

Caseworkers are not reporters: the service may know who they are. It still keeps
no more than it needs: password and recovery-code hashes, a sealed TOTP secret,
hashed tokens.
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


class Role(enum.StrEnum):
    ADMIN = "admin"  # manages the organisation's accounts, keys, tags and partners
    CASEWORKER = "caseworker"  # reads, triages, answers and escalates reports


class Caseworker(Base):
    """A person at an organisation who reads reports on their own machine."""

    __tablename__ = "caseworker"
    # Names are unique per organisation, not across the service: an admin must not learn
    # which names exist in another organisation. A login names the organisation.
    __table_args__ = (UniqueConstraint("organisation_id", "username"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Role.CASEWORKER,
    )
    # Argon2id (crypto/passwords.py); empty until an invited caseworker sets a password.
    password_hash: Mapped[str] = mapped_column(Text, default="")
    # The TOTP secret, sealed with a key derived from the instance secret (never in clear).
    totp_secret_sealed: Mapped[str] = mapped_column(Text, default="")
    # False until a first code proves the authenticator app holds the secret.
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last TOTP time step accepted: a code is good once, so a seen code is refused.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised on password change and on disabling: sessions and tokens carrying an older
    # value end at once.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # An invitation: the SHA-256 of a one-time token given to the new caseworker by an admin.
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_on: Mapped[date] = mapped_column(Date, default=today)

    organisation: Mapped[Organisation] = relationship()
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="caseworker", cascade="all, delete-orphan"
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="caseworker", cascade="all, delete-orphan"
    )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class RecoveryCode(Base):
    """A one-time code that stands in for TOTP when the phone is lost; stored hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[str] = mapped_column(ForeignKey("caseworker.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    caseworker: Mapped[Caseworker] = relationship(back_populates="recovery_codes")


class ApiToken(Base):
    """A bearer token of the caseworker client; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[str] = mapped_column(ForeignKey("caseworker.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    # The caseworker's auth_epoch when it was issued: a password change ends it.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    caseworker: Mapped[Caseworker] = relationship(back_populates="tokens")


class LoginThrottle(Base):
    """Failed logins per account name (keyed by an HMAC of the name, existing or not)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)

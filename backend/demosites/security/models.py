"""Tables of security administration: password history, second factor, policy settings, archives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from demosites.core.clock import clock
from demosites.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


class PasswordHistory(SQLModel, table=True):
    """Every password hash a user has had (口令历史), so the last N cannot be reused."""

    __tablename__ = "password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class UserTotp(SQLModel, table=True):
    """A user's TOTP secret (RFC 6238), encrypted at rest; `pending` until the first code checks."""

    __tablename__ = "user_totp"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    secret_enc: str | None = Field(default=None, max_length=255)  # the enrolled secret
    pending_secret_enc: str | None = Field(default=None, max_length=255)  # being enrolled
    enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last 30-second step accepted: a code is never accepted twice (replay).
    last_used_step: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """One-time recovery codes (恢复码) for a lost authenticator, stored as keyed hashes."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SecuritySetting(SQLModel, table=True):
    """One policy setting the security administrator changed (absent keys keep their default)."""

    __tablename__ = "security_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, max_length=100)


class AuditArchive(SQLModel, table=True):
    """A file the security audit's old entries were exported to (归档); the rows stay in history."""

    __tablename__ = "audit_archive"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    first_history_id: int
    last_history_id: int
    up_to: datetime = Field(sa_type=UTCDateTime)
    entries: int
    path: str = Field(max_length=500)
    sha256: str = Field(max_length=64)

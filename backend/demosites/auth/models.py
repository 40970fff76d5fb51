"""Server-side sessions (a token's jti) and the login log (登录日志)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from demosites.core.clock import clock
from demosites.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)  # the token's jti
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    csrf_token: str = Field(max_length=128)
    client_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    # The policy at login time governs the session: a later policy change applies to new ones.
    idle_minutes: int = Field(default=30)
    revoked_reason: str | None = Field(default=None, max_length=32)
    # Set when the user's role requires a second factor they have not enrolled (grace over).
    mfa_enrolment_pending: bool = False


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, index=True)
    username: str = Field(max_length=64, index=True)
    client_ip: str | None = Field(default=None, max_length=64, index=True)
    user_agent: str | None = Field(default=None, max_length=300)
    success: bool
    reason: str = Field(max_length=64)

"""API shapes of login."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from demosites.organizations.schemas import Me


class LoginNoticesRead(BaseModel):
    """Shown on login (上次登录时间, 失败次数) and used by the SPA to route the user."""

    previous_login_at: datetime | None = Field(
        default=None, description="The last successful login before this one"
    )
    previous_login_ip: str | None = None
    failed_attempts_since: int = Field(default=0, description="Failed logins since that one")
    password_change_required: bool = Field(
        default=False,
        description="Only /me, password change, enrolment and logout answer until changed",
    )
    password_expired: bool = False
    mfa_enrolment_required: bool = Field(
        default=False,
        description="The user's role requires TOTP and none is enrolled: send them to enrolment",
    )
    mfa_enrolment_deadline: datetime | None = Field(
        default=None,
        description="After this, sessions are restricted to enrolment (never in demo mode)",
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="Seconds until the token expires", examples=[3600])
    scope: str | None = Field(
        default=None,
        description="client_credentials: the scopes the token carries (space-separated)",
        examples=["events:read applications:read"],
    )
    notices: LoginNoticesRead = Field(default_factory=LoginNoticesRead)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, examples=["office"])
    password: str = Field(min_length=1, max_length=128, examples=["demo-password"])


class LoginMfaRequest(BaseModel):
    """Second step of the browser login: the `mfa_token` of the first step and a code."""

    model_config = ConfigDict(extra="forbid")

    mfa_token: str = Field(min_length=1, max_length=4096)
    otp: str = Field(
        min_length=6,
        max_length=32,
        description="6-digit code of the authenticator app, or a recovery code",
        examples=["123456"],
    )


class LoginResponse(BaseModel):
    mfa_required: Literal[False] = False
    user: Me
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests made with the cookie"
    )
    expires_at: datetime
    notices: LoginNoticesRead = Field(default_factory=LoginNoticesRead)


class MfaChallenge(BaseModel):
    """The password was right and the user has TOTP: post the code to /auth/login/mfa."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Valid for 5 minutes; send with the code")
    expires_in: int = Field(examples=[300])

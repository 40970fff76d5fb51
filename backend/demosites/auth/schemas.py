"""API shapes of login."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from demosites.organizations.schemas import Me


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="Seconds until the token expires", examples=[3600])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, examples=["office"])
    password: str = Field(min_length=1, max_length=128, examples=["demo-password"])


class LoginResponse(BaseModel):
    user: Me
    csrf_token: str = Field(description="Send as X-CSRF-Token on unsafe requests made with the cookie")
    expires_at: datetime

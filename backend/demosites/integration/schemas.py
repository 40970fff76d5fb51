"""API shapes of service accounts, webhooks and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SCOPE_PATTERN = r"^[a-z_]+:(read|write)$"


class ServiceAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=100, examples=["省级数据共享平台"])
    organization_id: int = Field(ge=1, le=2**31 - 1, examples=[1])
    scopes: list[str] = Field(
        min_length=1, max_length=50, examples=[["applications:read", "rounds:read"]]
    )
    roles: list[str] = Field(default_factory=list, max_length=5, examples=[["office"]])


class ServiceAccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str = Field(examples=["sa_3f2a9c1d0e7b6a54"])
    name: str
    organization_id: int
    scopes: list[str]
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ServiceAccountCreated(BaseModel):
    account: ServiceAccountRead
    client_secret: str = Field(description="Shown once: only its hash is kept / 仅显示一次")


class ScopesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(min_length=1, max_length=50, examples=[["applications:read"]])


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(examples=["https://data.ah.gov.cn/hooks/demosites"])
    events: list[str] = Field(
        default_factory=lambda: ["*"],
        max_length=50,
        examples=[["application.*", "site.delisted"]],
        description="Event type patterns (fnmatch); ['*'] for every event",
    )
    service_account_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Admins subscribe on behalf of an account"
    )


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    service_account_id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="Signing secret, shown once / 签名密钥，仅显示一次")


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    status: str = Field(examples=["delivered"])
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptRead]


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int


class AllowedHostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$", examples=["127.0.0.1"]
    )


class AllowedHostRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    host: str
    created_at: datetime


class AllowedHostPage(BaseModel):
    items: list[AllowedHostRead]
    total: int


class ScopeList(BaseModel):
    items: list[str] = Field(examples=[["applications:read", "applications:write", "sites:read"]])
    total: int


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Also the cursor: pass the last id as `after`")
    event_type: str = Field(examples=["application.recommended"])
    object_type: str = Field(examples=["application"])
    object_id: int
    payload: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventRead]
    next_after: int = Field(
        description="Pass as `after` to continue; equals `after` when nothing new"
    )

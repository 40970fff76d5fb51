"""Service accounts (API clients), webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.core.clock import clock
from demosites.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


class ServiceAccount(SQLModel, table=True):
    __tablename__ = "service_account"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=255)
    organization_id: int = Field(foreign_key="organization.id")
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # The roles it acts in (e.g. ["office"] for the office's system): scopes limit endpoints,
    # roles limit what the workflow lets it do, exactly as for a person.
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: int | None = None
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    service_account_id: int = Field(foreign_key="service_account.id", index=True)
    url: str = Field(max_length=500)
    # Patterns such as "application.*" or "site.delisted"; ["*"] for all.
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Kept retrievable: the worker signs with it (HMAC needs the key itself).
    secret: str = Field(max_length=128)
    active: bool = True
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription; retried until delivered or given up (after >= 24 h)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_order", "subscription_id", "object_key", "event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id")
    event_id: int = Field(foreign_key="outbox_event.id")
    object_key: str = Field(max_length=64)  # "application:12": deliveries are ordered per object
    status: str = Field(default="pending", max_length=16)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    status_code: int | None = None
    latency_ms: int
    response_excerpt: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=300)


class AllowedWebhookHost(SQLModel, table=True):
    """Hosts an admin allowed although they resolve to loopback or private addresses."""

    __tablename__ = "webhook_allowed_host"

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(max_length=255, unique=True)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class FanoutCursor(SQLModel, table=True):
    """How far the worker has turned outbox events into deliveries (a single row)."""

    __tablename__ = "webhook_fanout_cursor"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0

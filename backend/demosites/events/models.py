"""The transactional outbox: one row per domain event, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_object", "object_type", "object_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)  # the polling cursor
    event_type: str = Field(max_length=64, index=True)  # e.g. application.recommended
    object_type: str = Field(max_length=32)
    object_id: int
    # Organisations that may read the event, as ",12,34," (LIKE-searchable on both databases);
    # the office reads every event.
    audience: str = Field(default=",", max_length=2000)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)

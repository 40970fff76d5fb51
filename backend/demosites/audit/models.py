"""The history (履历): append-only, hash-chained record of every state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class HistoryEntry(SQLModel, table=True):
    __tablename__ = "history"
    __table_args__ = (Index("ix_history_object", "object_type", "object_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=32)
    object_id: int = Field(index=True)
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    actor_user_id: int | None = Field(default=None)
    actor_name: str = Field(max_length=100)
    actor_role: str | None = Field(default=None, max_length=32)
    actor_org_id: int | None = Field(default=None)
    actor_org_name: str | None = Field(default=None, max_length=200)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    opinion: str | None = Field(default=None)
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)

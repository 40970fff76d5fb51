"""The history (履历): append-only record of every state change, one hash chain per object
(stream), and the checkpoints that fix every stream's head at a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.audit.digest import CURRENT_KEY_ID
from demosites.core.types import UTCDateTime


class HistoryEntry(SQLModel, table=True):
    """One row of one stream: the stream is the object (object_type, object_id); `seq` counts its
    rows from 1 and `prev_hash` is the hash of the row before in the same stream."""

    __tablename__ = "history"
    # Two appends to one stream at the same place: the second is refused, the chain never forks.
    __table_args__ = (UniqueConstraint("object_type", "object_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=32)
    object_id: int = Field(index=True)
    seq: int
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
    key_id: str = Field(default=CURRENT_KEY_ID, max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class HistoryCheckpoint(SQLModel, table=True):
    """Every stream's head at one moment, folded into one `head` digest (see checkpoints.py);
    the heads themselves are kept in history_checkpoint_head for the streams that moved."""

    __tablename__ = "history_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    total: int  # history rows at the checkpoint
    streams: int  # streams at the checkpoint
    key_id: str = Field(default=CURRENT_KEY_ID, max_length=32)
    head: str = Field(max_length=64)


class HistoryCheckpointHead(SQLModel, table=True):
    """A stream's head at a checkpoint, for the streams that moved since the one before: a
    checkpoint's full state is the latest head of each stream up to it."""

    __tablename__ = "history_checkpoint_head"

    checkpoint_id: int = Field(foreign_key="history_checkpoint.id", primary_key=True)
    object_type: str = Field(primary_key=True, max_length=32)
    object_id: int = Field(primary_key=True)
    seq: int
    hash: str = Field(max_length=64)

"""Stored files (materials, evidence, photos): bytes on disk under UPLOAD_DIR, metadata here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"
    __table_args__ = (Index("ix_stored_file_owner", "owner_type", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=32)  # application, rectification, ledger_entry, ...
    owner_id: int
    purpose: str = Field(max_length=32)  # deeds, priority_evidence, photo, document, ...
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64, index=True)
    storage_key: str = Field(max_length=200, unique=True)
    uploaded_by: int | None = None
    uploaded_at: datetime = Field(sa_type=UTCDateTime)

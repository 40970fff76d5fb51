"""The document job table: a long export (forms zip, certificates, 创新案例选编) running in the
background, with its progress, error and result file."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class JobKind(StrEnum):
    forms = "forms"  # 申报审批表 of many applications, zipped
    certificates = "certificates"  # 证书 of many sites, one PDF
    compilation = "compilation"  # 创新案例选编 of a round, one .docx


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    # Done, but its file was kept DOCUMENT_JOB_RETENTION_DAYS days and then deleted (已过期).
    expired = "expired"


class DocumentJob(SQLModel, table=True):
    """One background export. Its state lives here so that any API process can report it."""

    __tablename__ = "document_job"
    __table_args__ = (Index("ix_document_job_requester", "requested_by_user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    status: str = Field(default=JobStatus.queued, max_length=16)
    params: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Who asked, as they were when they asked: the job reads with that data scope.
    actor: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    requested_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    requested_by_service_account_id: int | None = None
    done_items: int = 0
    total_items: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    # The result, kept like any stored file (under UPLOAD_DIR, owner_type "document_job").
    file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

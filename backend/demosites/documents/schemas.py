"""API shapes of the documents domain: batch requests, document jobs and import results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from demosites.applications.models import Status
from demosites.documents.models import JobKind, JobStatus
from demosites.rounds.models import FieldKind
from demosites.rounds.schemas import _Write

MAX_ID = 2**31 - 1


def _ids(value: list[int] | None) -> list[int] | None:
    if value is None:
        return value
    if any(not (1 <= v <= MAX_ID) for v in value):
        raise ValueError("ids must be positive 32-bit integers")
    if len(set(value)) != len(value):
        raise ValueError("each id once / 编号不得重复")
    return value


FormFormat = Literal["docx", "pdf"]


def _both_formats() -> list[FormFormat]:
    return ["docx", "pdf"]


class FormsBatchRequest(_Write):
    """The 申报审批表 of many applications, zipped: name them, or give the application list's
    filters (the same as GET /api/v1/applications; with neither, every application you may see)."""

    application_ids: list[int] | None = Field(
        default=None, min_length=1, max_length=200, examples=[[12, 15]]
    )
    round_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: Status | None = None
    field: FieldKind | None = None
    recommender_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    priority: bool | None = None
    q: str | None = Field(default=None, max_length=100)
    formats: list[FormFormat] = Field(
        default_factory=_both_formats,
        min_length=1,
        max_length=2,
        examples=[["docx", "pdf"]],
    )

    _check_ids = field_validator("application_ids")(_ids)


class CertificatesBatchRequest(_Write):
    """Certificates (证书) of awarded sites in one PDF: name the sites, or a round's sites."""

    site_ids: list[int] | None = Field(
        default=None, min_length=1, max_length=200, examples=[[3, 4]]
    )
    round_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    city: str | None = Field(default=None, max_length=16)
    field: FieldKind | None = None

    _check_ids = field_validator("site_ids")(_ids)


class DocumentJobRead(BaseModel):
    """A background export: poll it until `status` is done (then download) or failed (`error`).
    A done job's file is kept until `expires_at`; then the job is expired and its file gone."""

    id: int
    kind: JobKind
    status: JobStatus
    done_items: int
    total_items: int
    progress: float = Field(description="0–1", examples=[0.42])
    error: str | None = Field(description="Why it failed, when it did")
    filename: str | None
    size: int | None
    download_url: str | None = Field(examples=["/api/v1/document-jobs/7/file"])
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(
        description="When the file of a finished job is deleted (DOCUMENT_JOB_RETENTION_DAYS "
        "after it finished); null while it runs or when it failed",
        examples=["2026-05-08T08:03:12Z"],
    )


class DocumentJobPage(BaseModel):
    """The caller's own background exports, newest first."""

    items: list[DocumentJobRead]
    total: int = Field(examples=[3])


class SkippedRow(BaseModel):
    row: int = Field(description="Sheet row (the header is row 1)")
    name: str
    city: str
    existing_id: int = Field(description="The applicant unit that already exists")


class ImportResult(BaseModel):
    """What an applicant import did: units created, and rows skipped because the unit (单位名称 +
    所属城市) already existed."""

    created: int
    skipped: int
    created_ids: list[int]
    skipped_rows: list[SkippedRow]

"""The applicant unit (申报主体) table: one per organisation of kind applicant_unit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class ApplicantKind(StrEnum):
    primary_school = "primary_school"  # 中小学校
    university_unit = "university_unit"  # 高校二级教学单位
    enterprise = "enterprise"  # 企业
    community = "community"  # 社区（含街道级社区）
    village = "village"  # 行政村


class Ownership(StrEnum):
    provincial_soe = "provincial_soe"  # 省属国有企业
    private = "private"  # 民营企业
    other = "other"  # 其他


# The field (领域) follows from the kind (domain.md §2).
FIELD_OF_KIND = {
    ApplicantKind.primary_school: "school",
    ApplicantKind.university_unit: "school",
    ApplicantKind.enterprise: "enterprise",
    ApplicantKind.community: "community",
    ApplicantKind.village: "rural",
}


class ApplicantUnit(SQLModel, table=True):
    """申报主体: a school, university unit, enterprise, community or village that may apply."""

    __tablename__ = "applicant_unit"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    name: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=32)
    field: str = Field(max_length=16, index=True)
    city: str = Field(max_length=16, index=True)
    university: str | None = Field(default=None, max_length=200)
    provincial_university: bool = False
    ownership: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)

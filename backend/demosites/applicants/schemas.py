"""API shapes of applicant units (申报主体)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from demosites.applicants.models import ApplicantKind, Ownership
from demosites.organizations.models import CITIES
from demosites.organizations.schemas import City
from demosites.rounds.models import FieldKind
from demosites.rounds.schemas import _Write


class ApplicantCreate(_Write):
    """A new applicant unit; its organisation is created with it (users are added by an admin)."""

    name: str = Field(min_length=2, max_length=200, examples=["合肥市第四十五中学"])
    kind: ApplicantKind = Field(examples=["primary_school"])
    city: City = Field(examples=["合肥"])
    university: str | None = Field(
        default=None, max_length=200, examples=["安徽大学"], description="高校二级教学单位 only"
    )
    provincial_university: bool = Field(default=False, description="高校二级教学单位 of a 省属高校")
    ownership: Ownership | None = Field(
        default=None, description="企业 only: 省属国有 / 民营 / 其他"
    )
    code: str | None = Field(
        default=None, min_length=2, max_length=64, pattern=r"^[a-z0-9_\-]+$",
        description="Organisation code (generated when absent)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _fits_kind(self) -> ApplicantCreate:
        if self.city not in CITIES:
            raise ValueError("city must be one of the 16 cities of Anhui / 城市须为安徽省16市之一")
        if self.kind == ApplicantKind.university_unit:
            if not self.university:
                raise ValueError(
                    "a university unit names its university / 高校二级教学单位须填写所属高校"
                )
        elif self.university or self.provincial_university:
            raise ValueError(
                "only university units have a university / 仅高校二级教学单位填写所属高校"
            )
        if self.kind == ApplicantKind.enterprise:
            if self.ownership is None:
                raise ValueError("an enterprise states its ownership / 企业须填写所有制")
        elif self.ownership is not None:
            raise ValueError("only enterprises have an ownership / 仅企业填写所有制")
        return self


class ApplicantRead(BaseModel):
    id: int
    organization_id: int
    organization_code: str
    name: str
    kind: ApplicantKind
    field: FieldKind
    city: str
    university: str | None
    provincial_university: bool
    ownership: Ownership | None
    created_at: datetime


class ApplicantPage(BaseModel):
    items: list[ApplicantRead]
    total: int

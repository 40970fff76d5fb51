"""API shapes of rounds, quota rules and meetings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from demosites.applicants.models import ApplicantKind, Ownership
from demosites.rounds.models import FieldKind, MeetingKind, Phase

MAX_ID = 2**31 - 1


def no_nul(value: Any) -> Any:
    """PostgreSQL refuses NUL bytes in text: refuse them as bad input before they get there."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters / 不得包含空字符")
    if isinstance(value, list):
        for item in value:
            no_nul(item)
    return value


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return no_nul(value)


class Windows(_Write):
    """The four phase windows (2022 values of the notice as examples)."""

    application_start: date = Field(examples=["2022-06-01"], description="申报推荐 opens")
    application_end: date = Field(
        examples=["2022-08-05"], description="申报推荐: last day to submit"
    )
    materials_deadline: date = Field(
        examples=["2022-08-10"], description="材料报送截止: last day to recommend / withdraw"
    )
    assessment_start: date = Field(examples=["2022-08-15"], description="考核审批 opens")
    assessment_end: date = Field(examples=["2022-11-10"])
    awarding_start: date = Field(examples=["2022-11-21"], description="组织授牌")
    awarding_end: date = Field(examples=["2022-11-30"])
    publicity_start: date = Field(examples=["2022-12-01"], description="宣传推介")
    publicity_end: date = Field(examples=["2023-06-30"])


class RoundCreate(Windows):
    year: int = Field(ge=2000, le=2200, examples=[2022])
    name: str = Field(
        min_length=2, max_length=200, examples=["2022年度安徽省基层思想政治工作示范点创建"]
    )


class RoundUpdate(_Write):
    """Any subset of the name and windows; moving a window needs `reason` (kept in history)."""

    name: str | None = Field(default=None, min_length=2, max_length=200)
    application_start: date | None = None
    application_end: date | None = None
    materials_deadline: date | None = Field(default=None, examples=["2022-08-15"])
    assessment_start: date | None = None
    assessment_end: date | None = None
    awarding_start: date | None = None
    awarding_end: date | None = None
    publicity_start: date | None = None
    publicity_end: date | None = None
    reason: str | None = Field(
        default=None, min_length=2, max_length=1000, examples=["因汛期顺延材料报送截止时间"]
    )


class RoundRead(BaseModel):
    id: int
    year: int
    name: str
    application_start: date
    application_end: date
    materials_deadline: date
    assessment_start: date
    assessment_end: date
    awarding_start: date
    awarding_end: date
    publicity_start: date
    publicity_end: date
    current_phase: Phase = Field(description="Computed from today's date (Beijing)")
    quota_rules_editable: bool = Field(description="True until the application window opens")
    version: int
    created_at: datetime
    updated_at: datetime


class RoundPage(BaseModel):
    items: list[RoundRead]
    total: int


class Eligibility(_Write):
    """Whom a quota rule admits (domain.md §2); every present condition must hold."""

    scope: Literal["own_city", "any"] = Field(
        default="any", description="own_city: the applicant is located in the recommender's city"
    )
    kinds: list[ApplicantKind] | None = Field(default=None, examples=[["enterprise"]])
    exclude: list[Literal["provincial_university", "provincial_soe"]] = Field(
        default_factory=list, examples=[["provincial_university", "provincial_soe"]]
    )
    provincial_university: bool | None = Field(
        default=None, description="true: only units of 省属高校; false: only other universities"
    )
    ownership: list[Ownership] | None = Field(default=None, examples=[["private"]])


class QuotaRead(BaseModel):
    id: int
    round_id: int
    recommender_id: int
    recommender_code: str
    recommender_name: str = Field(examples=["合肥市委宣传部"])
    field: FieldKind
    limit: int
    used: int
    left: int
    eligibility: dict[str, Any]
    version: int


class QuotaPage(BaseModel):
    items: list[QuotaRead]
    total: int


class QuotaCreate(_Write):
    recommender_id: int = Field(ge=1, le=MAX_ID)
    field: FieldKind
    limit: int = Field(ge=0, le=1000, examples=[1])
    eligibility: Eligibility


class QuotaUpdate(_Write):
    limit: int | None = Field(default=None, ge=0, le=1000, examples=[2])
    eligibility: Eligibility | None = None


class MeetingCreate(_Write):
    kind: MeetingKind = Field(examples=["review"])
    held_on: date = Field(examples=["2022-10-20"])
    reference: str = Field(min_length=2, max_length=200, examples=["2022年第1次联席会议评审会"])
    attendees: list[str] = Field(
        default_factory=list, max_length=200, examples=[["省委网信办 张三", "省总工会 李四"]]
    )

    @field_validator("attendees")
    @classmethod
    def _attendee_names(cls, value: list[str]) -> list[str]:
        out = [v.strip() for v in value if v.strip()]
        if any(len(v) > 100 for v in out):
            raise ValueError("each attendee at most 100 characters / 每位参会人员不超过100字")
        return out


class MeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    kind: MeetingKind
    held_on: date
    reference: str
    attendees: list[str]
    created_at: datetime


class MeetingPage(BaseModel):
    items: list[MeetingRead]
    total: int

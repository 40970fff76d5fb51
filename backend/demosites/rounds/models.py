"""Tables of a round (创建轮次): its calendar, quota rules, phase exceptions and meetings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class FieldKind(StrEnum):
    """领域: the four fields of the notice."""

    school = "school"  # 学校
    enterprise = "enterprise"  # 企业
    community = "community"  # 社区
    rural = "rural"  # 农村


FIELDS = tuple(f.value for f in FieldKind)


class Phase(StrEnum):
    """Which window of the calendar a date falls in."""

    not_started = "not_started"
    application = "application"  # 申报推荐 (until the materials deadline)
    assessment = "assessment"  # 考核审批
    awarding = "awarding"  # 组织授牌
    publicity = "publicity"  # 宣传推介
    between_phases = "between_phases"
    ended = "ended"


WINDOW_COLUMNS = (
    "application_start",
    "application_end",
    "materials_deadline",
    "assessment_start",
    "assessment_end",
    "awarding_start",
    "awarding_end",
    "publicity_start",
    "publicity_end",
)


class Round(SQLModel, table=True):
    """创建轮次: one year's creation round with its four phase windows."""

    __tablename__ = "round"
    __table_args__ = (
        # Windows in order and never overlapping (the service says which one is wrong first).
        CheckConstraint(
            "application_start <= application_end AND application_end <= materials_deadline"
            " AND materials_deadline < assessment_start AND assessment_start <= assessment_end"
            " AND assessment_end < awarding_start AND awarding_start <= awarding_end"
            " AND awarding_end < publicity_start AND publicity_start <= publicity_end",
            name="windows_in_order",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    name: str = Field(max_length=200)
    application_start: date
    application_end: date
    materials_deadline: date
    assessment_start: date
    assessment_end: date
    awarding_start: date
    awarding_end: date
    publicity_start: date
    publicity_end: date
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Quota(SQLModel, table=True):
    """A quota rule: how many applications one recommender may recommend in one field, and whom."""

    __tablename__ = "quota"
    __table_args__ = (
        UniqueConstraint("round_id", "recommender_id", "field"),
        # The database, not only Python, keeps a recommender within its limit.
        CheckConstraint('used <= "limit"', name="used_within_limit"),
        CheckConstraint("used >= 0", name="used_not_negative"),
        CheckConstraint('"limit" >= 0', name="limit_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    recommender_id: int = Field(foreign_key="organization.id", index=True)
    field: str = Field(max_length=16)
    limit: int
    used: int = 0
    eligibility: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int = 1


class MeetingKind(StrEnum):
    review = "review"  # 评审会 (joint-conference review)
    approval = "approval"  # 部务会 (department affairs meeting)


class Meeting(SQLModel, table=True):
    """A review (评审) or approval (部务会) meeting that adopt/reject/approve/disapprove cite."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    kind: str = Field(max_length=16)
    held_on: date
    reference: str = Field(max_length=200)
    attendees: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)

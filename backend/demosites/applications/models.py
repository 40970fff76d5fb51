"""Tables of applications (申报): the application with its stage, assessment assignments, and the
office's exceptions to the phase windows."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from demosites.core.types import UTCDateTime


class Status(StrEnum):
    """The stages of domain.md §4."""

    draft = "draft"
    submitted = "submitted"
    not_recommended = "not_recommended"
    recommended = "recommended"
    preliminary_passed = "preliminary_passed"
    preliminary_failed = "preliminary_failed"
    assessed = "assessed"
    proposed = "proposed"
    not_proposed = "not_proposed"
    candidate = "candidate"
    review_rejected = "review_rejected"
    approved = "approved"
    approval_rejected = "approval_rejected"
    awarded = "awarded"


# An application in one of these states is over: its unit may apply again in the same round.
ENDED_STATES = frozenset(
    {
        Status.not_recommended,
        Status.preliminary_failed,
        Status.not_proposed,
        Status.review_rejected,
        Status.approval_rejected,
    }
)


class PriorityKind(StrEnum):
    """可优先申报推荐: the three grounds for priority."""

    leader_instruction = "leader_instruction"  # 中央及省委领导批示肯定
    innovation_case = "innovation_case"  # 全国、全省思想政治工作创新案例
    media_report = "media_report"  # 省级以上主要媒体宣传推介


class Application(SQLModel, table=True):
    """申报: one applicant unit's application in one round (the 申报审批表 and what follows)."""

    __tablename__ = "application"
    __table_args__ = (
        # At most one live application per applicant unit per round: live_key is the applicant's
        # id while the application is live and NULL once it has ended (NULLs never collide).
        UniqueConstraint("round_id", "live_key"),
        UniqueConstraint("round_id", "plaque_no"),
        Index("ix_application_round_status", "round_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id")
    applicant_id: int = Field(foreign_key="applicant_unit.id", index=True)
    recommender_id: int = Field(foreign_key="organization.id", index=True)
    created_by_org_id: int | None = Field(default=None, foreign_key="organization.id")
    field: str = Field(max_length=16)
    city: str = Field(max_length=16)
    name: str = Field(max_length=200)  # 示范点名称
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))  # 示范点简要事迹
    deeds: str = Field(default="", sa_column=Column(Text, nullable=False))  # 先进事迹材料
    status: str = Field(default=Status.draft, max_length=32)
    priority: bool = False
    priority_claims: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    scores: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    visit_date: date | None = None
    quota_id: int | None = Field(default=None, foreign_key="quota.id")
    plaque_no: str | None = Field(default=None, max_length=64)
    awarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    live_key: int | None = None
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# The lists' order (priority first, then filing order) within a round, read straight off an index:
# without it every page sorts the whole round (28 ms on SQLite for 6,500 applications; 0.3 ms with).
Index(
    "ix_application_round_priority_id",
    Application.round_id,  # type: ignore[arg-type]
    col(Application.priority).desc(),
    Application.id,  # type: ignore[arg-type]
)


class AssessmentAssignment(SQLModel, table=True):
    """考核组: an assessor assigned by the office to assess one application."""

    __tablename__ = "assessment_assignment"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    assigned_at: datetime = Field(sa_type=UTCDateTime)


class Action(StrEnum):
    """The actions of the stage machine, named exactly as in domain.md §4."""

    submit = "submit"
    return_ = "return"
    decline = "decline"
    recommend = "recommend"
    withdraw = "withdraw"
    pass_preliminary = "pass_preliminary"
    fail_preliminary = "fail_preliminary"
    record_assessment = "record_assessment"
    propose = "propose"
    not_propose = "not_propose"
    adopt = "adopt"
    reject = "reject"
    approve = "approve"
    disapprove = "disapprove"
    award = "award"
    uphold_objection = "uphold_objection"  # 公示异议成立: the office ends an approved application


class PhaseException(SQLModel, table=True):
    """An office-recorded exception allowing one action of the stage machine outside its round's
    window on one date, for one application or all of the round (audited with its reason)."""

    __tablename__ = "phase_exception"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    action: str = Field(max_length=32)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    on_date: date
    reason: str = Field(max_length=1000)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)

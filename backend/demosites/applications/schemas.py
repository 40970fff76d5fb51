"""API shapes of applications (申报), their transitions, assessors, opinions and materials, the
office's phase exceptions and the round's dashboard counts."""

from __future__ import annotations

from datetime import date, datetime
from datetime import date as Date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from demosites.applicants.models import ApplicantKind
from demosites.applications.models import Action, PriorityKind, Status
from demosites.rounds.models import FieldKind
from demosites.rounds.schemas import _Write

MAX_ID = 2**31 - 1


class PriorityClaimIn(_Write):
    """One ground for priority (可优先申报推荐); its evidence files are uploaded as materials
    with purpose `evidence_<kind>`."""

    kind: PriorityKind = Field(examples=["media_report"])
    description: str = Field(
        min_length=2, max_length=1000, examples=["2021年9月《安徽日报》头版报道其“红色课堂”做法"]
    )


def _unique_claims(claims: list[PriorityClaimIn] | None) -> list[PriorityClaimIn] | None:
    if claims is not None and len({c.kind for c in claims}) != len(claims):
        raise ValueError("each priority ground at most once / 每种优先情形只能填写一次")
    return claims


class ApplicationCreate(_Write):
    """A new draft. An applicant files for its own unit (applicant_id may be omitted); a
    recommender files on a unit's behalf (recommender_id defaults to the caller's organisation)."""

    round_id: int = Field(ge=1, le=MAX_ID)
    applicant_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="申报主体")
    recommender_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="推荐单位 (organisation id)"
    )
    name: str = Field(
        min_length=2, max_length=200, examples=["“红色星期五”思政课堂"], description="示范点名称"
    )
    summary: str = Field(default="", max_length=5000, description="示范点简要事迹")
    deeds: str = Field(
        default="", max_length=100_000, description="先进事迹材料 (or upload a document)"
    )
    priority_claims: list[PriorityClaimIn] = Field(default_factory=list, max_length=3)

    _claims = field_validator("priority_claims")(_unique_claims)


class ApplicationUpdate(_Write):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    summary: str | None = Field(default=None, max_length=5000)
    deeds: str | None = Field(default=None, max_length=100_000)
    priority_claims: list[PriorityClaimIn] | None = Field(default=None, max_length=3)
    recommender_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Only while draft"
    )

    _claims = field_validator("priority_claims")(_unique_claims)


class Scores(_Write):
    """Scores per basic standard (基本标准), 0–100 each."""

    political: int = Field(ge=0, le=100, examples=[92], description="政治性")
    contemporary: int = Field(ge=0, le=100, examples=[88], description="时代性")
    effective: int = Field(ge=0, le=100, examples=[90], description="时效性")
    exemplary: int = Field(ge=0, le=100, examples=[95], description="示范性")


class TransitionRequest(_Write):
    """One action of the stage machine. `opinion` is the 意见 of the stage (required where the
    form has an opinion block, and for return/decline); record_assessment needs `scores` and
    `visit_date`; adopt/reject/approve/disapprove need `meeting_id`."""

    action: Action = Field(examples=["recommend"])
    opinion: str | None = Field(default=None, max_length=2000, examples=["同意推荐。"])
    scores: Scores | None = None
    visit_date: date | None = Field(
        default=None, examples=["2022-09-15"], description="实地考核日期"
    )
    meeting_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class BatchTransitionRequest(TransitionRequest):
    """The same action on a list of applications: all succeed or none does."""

    application_ids: list[int] = Field(min_length=1, max_length=200, examples=[[12, 15, 18]])

    @field_validator("application_ids")
    @classmethod
    def _ids_in_range(cls, value: list[int]) -> list[int]:
        if any(not (1 <= v <= MAX_ID) for v in value):
            raise ValueError("ids must be positive 32-bit integers")
        if len(set(value)) != len(value):
            raise ValueError("each application once / 申报不得重复")
        return value


class AssessorsUpdate(_Write):
    user_ids: list[int] = Field(
        max_length=20, examples=[[7, 9]], description="The whole team (replaces it)"
    )

    @field_validator("user_ids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(not (1 <= v <= MAX_ID) for v in value) or len(set(value)) != len(value):
            raise ValueError("distinct positive user ids / 人员不得重复")
        return value


class MaterialPurpose(StrEnum):
    deeds = "deeds"  # 先进事迹材料
    form = "form"  # 盖章的申报审批表扫描件
    evidence_leader_instruction = "evidence_leader_instruction"
    evidence_innovation_case = "evidence_innovation_case"
    evidence_media_report = "evidence_media_report"
    other = "other"


class MaterialRead(BaseModel):
    id: int
    purpose: MaterialPurpose
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str


class MaterialPage(BaseModel):
    items: list[MaterialRead]
    total: int


class PriorityClaimRead(BaseModel):
    kind: PriorityKind
    description: str
    evidence: list[MaterialRead]


class ApplicantRef(BaseModel):
    id: int
    organization_id: int
    name: str
    kind: ApplicantKind
    city: str


class RecommenderRef(BaseModel):
    id: int
    code: str
    name: str


class AssessorRef(BaseModel):
    user_id: int
    display_name: str
    organization_id: int
    organization_name: str


class AssessorRead(BaseModel):
    """An assessor (考核人员) the office may name, with its organisation."""

    user_id: int = Field(examples=[42])
    username: str = Field(examples=["cac_assessor"])
    display_name: str = Field(examples=["省委网信办考核员"])
    organization_id: int = Field(examples=[3])
    organization_name: str = Field(examples=["省委网信办"])
    conflict_of_interest: bool | None = Field(
        default=None,
        description="With application_id: whether this assessor must stand aside (回避) for that "
        "application, by the same rule the assignment enforces; null without application_id",
    )


class AssessorPage(BaseModel):
    items: list[AssessorRead]
    total: int


class OpinionStage(StrEnum):
    recommendation = "recommendation"  # 推荐审核意见
    preliminary = "preliminary"  # 初评审核意见
    assessment = "assessment"  # 考核组审核意见
    review = "review"  # 评审会意见
    approval = "approval"  # 部务会审批意见


class Opinion(BaseModel):
    """An opinion block of the 申报审批表, with its date (the latest of each stage)."""

    stage: OpinionStage
    action: Action
    opinion: str | None
    date: Date = Field(description="Beijing date of the opinion")
    organization_name: str | None
    actor_name: str
    role: str | None


class ApplicationRead(BaseModel):
    id: int
    round_id: int
    applicant: ApplicantRef
    recommender: RecommenderRef
    field: FieldKind
    city: str
    name: str
    summary: str
    deeds: str
    status: Status
    priority: bool
    priority_claims: list[PriorityClaimRead]
    scores: Scores | None
    visit_date: date | None
    plaque_no: str | None = Field(examples=["皖思政示范〔2022〕001号"])
    awarded_at: datetime | None
    submitted_at: datetime | None
    assessors: list[AssessorRef]
    opinions: list[Opinion]
    allowed_actions: list[Action] = Field(
        description="What the caller may do now, from the same transition table that enforces it"
    )
    version: int
    etag: str = Field(examples=['W/"3"'])
    created_at: datetime
    updated_at: datetime


class ApplicationPage(BaseModel):
    items: list[ApplicationRead]
    total: int


class PriorityClaimBrief(BaseModel):
    kind: PriorityKind
    description: str


class ApplicationSummary(BaseModel):
    """One row of the application list: what the review tables show and what the caller may do.
    The 先进事迹材料 (`deeds`), the stage opinions and the evidence files are read one
    application at a time (GET /applications/{id})."""

    id: int = Field(examples=[12])
    round_id: int = Field(examples=[3])
    applicant: ApplicantRef
    recommender: RecommenderRef
    field: FieldKind
    city: str = Field(examples=["合肥"])
    name: str = Field(examples=["“红色星期五”思政课堂"])
    summary: str
    status: Status
    priority: bool
    priority_claims: list[PriorityClaimBrief]
    scores: Scores | None
    visit_date: date | None
    plaque_no: str | None = Field(examples=["皖思政示范〔2022〕001号"])
    awarded_at: datetime | None
    submitted_at: datetime | None
    assessors: list[AssessorRef]
    allowed_actions: list[Action] = Field(
        description="What the caller may do now, from the same transition table that enforces it"
    )
    version: int
    etag: str = Field(examples=['W/"3"'])
    created_at: datetime
    updated_at: datetime


class ApplicationSummaryPage(BaseModel):
    items: list[ApplicationSummary]
    total: int


# ---- the office's phase exceptions and the round's dashboard counts -----------------------


class PhaseExceptionCreate(_Write):
    action: Action = Field(examples=["recommend"])
    application_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Only this application; all of the round when absent",
    )
    on_date: date = Field(examples=["2022-08-12"], description="The day the action is allowed")
    reason: str = Field(min_length=2, max_length=1000, examples=["材料因系统故障延迟报送"])


class PhaseExceptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    action: str
    application_id: int | None
    on_date: date
    reason: str
    created_by: int | None
    created_at: datetime


class CountRow(BaseModel):
    key: str
    count: int


class RoundStats(BaseModel):
    """Dashboard counts of a round's applications (office)."""

    round_id: int
    total: int
    by_status: list[CountRow]
    by_city: list[CountRow]
    by_field: list[CountRow]

"""API shapes of sites, inspections, rectifications, publicity, 公示 and the public pages."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, field_validator

from demosites.rounds.models import FieldKind
from demosites.rounds.schemas import _Write
from demosites.sites.models import (
    DelistReason,
    InspectionKind,
    InspectionOutcome,
    MediaLevel,
    ObjectionStatus,
    PublicityKind,
    RectificationStatus,
    SiteAction,
    SiteStatus,
)

MAX_ID = 2**31 - 1
PLAQUE_EXAMPLE = "皖思政示范〔2025〕001号"


# ---- sites --------------------------------------------------------------------------------


class RectificationRead(BaseModel):
    id: int
    site_id: int
    inspection_id: int | None
    findings: str = Field(description="What must be fixed (整改要求)")
    deadline: date
    status: RectificationStatus
    overdue: bool = Field(description="Deadline passed with no accepted report")
    report: str | None
    report_submitted_at: datetime | None
    decision_opinion: str | None
    decided_at: datetime | None
    created_at: datetime


class RectificationPage(BaseModel):
    items: list[RectificationRead]
    total: int


class SiteRead(BaseModel):
    id: int
    application_id: int
    round_id: int
    applicant_id: int
    organization_id: int
    name: str = Field(description="示范点名称")
    unit_name: str = Field(description="申报主体")
    field: FieldKind
    city: str
    summary: str = Field(description="示范点简要事迹")
    plaque_no: str = Field(examples=[PLAQUE_EXAMPLE])
    awarded_on: date
    status: SiteStatus
    delist_reason: DelistReason | None
    delisted_on: date | None
    open_rectification: RectificationRead | None
    allowed_actions: list[SiteAction] = Field(
        description="What the caller may do now, from the same table that enforces it"
    )
    version: int
    etag: str = Field(examples=['W/"2"'])
    created_at: datetime
    updated_at: datetime


class SitePage(BaseModel):
    items: list[SiteRead]
    total: int


class SiteTransitionRequest(_Write):
    """One action on a site. `pass`/`rectify` record an open inspection's outcome
    (`inspection_id`; `rectify` needs `deadline` and `findings`); `delist` needs `reason` and an
    `opinion` (it may also close an inspection); `submit_report` (the site's own people) needs
    `report`; `refuse_report` needs an opinion; `confirm` (a later round keeps the site) needs
    `round_id`."""

    action: SiteAction = Field(examples=["rectify"])
    opinion: str | None = Field(
        default=None, max_length=2000, examples=["限期整改，逾期未改将摘牌。"]
    )
    inspection_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    findings: str | None = Field(default=None, max_length=10_000, examples=["理论学习台账不完整"])
    inspected_on: date | None = Field(default=None, examples=["2026-05-12"])
    deadline: date | None = Field(default=None, examples=["2026-08-31"], description="整改期限")
    reason: DelistReason | None = Field(default=None, description="摘牌 reason")
    report: str | None = Field(default=None, max_length=20_000, description="整改报告")
    round_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="confirm: the later round"
    )


# ---- inspections --------------------------------------------------------------------------


class InspectionRead(BaseModel):
    id: int
    site_id: int
    site_name: str
    kind: InspectionKind
    year: int
    inspector_ids: list[int]
    outcome: InspectionOutcome | None
    findings: str | None
    inspected_on: date | None
    recorded_at: datetime | None
    created_at: datetime


class InspectionPage(BaseModel):
    items: list[InspectionRead]
    total: int


def _distinct_ids(value: list[int]) -> list[int]:
    if any(not (1 <= v <= MAX_ID) for v in value) or len(set(value)) != len(value):
        raise ValueError("distinct positive user ids / 人员不得重复")
    return value


class InspectionCreate(_Write):
    kind: InspectionKind = Field(examples=["inspection"])
    year: int = Field(ge=2000, le=2200, examples=[2026])
    inspector_ids: list[int] = Field(default_factory=list, max_length=20, examples=[[7]])

    _ids = field_validator("inspector_ids")(_distinct_ids)


class CampaignCreate(InspectionCreate):
    """The office opens the year's 检查 or 复核 for every site holding a plaque at once."""


class CampaignResult(BaseModel):
    created: int = Field(description="Inspections opened")
    skipped: int = Field(description="Sites that already had one of this kind this year")
    items: list[InspectionRead]


class InspectorsUpdate(_Write):
    user_ids: list[int] = Field(
        max_length=20, examples=[[7, 9]], description="The whole team (replaces it)"
    )

    _ids = field_validator("user_ids")(_distinct_ids)


# ---- reminders ----------------------------------------------------------------------------


class SiteRef(BaseModel):
    id: int
    name: str
    plaque_no: str
    city: str
    status: SiteStatus


class UninspectedSite(SiteRef):
    missing: list[InspectionKind] = Field(description="Kinds not yet recorded this year")


class RectificationReminder(BaseModel):
    site: SiteRef
    rectification: RectificationRead
    days_left: int = Field(description="Negative when overdue")


class Reminders(BaseModel):
    """What the office must chase: sites not yet inspected this year, deadlines within 14 days,
    overdue rectifications."""

    year: int
    not_inspected: list[UninspectedSite]
    due_soon: list[RectificationReminder]
    overdue: list[RectificationReminder]


# ---- publicity ----------------------------------------------------------------------------


class PublicityCreate(_Write):
    """A forum participation (论坛, e.g. “皖若春风”思政论坛) or a media report (outlet, level)."""

    kind: PublicityKind = Field(examples=["media_report"])
    title: str = Field(min_length=2, max_length=300, examples=["“红色星期五”点亮思政课堂"])
    happened_on: date = Field(examples=["2026-03-18"])
    outlet: str | None = Field(default=None, max_length=200, examples=["安徽日报"])
    level: MediaLevel | None = Field(default=None, examples=["provincial"])
    link: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^https?://\S+$",
        examples=["https://www.ahwmw.cn/a/1"],
    )
    description: str = Field(default="", max_length=5000)


class PublicityRead(BaseModel):
    id: int
    site_id: int
    kind: PublicityKind
    title: str
    happened_on: date
    outlet: str | None
    level: MediaLevel | None
    link: str | None
    description: str
    created_at: datetime


class PublicityPage(BaseModel):
    items: list[PublicityRead]
    total: int


class EvidenceRead(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str


class EvidencePage(BaseModel):
    items: list[EvidenceRead]
    total: int


# ---- public notice (公示) ------------------------------------------------------------------


class NoticeCreate(_Write):
    working_days: int = Field(
        default=5, ge=1, le=30, description="公示 length in working days (Mon–Fri)"
    )
    starts_on: date | None = Field(default=None, description="Default: today")


class NoticeUpdate(_Write):
    enabled: bool = Field(description="false switches the notice off for the round (audited)")
    reason: str = Field(min_length=2, max_length=1000, examples=["部务会决定本轮不再公示"])


class NoticeEntryRead(BaseModel):
    application_id: int
    name: str
    unit_name: str
    city: str
    field: FieldKind
    summary: str
    status: str = Field(description="The application's current stage")


class NoticeRead(BaseModel):
    id: int
    round_id: int
    enabled: bool
    working_days: int
    starts_on: date
    ends_on: date = Field(description="Last working day of the notice")
    running: bool = Field(description="Today is within starts_on…ends_on and the notice is enabled")
    entries: list[NoticeEntryRead]
    open_objections: int
    version: int
    created_at: datetime


class PublicNoticeEntry(BaseModel):
    application_id: int
    name: str
    unit_name: str
    city: str
    field: FieldKind
    summary: str


class PublicNoticeRead(BaseModel):
    id: int
    round_id: int
    round_name: str
    starts_on: date
    ends_on: date
    entries: list[PublicNoticeEntry]


class PublicNoticePage(BaseModel):
    items: list[PublicNoticeRead]
    total: int


class ObjectionCreate(_Write):
    """异议: anyone may object to an application on a running notice."""

    application_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    contact: str = Field(min_length=3, max_length=200, examples=["13800000000"])
    content: str = Field(
        min_length=5, max_length=5000, examples=["该单位事迹材料中的获奖情况不属实。"]
    )


class ObjectionReceipt(BaseModel):
    id: int
    received_at: datetime


class ObjectionRead(BaseModel):
    id: int
    notice_id: int
    application_id: int
    application_name: str
    name: str
    contact: str
    content: str
    status: ObjectionStatus
    investigation: str | None
    decided_at: datetime | None
    created_at: datetime


class ObjectionPage(BaseModel):
    items: list[ObjectionRead]
    total: int


class ObjectionResult(_Write):
    """The investigation (调查核实) and its result; `upheld` ends the application."""

    result: ObjectionStatus = Field(examples=["upheld"])
    investigation: str = Field(min_length=2, max_length=5000, examples=["经核实，反映问题属实。"])

    @field_validator("result")
    @classmethod
    def _decided(cls, value: ObjectionStatus) -> ObjectionStatus:
        if value == ObjectionStatus.open:
            raise ValueError("result is upheld or dismissed / 结果须为成立或不成立")
        return value


# ---- public list and plaque register ------------------------------------------------------


class PublicSiteRead(BaseModel):
    """A site as the 安徽文明网 list publishes it."""

    plaque_no: str = Field(examples=[PLAQUE_EXAMPLE])
    name: str
    unit_name: str
    field: FieldKind
    city: str
    round_id: int
    round_year: int
    awarded_on: date
    summary: str


class PublicSitePage(BaseModel):
    items: list[PublicSiteRead]
    total: int


class PublicRoundRead(BaseModel):
    """A round whose demonstration sites are published, for the public list's filter."""

    id: int = Field(examples=[1])
    year: int = Field(examples=[2025])
    name: str = Field(examples=["2025年度全省基层思想政治工作示范点创建"])
    sites: int = Field(examples=[12], description="Sites of the round holding a plaque")


class PublicRoundPage(BaseModel):
    items: list[PublicRoundRead]
    total: int


class PlaqueVerification(BaseModel):
    """What a QR code on the certificate resolves to."""

    plaque_no: str = Field(examples=[PLAQUE_EXAMPLE])
    status: str = Field(
        examples=["active"], description="active (holds the plaque) or delisted (摘牌)"
    )
    name: str
    unit_name: str
    field: FieldKind
    city: str
    round_year: int
    awarded_on: date
    delisted_on: date | None

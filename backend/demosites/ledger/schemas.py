"""API shapes of the work ledger: units, plans, targets, entries and compliance reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from demosites.ledger.models import ComplianceState, PeriodKind, TargetKind, TargetScope, UnitLevel

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Year = Annotated[int, Field(ge=2000, le=2100, examples=[2023])]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("NUL characters are not allowed / 不允许包含空字符")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
_write = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------- units ----------


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    name: str = Field(examples=["电厂街道"])
    level: UnitLevel
    city: str | None = Field(examples=["合肥"])
    organization_id: int | None
    path: str = Field(examples=["/1/5/23/"], description="Materialised path of ids, root first")
    depth: int
    child_count: int = 0


class UnitDetail(UnitRead):
    ancestors: list[UnitRead] = Field(description="Visible ancestors, root first (breadcrumb)")


class UnitCreate(BaseModel):
    model_config = _write

    parent_id: Id | None = Field(default=None, description="None for a top-level (city) unit")
    name: Text = Field(min_length=1, max_length=200, examples=["新时代社区"])
    level: UnitLevel = Field(examples=["community"])
    city: Text | None = Field(
        default=None,
        max_length=16,
        examples=["合肥"],
        description="Only for top-level units; children inherit it",
    )
    organization_id: Id | None = Field(
        default=None, description="Its users with role `unit` act for this unit"
    )


class UnitUpdate(BaseModel):
    model_config = _write

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    organization_id: Id | None = None


class UnitPage(BaseModel):
    items: list[UnitRead]
    total: int


# ---------- plans ----------


class TargetSpec(BaseModel):
    """A measurable target, as data. Kinds: `min_count` (≥ count per period, for the unit or
    each sub-unit), `due_day` (count every month by day N), `month_required` (in month M),
    `response_time` (each event answered within max_minutes)."""

    model_config = _write

    kind: TargetKind = Field(examples=["min_count"])
    count: int = Field(default=1, ge=1, le=10_000, examples=[8])
    period: PeriodKind = Field(
        default=PeriodKind.month, description="min_count only; other kinds are monthly"
    )
    scope: TargetScope = Field(default=TargetScope.self, examples=["each_child"])
    child_level: UnitLevel | None = Field(
        default=None,
        examples=["community"],
        description="each_child: level of the sub-units (else direct children)",
    )
    due_day: int | None = Field(default=None, ge=1, le=31, examples=[7])
    month: int | None = Field(default=None, ge=1, le=12, examples=[9])
    max_minutes: int | None = Field(default=None, ge=1, le=10_080, examples=[5])
    label: Text | None = Field(default=None, max_length=200, examples=["各社区每月至少8次"])

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Self:
        need = {"due_day": "due_day", "month_required": "month", "response_time": "max_minutes"}
        field = need.get(self.kind)
        if field and getattr(self, field) is None:
            raise ValueError(f"{self.kind} needs {field} / 该类目标须填写 {field}")
        if self.kind != TargetKind.min_count:
            self.period = PeriodKind.month
        if self.scope == TargetScope.self:
            self.child_level = None
        for name in ("due_day", "month", "max_minutes"):
            if name != field:
                setattr(self, name, None)
        return self


class TargetRead(TargetSpec):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int


class ItemCreate(BaseModel):
    model_config = _write

    section_id: Id | None = None
    position: int = Field(default=0, ge=0, le=10_000)
    code: Text | None = Field(default=None, max_length=16, examples=["12.3"])
    title: Text = Field(min_length=1, max_length=200, examples=["新时代文明实践主题性活动"])
    description: Text | None = Field(default=None, max_length=2000)
    targets: list[TargetSpec] = Field(default_factory=list, max_length=20)


class ItemUpdate(BaseModel):
    model_config = _write

    section_id: Id | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    code: Text | None = Field(default=None, max_length=16)
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    targets: list[TargetSpec] | None = Field(
        default=None, max_length=20, description="Replaces all targets"
    )


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    section_id: int | None
    position: int
    code: str | None
    title: str
    description: str | None
    targets: list[TargetRead] = []


class SectionCreate(BaseModel):
    model_config = _write

    title: Text = Field(min_length=1, max_length=200, examples=["一、学习引领，矢志遵循“总基调”"])
    position: int = Field(default=0, ge=0, le=10_000)


class SectionUpdate(BaseModel):
    model_config = _write

    title: Text | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=10_000)


class SectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    position: int
    title: str


class PlanCreate(BaseModel):
    """`source`: `blank`; `template` (give `template`); `copy` (give `copy_from_plan_id`, or
    nothing to copy this unit's plan of the previous year)."""

    model_config = _write

    unit_id: Id
    year: Year
    title: Text | None = Field(
        default=None, max_length=200, examples=["电厂街道2024年度宣传思想工作要点"]
    )
    source: Literal["blank", "template", "copy"] = Field(default="blank", examples=["template"])
    template: Text | None = Field(default=None, max_length=64, examples=["dianchang_2023"])
    copy_from_plan_id: Id | None = None


class PlanUpdate(BaseModel):
    model_config = _write

    title: Text = Field(min_length=1, max_length=200)


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    unit_name: str = ""
    year: int
    title: str
    source: str | None
    created_at: datetime


class PlanDetail(PlanRead):
    sections: list[SectionRead]
    items: list[ItemRead] = Field(description="All items, ordered by section then position")


class PlanPage(BaseModel):
    items: list[PlanRead]
    total: int


class TemplateItem(BaseModel):
    code: str | None = None
    title: str
    description: str | None = None
    targets: list[TargetSpec]


class TemplateSection(BaseModel):
    title: str
    items: list[TemplateItem]


class TemplateRead(BaseModel):
    code: str = Field(examples=["dianchang_2023"])
    title: str
    unit_level: UnitLevel
    year: int
    source: str
    sections: list[TemplateSection]


class TemplateList(BaseModel):
    items: list[TemplateRead]
    total: int


# ---------- entries ----------


class EntryCreate(BaseModel):
    model_config = _write

    unit_id: Id
    item_id: Id
    entry_date: date = Field(examples=["2023-06-05"])
    title: Text = Field(min_length=1, max_length=200, examples=["“我们的节日·端午”志愿服务"])
    description: Text | None = Field(default=None, max_length=5000)
    participants: int | None = Field(default=None, ge=0, le=1_000_000, examples=[35])
    place: Text | None = Field(default=None, max_length=200, examples=["社区新时代文明实践站"])
    response_minutes: int | None = Field(
        default=None,
        ge=0,
        le=10_080,
        description="舆情 items: minutes until answered (required there)",
    )


class EntryUpdate(BaseModel):
    model_config = _write

    entry_date: date | None = None
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=5000)
    participants: int | None = Field(default=None, ge=0, le=1_000_000)
    place: Text | None = Field(default=None, max_length=200)
    response_minutes: int | None = Field(default=None, ge=0, le=10_080)


class EntryBulkCreate(BaseModel):
    model_config = _write

    items: list[EntryCreate] = Field(min_length=1, max_length=1000)


class EntryRead(BaseModel):
    id: int
    unit_id: int
    unit_name: str
    item_id: int
    item_title: str
    plan_id: int
    entry_date: date
    title: str
    description: str | None
    participants: int | None
    place: str | None
    response_minutes: int | None
    created_by: int | None
    created_at: datetime
    attachment_count: int = 0


class EntryPage(BaseModel):
    items: list[EntryRead]
    total: int


class BulkResult(BaseModel):
    created: int = Field(examples=[120])
    ids: list[int]


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class AttachmentList(BaseModel):
    items: list[AttachmentRead]
    total: int


# ---------- compliance ----------


class ComplianceRow(BaseModel):
    """One (unit, target, period): done against target, and its state."""

    unit_id: int
    unit_name: str
    unit_level: UnitLevel
    item_id: int
    item_code: str | None
    item_title: str
    target_id: int
    target_kind: TargetKind
    target_label: str | None
    period_kind: PeriodKind
    period_no: int = Field(description="month 1–12, quarter 1–4, or 1 for the year")
    period_label: str = Field(examples=["2023-09"])
    deadline: date
    target: int = Field(description="Required count (response_time: 0)")
    done: int
    on_time: int = Field(description="due_day: entries dated on or before the due day")
    breaches: int = Field(description="response_time: events answered too late (or without a time)")
    state: ComplianceState


class StateCounts(BaseModel):
    total: int = 0
    met: int = 0
    late: int = 0
    missed: int = 0
    not_yet: int = 0
    rate: float = Field(default=0.0, description="(met + late) / total, 0 when total is 0")


class CompliancePage(BaseModel):
    items: list[ComplianceRow]
    total: int
    summary: StateCounts


class RollupRow(StateCounts):
    unit_id: int | None = Field(description="The group unit; null: the report unit's own duties")
    unit_name: str
    unit_level: UnitLevel | None


class Rollup(BaseModel):
    unit_id: int | None = Field(description="Report root; null: everything the caller sees")
    year: int
    period: str = Field(examples=["2023-06"])
    overall: StateCounts
    groups: list[RollupRow]


class GridCell(StateCounts):
    month: int


class GridRow(BaseModel):
    unit_id: int | None
    unit_name: str
    unit_level: UnitLevel | None
    months: list[GridCell] = Field(description="12 cells, January first")


class Grid(BaseModel):
    """Month × unit grid of monthly duties (the SPA's heat-map)."""

    unit_id: int | None
    year: int
    rows: list[GridRow]


class TrendPoint(StateCounts):
    month: int


class Trend(BaseModel):
    """Per-month state counts of monthly duties in the subtree (the SPA's trend chart)."""

    unit_id: int | None
    year: int
    points: list[TrendPoint]

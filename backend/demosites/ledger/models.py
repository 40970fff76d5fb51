"""Tables of the work ledger (台账): the unit tree, plans, targets and ledger entries."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.core.clock import clock
from demosites.core.types import UTCDateTime


def table_of(model: type[SQLModel]) -> Table:
    """A table class's Core table, typed (SQLModel leaves `__table__` undeclared)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _now() -> datetime:
    return clock.now()


class UnitLevel(StrEnum):
    city = "city"  # 市
    district = "district"  # 县（市、区）
    street = "street"  # 街道 / 乡镇
    community = "community"  # 社区
    village = "village"  # 行政村
    school = "school"  # 学校
    enterprise = "enterprise"  # 企业
    site = "site"  # 示范点


class TargetKind(StrEnum):
    min_count = "min_count"  # at least `count` entries per period (每月至少8次)
    due_day = "due_day"  # `count` entries every month by day `due_day` (每月7号前报送)
    month_required = "month_required"  # activity required in month `month` (9月网络安全宣传)
    response_time = "response_time"  # every event answered within `max_minutes` (舆情5分钟内回复)


class PeriodKind(StrEnum):
    year = "year"
    quarter = "quarter"
    month = "month"


class TargetScope(StrEnum):
    self = "self"  # the plan's own unit
    each_child = "each_child"  # every unit beneath it (of `child_level`, else direct children)


class ComplianceState(StrEnum):
    met = "met"  # 已完成
    not_yet = "not_yet"  # 进行中: period (or due day) still open, target not reached
    missed = "missed"  # 未完成: closed without reaching the target (or a 舆情 reply too slow)
    late = "late"  # 逾期完成: a due-day target reached only after its due day


class LedgerUnit(SQLModel, table=True):
    """A grassroots unit (基层单位) in the tree city → district → street → community/village."""

    __tablename__ = "ledger_unit"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="ledger_unit.id", index=True)
    name: str = Field(max_length=200)
    level: str = Field(max_length=16, index=True)
    city: str | None = Field(default=None, max_length=16, index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # Materialised path of ids, e.g. "/1/5/23/": ancestry without recursion, subtree order.
    path: str = Field(default="/", max_length=255, index=True)
    depth: int = 0
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class LedgerUnitAncestor(SQLModel, table=True):
    """Closure rows (ancestor-or-self, unit, distance): subtree joins through an index, on any
    database, where a LIKE on the path could not be joined by index."""

    __tablename__ = "ledger_unit_ancestor"
    # Roll-ups find "the unit's ancestor at depth k" (a child of the report's root) by equality.
    __table_args__ = (Index("ix_ledger_unit_ancestor_unit", "unit_id", "ancestor_depth"),)

    ancestor_id: int = Field(foreign_key="ledger_unit.id", primary_key=True)
    unit_id: int = Field(foreign_key="ledger_unit.id", primary_key=True)
    depth: int = 0  # distance from the ancestor down to the unit (0: itself)
    ancestor_depth: int = 0  # the ancestor's own depth in the tree (0: a top-level unit)


class LedgerPlan(SQLModel, table=True):
    """A unit's annual work plan (年度工作要点)."""

    __tablename__ = "ledger_plan"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="ledger_unit.id", index=True)
    year: int
    title: str = Field(max_length=200)
    source: str | None = Field(default=None, max_length=64)  # "template:<code>" | "plan:<id>"
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class PlanSection(SQLModel, table=True):
    """A section of a plan (e.g. 一、学习引领，矢志遵循“总基调”)."""

    __tablename__ = "ledger_plan_section"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="ledger_plan.id", index=True)
    position: int = 0
    title: str = Field(max_length=200)


class PlanItem(SQLModel, table=True):
    """A work item of a plan (工作事项); entries are recorded against it."""

    __tablename__ = "ledger_plan_item"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="ledger_plan.id", index=True)
    section_id: int | None = Field(default=None, foreign_key="ledger_plan_section.id", index=True)
    position: int = 0
    code: str | None = Field(default=None, max_length=16)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class PlanTarget(SQLModel, table=True):
    """A measurable target of an item, as data (see TargetKind)."""

    __tablename__ = "ledger_plan_target"

    id: int | None = Field(default=None, primary_key=True)
    # The item's plan, repeated here so that compliance joins target → plan without the item.
    plan_id: int = Field(foreign_key="ledger_plan.id", index=True)
    item_id: int = Field(foreign_key="ledger_plan_item.id", index=True)
    kind: str = Field(max_length=16)
    count: int = 1
    period: str = Field(
        default="month", max_length=8
    )  # due_day/month_required/response_time: month
    scope: str = Field(default="self", max_length=16)
    child_level: str | None = Field(default=None, max_length=16)
    due_day: int | None = None
    month: int | None = None
    max_minutes: int | None = None
    label: str | None = Field(default=None, max_length=200)


class LedgerEntry(SQLModel, table=True):
    """One ledger entry (台账记录): what a unit did for a plan item on a date."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # Compliance aggregates read a unit's entries in a date range; item and response time
        # ride along so the GROUP BY is an index-only scan. The second serves per-item reads
        # and FK checks.
        Index("ix_ledger_entry_unit_date", "unit_id", "entry_date", "item_id", "response_minutes"),
        Index("ix_ledger_entry_item_date", "item_id", "entry_date"),
        # Newest-first lists over a city or the province stop after one page.
        Index("ix_ledger_entry_date", "entry_date", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="ledger_unit.id")
    item_id: int = Field(foreign_key="ledger_plan_item.id")
    entry_date: date
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    participants: int | None = None
    place: str | None = Field(default=None, max_length=200)
    response_minutes: int | None = None  # 舆情: minutes until the liaison answered
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class LedgerEntryCount(SQLModel, table=True):
    """What the entries of one unit for one target add up to in one month (台账计数): the rows
    compliance reads instead of the entries. Written in the same transaction as every entry
    write (ledger/counts.py) and recounted for an item whose targets change."""

    __tablename__ = "ledger_entry_count"
    # The primary key serves "a subtree's units in a month range"; the second index the
    # recount of one target and its foreign key.
    __table_args__ = (Index("ix_ledger_entry_count_target", "target_id"),)

    unit_id: int = Field(foreign_key="ledger_unit.id", primary_key=True)
    month_key: int = Field(primary_key=True)  # yyyymm of the entries' dates
    target_id: int = Field(foreign_key="ledger_plan_target.id", primary_key=True)
    done: int = 0  # entries
    on_time: int = 0  # due_day: entries dated on or before the due day
    breaches: int = 0  # response_time: entries without a time or slower than max_minutes

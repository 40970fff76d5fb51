"""Tables of the after-award domain: sites, inspections, rectifications, publicity, 公示."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.core.types import UTCDateTime


class SiteStatus(StrEnum):
    active = "active"  # 在牌
    rectifying = "rectifying"  # 限期整改中 (still holds the plaque)
    delisted = "delisted"  # 摘牌


class SiteAction(StrEnum):
    """The actions of the site's transition table (sites/transitions.py)."""

    pass_ = "pass"  # 检查/复核 合格
    rectify = "rectify"  # 限期整改
    submit_report = "submit_report"  # 提交整改报告
    accept_report = "accept_report"  # 整改验收通过
    refuse_report = "refuse_report"  # 整改不到位
    delist = "delist"  # 摘牌
    confirm = "confirm"  # a later round confirms the site (每3年组织1次申报: 确认、调整、增补)


class DelistReason(StrEnum):
    """摘牌 reasons of the notice (五)."""

    rectification_failed = "rectification_failed"  # 整改不认真不到位 / 逾期未整改
    ideology_inspection = "ideology_inspection"  # 意识形态督查存在问题
    negative_public_opinion = "negative_public_opinion"  # 重大负面舆情


class InspectionKind(StrEnum):
    inspection = "inspection"  # 检查
    review = "review"  # 复核


class InspectionOutcome(StrEnum):
    pass_ = "pass"
    rectify = "rectify"
    delist = "delist"


class RectificationStatus(StrEnum):
    open = "open"  # awaiting the site's report
    submitted = "submitted"  # report in, awaiting the office
    refused = "refused"  # report judged insufficient; may be resubmitted before the deadline
    accepted = "accepted"  # closed: the site is active again
    failed = "failed"  # closed by delisting


OPEN_RECTIFICATION = (
    RectificationStatus.open,
    RectificationStatus.submitted,
    RectificationStatus.refused,
)


class Site(SQLModel, table=True):
    """示范点: an awarded application's demonstration site, with its plaque."""

    __tablename__ = "site"
    __table_args__ = (Index("ix_site_status_city_field", "status", "city", "field"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    applicant_id: int = Field(foreign_key="applicant_unit.id", index=True)
    # The applicant unit's organisation: whose people see this site (data scope).
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)  # 示范点名称
    unit_name: str = Field(max_length=200)  # 申报主体
    field: str = Field(max_length=16)
    city: str = Field(max_length=16)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))  # 简要事迹
    plaque_no: str = Field(max_length=64, unique=True)  # e.g. 皖思政示范〔2025〕001号
    awarded_on: date
    status: str = Field(default=SiteStatus.active, max_length=16)
    delist_reason: str | None = Field(default=None, max_length=32)
    delisted_on: date | None = None
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Inspection(SQLModel, table=True):
    """检查 (kind inspection) or 复核 (kind review) of one site in one year."""

    __tablename__ = "site_inspection"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year"),
        Index("ix_site_inspection_year", "year", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: str = Field(max_length=16)
    year: int
    inspector_ids: list[int] = Field(sa_column=Column(JSON, nullable=False))
    outcome: str | None = Field(default=None, max_length=16)
    findings: str | None = Field(default=None, sa_column=Column(Text))
    inspected_on: date | None = None
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Rectification(SQLModel, table=True):
    """限期整改: what a site must fix by a deadline, its report and the office's decision."""

    __tablename__ = "site_rectification"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="site_inspection.id")
    findings: str = Field(sa_column=Column(Text, nullable=False))
    deadline: date = Field(index=True)
    status: str = Field(default=RectificationStatus.open, max_length=16, index=True)
    report: str | None = Field(default=None, sa_column=Column(Text))  # 整改报告 (latest)
    report_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_opinion: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PublicityKind(StrEnum):
    forum = "forum"  # 论坛交流, e.g. “皖若春风”思政论坛
    media_report = "media_report"  # 媒体报道


class MediaLevel(StrEnum):
    central = "central"  # 中央
    provincial = "provincial"  # 省级
    city = "city"  # 市级


class PublicityRecord(SQLModel, table=True):
    """宣传推介: a forum participation or a media report of one site."""

    __tablename__ = "site_publicity"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=300)  # forum name or report headline
    happened_on: date
    outlet: str | None = Field(default=None, max_length=200)  # media only
    level: str | None = Field(default=None, max_length=16)  # media only
    link: str | None = Field(default=None, max_length=1000)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class PublicNotice(SQLModel, table=True):
    """公示: the approved list of a round shown to the public for N working days before award."""

    __tablename__ = "public_notice"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    enabled: bool = True
    working_days: int = 5
    starts_on: date
    ends_on: date
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PublicNoticeEntry(SQLModel, table=True):
    """One approved application on a notice's list (as published)."""

    __tablename__ = "public_notice_entry"
    __table_args__ = (UniqueConstraint("notice_id", "application_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="public_notice.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)


class ObjectionStatus(StrEnum):
    open = "open"  # filed, being investigated
    upheld = "upheld"  # 异议成立: the application ends (approval_rejected)
    dismissed = "dismissed"  # 异议不成立


class ObjectionAction(StrEnum):
    """The actions of the objection's table (sites/notices.py): the office's finding."""

    uphold = "uphold"  # 异议成立
    dismiss = "dismiss"  # 异议不成立


class Objection(SQLModel, table=True):
    """异议: filed by anyone against one application on a notice."""

    __tablename__ = "public_objection"
    __table_args__ = (Index("ix_public_objection_address_time", "client_address", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="public_notice.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    name: str = Field(max_length=100)
    contact: str = Field(max_length=200)
    content: str = Field(sa_column=Column(Text, nullable=False))
    client_address: str = Field(max_length=64)
    status: str = Field(default=ObjectionStatus.open, max_length=16)
    investigation: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)

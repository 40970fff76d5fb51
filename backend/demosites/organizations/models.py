"""Organisations (组织) and the people who act for them (users with roles)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from demosites.core.clock import clock
from demosites.core.types import UTCDateTime


class OrgKind(StrEnum):
    office = "office"  # 省委宣传部思想政治工作处 (办公室)
    member_unit = "member_unit"  # 联席会议成员单位
    city_propaganda = "city_propaganda"  # 市委宣传部
    applicant_unit = "applicant_unit"  # 申报主体
    grassroots = "grassroots"  # 基层单位 (street office, community, village…) keeping a 台账
    other = "other"


class Role(StrEnum):
    office = "office"
    assessor = "assessor"
    committee = "committee"
    approver = "approver"
    recommender = "recommender"
    applicant = "applicant"
    unit = "unit"  # keeps the work plan and ledger (台账) of its organisation's ledger units
    # 三员分立: three administrators replace one all-powerful admin; nobody holds two of them.
    sysadmin = "sysadmin"  # 系统管理员: users, organisations, settings
    secadmin = "secadmin"  # 安全管理员: roles, password and session policy, locks, sessions
    auditor = "auditor"  # 审计管理员: reads and exports the logs, changes nothing


ADMIN_ROLES = frozenset({Role.sysadmin, Role.secadmin, Role.auditor})


CITIES = (
    "合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆",
    "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城",
)  # fmt: skip

CITY_CODES = {
    "合肥": "hefei", "芜湖": "wuhu", "蚌埠": "bengbu", "淮南": "huainan", "马鞍山": "maanshan",
    "淮北": "huaibei", "铜陵": "tongling", "安庆": "anqing", "黄山": "huangshan",
    "滁州": "chuzhou", "阜阳": "fuyang", "宿州": "suzhou", "六安": "luan", "亳州": "bozhou",
    "池州": "chizhou", "宣城": "xuancheng",
}  # fmt: skip


def _now() -> datetime:
    return clock.now()


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32, index=True)
    city: str | None = Field(default=None, max_length=16)
    is_member_unit: bool = False
    is_recommender: bool = False
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    phone: str | None = Field(default=None, max_length=32)
    is_active: bool = True
    must_change_password: bool = False
    password_changed_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    # A lock set by the security administrator (not the throttle): refused until lifted.
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_reason: str | None = Field(default=None, max_length=200)
    # Failed logins before this moment no longer count toward the throttle (an unlock lifts it).
    throttle_reset_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class UserRole(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: str = Field(max_length=32)

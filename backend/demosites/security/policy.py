"""The security policy (安全策略): defaults, overridden by what the security administrator saved."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from demosites.organizations.models import Role
from demosites.security.models import SecuritySetting

DEFAULT_MFA_ROLES = [Role.sysadmin, Role.secadmin, Role.auditor, Role.office]


class SecurityPolicy(BaseModel):
    """Every knob of the policy, with the defaults GB/T 22239-2019 level 3 audits expect."""

    password_min_length: int = Field(default=12, ge=8, le=128, description="口令最小长度")
    password_min_classes: int = Field(
        default=3, ge=1, le=4, description="Of: lower case, upper case, digits, other / 字符类别数"
    )
    password_history: int = Field(default=5, ge=0, le=24, description="Last N passwords refused")
    password_max_age_days: int = Field(
        default=90, ge=0, le=3650, description="After this the next login must change it; 0 = never"
    )
    mfa_required_roles: list[Role] = Field(
        default_factory=lambda: list(DEFAULT_MFA_ROLES),
        description="Roles whose holders must use a second factor (TOTP)",
    )
    mfa_enrolment_grace_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="Days from account creation during which an unenrolled user may still work "
        "(told to enrol); afterwards a login only allows enrolment",
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60, description="空闲超时")
    session_absolute_minutes: int = Field(
        default=12 * 60,
        ge=5,
        le=7 * 24 * 60,
        description="Absolute session lifetime / 会话最长时间",
    )
    session_single: bool = Field(
        default=False, description="A new login ends the account's other sessions"
    )
    audit_retention_days: int = Field(
        default=180,
        ge=180,
        le=3650,
        description="Audit entries older than this are archived to a file",
    )


class SecurityPolicyUpdate(BaseModel):
    """The settings to change; absent ones keep their value."""

    model_config = ConfigDict(extra="forbid")

    password_min_length: int | None = Field(default=None, ge=8, le=128)
    password_min_classes: int | None = Field(default=None, ge=1, le=4)
    password_history: int | None = Field(default=None, ge=0, le=24)
    password_max_age_days: int | None = Field(default=None, ge=0, le=3650)
    mfa_required_roles: list[Role] | None = Field(default=None, max_length=20)
    mfa_enrolment_grace_days: int | None = Field(default=None, ge=0, le=90)
    session_idle_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    session_absolute_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    session_single: bool | None = None
    audit_retention_days: int | None = Field(default=None, ge=180, le=3650)


def get_policy(session: Session) -> SecurityPolicy:
    stored: dict[str, Any] = {
        row.key: row.value
        for row in session.exec(select(SecuritySetting))
        if row.key in SecurityPolicy.model_fields
    }
    return SecurityPolicy.model_validate(stored)


def mfa_required_for(policy: SecurityPolicy, roles: frozenset[str] | set[str]) -> bool:
    return bool(set(roles).intersection(str(r) for r in policy.mfa_required_roles))

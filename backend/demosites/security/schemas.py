"""API shapes of security administration (the portal's security pages are built on these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from demosites.organizations.models import Role


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128, examples=["Anhui-Sites-2026!"])


class PasswordConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(
        min_length=1, max_length=128, description="The current password, to confirm"
    )


class TotpSetup(BaseModel):
    """Scan `qr_svg` (an SVG data: URI for <img src>) or type `secret` into the authenticator app."""

    secret: str = Field(examples=["JBSWY3DPEHPK3PXP"])
    otpauth_uri: str = Field(examples=["otpauth://totp/...:office?secret=...&issuer=..."])
    qr_svg: str = Field(description="data:image/svg+xml URI of the QR code")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$", examples=["123456"])


class RecoveryCodes(BaseModel):
    """Shown once: each code logs in once instead of the authenticator app."""

    recovery_codes: list[str] = Field(examples=[["abcde-fghjk"]])


class LastLogin(BaseModel):
    at: datetime
    client_ip: str | None = None


class MySecurity(BaseModel):
    """The user's own security page (我的安全设置)."""

    username: str
    mfa_enabled: bool
    mfa_required: bool = Field(description="The user's role requires a second factor")
    mfa_enrolment_pending: bool = Field(
        description="This session may only enrol (grace period over)"
    )
    recovery_codes_left: int
    password_changed_at: datetime
    password_expires_at: datetime | None
    must_change_password: bool
    last_login: LastLogin | None = Field(
        description="The last successful login before this session"
    )
    failed_attempts_since: int
    password_rules: dict[str, int] = Field(
        examples=[{"min_length": 12, "min_classes": 3, "history": 5}]
    )


class SessionRead(BaseModel):
    id: str = Field(description="The session id (the token's jti)")
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_expires_at: datetime
    client_ip: str | None
    user_agent: str | None
    current: bool = False


class SessionPage(BaseModel):
    items: list[SessionRead]
    total: int


class UserSecurityRead(BaseModel):
    """A user as the administrators' security pages show it."""

    id: int
    username: str
    display_name: str
    organization_id: int
    organization_name: str = Field(examples=["合肥市委宣传部"])
    roles: list[str]
    is_active: bool
    phone_masked: str | None
    locked: bool = Field(description="Locked by the security administrator")
    locked_at: datetime | None
    locked_reason: str | None
    throttled_until: datetime | None = Field(description="Locked by failed logins until then")
    must_change_password: bool
    password_changed_at: datetime
    mfa_enabled: bool
    active_sessions: int
    last_login_at: datetime | None
    created_at: datetime


class UserSecurityPage(BaseModel):
    items: list[UserSecurityRead]
    total: int


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=200, examples=["离职 / left the department"])


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(max_length=10, examples=[["auditor"]])


class TemporaryPassword(BaseModel):
    """Shown once to the security administrator; the user must change it at the next login."""

    temporary_password: str


class LoginLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    username: str
    client_ip: str | None
    user_agent: str | None
    success: bool
    reason: str = Field(
        description="ok, ok_mfa, bad_credentials, locked (throttle), account_locked, mfa_failed"
    )


class LoginLogPage(BaseModel):
    items: list[LoginLogRead]
    total: int


class AuditEntryRead(BaseModel):
    """One security audit entry: date/time, type, subject, object, result (and its chain hash)."""

    id: int
    at: datetime
    event: str = Field(examples=["login_success"])
    subject: str = Field(description="Who acted (username; the attempted name for a failed login)")
    subject_user_id: int | None
    subject_role: str | None
    object_id: int = Field(description="The user (or object) the event is about; 0 when none")
    object: str | None
    result: str = Field(examples=["success", "failure"])
    ip: str | None
    data: dict[str, Any] | None
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    total: int


class ChainFinding(BaseModel):
    """One thing wrong with the history: a row changed, missing, out of place, or a stream or
    checkpoint that no longer agrees (a deleted tail names no row)."""

    kind: Literal[
        "edited", "broken_link", "missing_rows", "out_of_order", "unknown_key", "truncated",
        "checkpoint_changed", "checkpoint_forged", "fewer_rows",
    ]  # fmt: skip
    object_type: str | None = Field(description="the stream's object type")
    object_id: int | None = Field(description="the stream's object id")
    seq: int | None = Field(description="place in the stream")
    entry_id: int | None = Field(description="the history row found wrong, if any")
    detail: str = Field(examples=["application 12: row 345 was changed after it was written / …"])


class ChainReport(BaseModel):
    intact: bool
    checked: int = Field(description="history rows checked")
    streams: int = Field(description="objects (streams) checked, one hash chain each")
    checkpoint_id: int | None = Field(
        description="the latest checkpoint the history must extend (none yet: null)"
    )
    tampered_ids: list[int] = Field(description="ids of the rows a finding names")
    findings: list[ChainFinding]


class ArchiveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    first_history_id: int
    last_history_id: int
    up_to: datetime
    entries: int
    path: str
    sha256: str


class ArchivePage(BaseModel):
    items: list[ArchiveRead]
    total: int


ExportFormat = Literal["csv", "xlsx"]

"""HTTP endpoints of security administration: the user's own security page and the three admins'."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from demosites.auth.deps import ActorDep, LimitedActorDep, SessionDep, client_ip, require_roles
from demosites.core.actor import Actor
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.paging import PageDep
from demosites.core.retry import RetryRoute
from demosites.organizations.models import Role
from demosites.security import logs, service
from demosites.security.audit import SecurityEvent
from demosites.security.errors import (
    InvalidOtp,
    MfaRequiredByPolicy,
    SeparationOfDuties,
    SessionNotFound,
    TotpNotStarted,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from demosites.security.policy import SecurityPolicy, SecurityPolicyUpdate, get_policy
from demosites.security.schemas import (
    ArchivePage,
    ArchiveRead,
    AuditPage,
    ChainReport,
    ExportFormat,
    LockRequest,
    LoginLogPage,
    MySecurity,
    PasswordChange,
    PasswordConfirm,
    RecoveryCodes,
    RolesUpdate,
    SessionPage,
    TemporaryPassword,
    TotpConfirm,
    TotpSetup,
    UserSecurityPage,
    UserSecurityRead,
)

router = APIRouter(prefix="/api/v1", tags=["security"], route_class=RetryRoute)

# 三员分立: who may call what is decided here, once per endpoint.
SecadminDep = Annotated[Actor, Depends(require_roles(Role.secadmin))]
AuditorDep = Annotated[Actor, Depends(require_roles(Role.auditor))]
UserAdminDep = Annotated[Actor, Depends(require_roles(Role.sysadmin, Role.secadmin))]
PolicyReaderDep = Annotated[
    Actor, Depends(require_roles(Role.sysadmin, Role.secadmin, Role.auditor))
]

UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SessionId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
_auth = (Unauthenticated, Forbidden)
_EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file (CSV with BOM, or Excel)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    }
}
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _file(data: bytes, fmt: str, stem: str) -> Response:
    from demosites.core.clock import clock

    name = f"{stem}-{clock.now().strftime('%Y%m%d%H%M%S')}.{fmt}"
    return Response(
        data,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the user's own security page (我的安全设置) -----------------------------------------------


@router.get(
    "/me/security",
    operation_id="get_my_security",
    summary="My security: second factor, password expiry, last login and failures since",
    response_model=MySecurity,
    responses=responses(Unauthenticated),
)
def get_my_security(session: SessionDep, actor: LimitedActorDep) -> MySecurity:
    return service.my_security(session, actor)


@router.post(
    "/me/password",
    operation_id="change_my_password",
    summary="Change my password (checked against the policy; my other sessions end)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(Unauthenticated, Forbidden, WrongPassword, WeakPassword, ValidationFailed),
)
def change_my_password(
    body: PasswordChange, request: Request, session: SessionDep, actor: LimitedActorDep
) -> Response:
    service.change_password(
        session, actor, body.current_password, body.new_password, client_ip(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/totp/setup",
    operation_id="start_my_totp",
    summary="Start TOTP enrolment: a new secret with its QR code (pending until confirmed)",
    response_model=TotpSetup,
    responses=responses(Unauthenticated, Forbidden),
)
def start_my_totp(session: SessionDep, actor: LimitedActorDep) -> TotpSetup:
    return service.start_totp(session, actor)


@router.post(
    "/me/totp/confirm",
    operation_id="confirm_my_totp",
    summary="Confirm TOTP enrolment with a code; answers the one-time recovery codes",
    response_model=RecoveryCodes,
    responses=responses(Unauthenticated, Forbidden, TotpNotStarted, InvalidOtp, ValidationFailed),
)
def confirm_my_totp(
    body: TotpConfirm, request: Request, session: SessionDep, actor: LimitedActorDep
) -> RecoveryCodes:
    return service.confirm_totp(session, actor, body.code, client_ip(request))


@router.post(
    "/me/totp/disable",
    operation_id="disable_my_totp",
    summary="Turn my second factor off (refused when my role requires it)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(
        Unauthenticated, Forbidden, MfaRequiredByPolicy, WrongPassword, ValidationFailed
    ),
)
def disable_my_totp(
    body: PasswordConfirm, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    service.disable_totp(session, actor, body.password, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/recovery-codes",
    operation_id="regenerate_my_recovery_codes",
    summary="New recovery codes (the old ones stop working)",
    response_model=RecoveryCodes,
    responses=responses(
        Unauthenticated, Forbidden, WrongPassword, TotpNotStarted, ValidationFailed
    ),
)
def regenerate_my_recovery_codes(
    body: PasswordConfirm, request: Request, session: SessionDep, actor: ActorDep
) -> RecoveryCodes:
    return service.regenerate_recovery_codes(session, actor, body.password, client_ip(request))


@router.get(
    "/me/sessions",
    operation_id="list_my_sessions",
    summary="My active sessions (`current` marks this one)",
    response_model=SessionPage,
    responses=responses(Unauthenticated, Forbidden),
)
def list_my_sessions(session: SessionDep, actor: ActorDep) -> SessionPage:
    items = service.my_sessions(session, actor)
    return SessionPage(items=items, total=len(items))


@router.post(
    "/me/sessions/{session_id}/end",
    operation_id="end_my_session",
    summary="End one of my sessions (e.g. on another computer)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(Unauthenticated, Forbidden, SessionNotFound, ValidationFailed),
)
def end_my_session(
    session_id: SessionId, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    service.end_my_session(session, actor, session_id, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- policy (安全策略) ------------------------------------------------------------------------


@router.get(
    "/security/policy",
    operation_id="get_security_policy",
    summary="The password, second-factor, session and retention policy (admins)",
    response_model=SecurityPolicy,
    responses=responses(*_auth),
)
def get_security_policy(session: SessionDep, actor: PolicyReaderDep) -> SecurityPolicy:
    return get_policy(session)


@router.patch(
    "/security/policy",
    operation_id="update_security_policy",
    summary="Change policy settings (secadmin); absent fields keep their value",
    response_model=SecurityPolicy,
    responses=responses(*_auth, ValidationFailed),
)
def update_security_policy(
    body: SecurityPolicyUpdate, request: Request, session: SessionDep, actor: SecadminDep
) -> SecurityPolicy:
    return service.update_policy(session, actor, body, client_ip(request))


# --- accounts (安全管理员; the system administrator reads) -------------------------------------


@router.get(
    "/security/users",
    operation_id="list_users_security",
    summary="Users with lock, throttle, second factor, sessions and last login (sysadmin, secadmin)",
    response_model=UserSecurityPage,
    responses=responses(*_auth, ValidationFailed),
)
def list_users_security(
    session: SessionDep,
    actor: UserAdminDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100, description="Username or name contains")] = None,
    locked: bool | None = None,
) -> UserSecurityPage:
    items, total = service.list_users_security(session, q, locked, page.limit, page.offset)
    return UserSecurityPage(items=items, total=total)


@router.get(
    "/security/users/{user_id:id}",
    operation_id="get_user_security",
    summary="One user's security state (sysadmin, secadmin)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, ValidationFailed),
)
def get_user_security(
    user_id: UserId, session: SessionDep, actor: UserAdminDep
) -> UserSecurityRead:
    return service.user_security(session, user_id)


@router.post(
    "/security/users/{user_id:id}/lock",
    operation_id="lock_user",
    summary="Lock an account and end its sessions (secadmin)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, SeparationOfDuties, ValidationFailed),
)
def lock_user(
    user_id: UserId, body: LockRequest, request: Request, session: SessionDep, actor: SecadminDep
) -> UserSecurityRead:
    return service.lock_user(session, actor, user_id, body.reason, client_ip(request))


@router.post(
    "/security/users/{user_id:id}/unlock",
    operation_id="unlock_user",
    summary="Lift the lock and the failed-login throttle of an account (secadmin)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, ValidationFailed),
)
def unlock_user(
    user_id: UserId, request: Request, session: SessionDep, actor: SecadminDep
) -> UserSecurityRead:
    return service.unlock_user(session, actor, user_id, client_ip(request))


@router.post(
    "/security/users/{user_id:id}/force-password-change",
    operation_id="force_password_change",
    summary="The user must change the password at the next login; sessions end (secadmin)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, ValidationFailed),
)
def force_password_change(
    user_id: UserId, request: Request, session: SessionDep, actor: SecadminDep
) -> UserSecurityRead:
    return service.force_password_change(session, actor, user_id, client_ip(request))


@router.post(
    "/security/users/{user_id:id}/reset-password",
    operation_id="reset_user_password",
    summary="Set a temporary password, shown once; must be changed at the next login (secadmin)",
    response_model=TemporaryPassword,
    responses=responses(*_auth, UserNotFound, SeparationOfDuties, ValidationFailed),
)
def reset_user_password(
    user_id: UserId, request: Request, session: SessionDep, actor: SecadminDep
) -> TemporaryPassword:
    return service.reset_password(session, actor, user_id, client_ip(request))


@router.post(
    "/security/users/{user_id:id}/mfa/reset",
    operation_id="reset_user_mfa",
    summary="Remove a user's second factor (lost authenticator); they enrol again (secadmin)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, SeparationOfDuties, ValidationFailed),
)
def reset_user_mfa(
    user_id: UserId, request: Request, session: SessionDep, actor: SecadminDep
) -> UserSecurityRead:
    return service.reset_mfa(session, actor, user_id, client_ip(request))


@router.put(
    "/security/users/{user_id:id}/roles",
    operation_id="set_user_roles",
    summary="Grant and withdraw roles (secadmin; never one's own; one admin role per account)",
    response_model=UserSecurityRead,
    responses=responses(*_auth, UserNotFound, SeparationOfDuties, ValidationFailed),
)
def set_user_roles(
    user_id: UserId, body: RolesUpdate, request: Request, session: SessionDep, actor: SecadminDep
) -> UserSecurityRead:
    return service.set_roles(
        session, actor, user_id, [str(r) for r in body.roles], client_ip(request)
    )


@router.get(
    "/security/users/{user_id:id}/sessions",
    operation_id="list_user_sessions",
    summary="A user's active sessions (secadmin)",
    response_model=SessionPage,
    responses=responses(*_auth, UserNotFound, ValidationFailed),
)
def list_user_sessions(user_id: UserId, session: SessionDep, actor: SecadminDep) -> SessionPage:
    items = service.user_sessions(session, user_id)
    return SessionPage(items=items, total=len(items))


@router.post(
    "/security/sessions/{session_id}/end",
    operation_id="end_user_session",
    summary="End a session: its next request answers 401 (secadmin)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*_auth, SessionNotFound, ValidationFailed),
)
def end_user_session(
    session_id: SessionId, request: Request, session: SessionDep, actor: SecadminDep
) -> Response:
    service.end_session(session, actor, session_id, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- logs (审计管理员) ------------------------------------------------------------------------


def _login_filter(
    username: Annotated[str | None, Query(max_length=64)] = None,
    client_ip: Annotated[str | None, Query(max_length=64)] = None,
    success: bool | None = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> logs.LoginLogFilter:
    return logs.LoginLogFilter(username, client_ip, success, reason, since, until)


def _audit_filter(
    event: Annotated[list[SecurityEvent] | None, Query(max_length=30)] = None,
    subject: Annotated[
        str | None, Query(max_length=100, description="Subject name contains")
    ] = None,
    object_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    result: Annotated[str | None, Query(pattern="^(success|failure)$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> logs.AuditFilter:
    return logs.AuditFilter(
        [str(e) for e in event] if event else None, subject, object_id, result, since, until
    )


LoginFilterDep = Annotated[logs.LoginLogFilter, Depends(_login_filter)]
AuditFilterDep = Annotated[logs.AuditFilter, Depends(_audit_filter)]
FormatQuery = Annotated[ExportFormat, Query(description="csv or xlsx")]


@router.get(
    "/security/login-log",
    operation_id="search_login_log",
    summary="The login log (登录日志), newest first (auditor)",
    response_model=LoginLogPage,
    responses=responses(*_auth, ValidationFailed),
)
def search_login_log(
    session: SessionDep, actor: AuditorDep, page: PageDep, flt: LoginFilterDep
) -> LoginLogPage:
    items, total = logs.search_login_log(session, flt, page.limit, page.offset)
    return LoginLogPage(items=items, total=total)


@router.get(
    "/security/login-log/export",
    operation_id="export_login_log",
    summary="Export the login log as CSV or Excel (auditor; the export is audited)",
    response_class=Response,
    responses={**_EXPORT_CONTENT, **responses(*_auth, ValidationFailed)},
)
def export_login_log(
    request: Request,
    session: SessionDep,
    actor: AuditorDep,
    flt: LoginFilterDep,
    format: FormatQuery = "csv",
) -> Response:
    return _file(
        logs.export_login_log(session, actor, flt, format, client_ip(request)), format, "login-log"
    )


@router.get(
    "/security/audit",
    operation_id="search_security_audit",
    summary="The security audit (安全审计), newest first (auditor)",
    response_model=AuditPage,
    responses=responses(*_auth, ValidationFailed),
)
def search_security_audit(
    session: SessionDep, actor: AuditorDep, page: PageDep, flt: AuditFilterDep
) -> AuditPage:
    items, total = logs.search_audit(session, flt, page.limit, page.offset)
    return AuditPage(items=items, total=total)


@router.get(
    "/security/audit/export",
    operation_id="export_security_audit",
    summary="Export the security audit as CSV or Excel (auditor; the export is audited)",
    response_class=Response,
    responses={**_EXPORT_CONTENT, **responses(*_auth, ValidationFailed)},
)
def export_security_audit(
    request: Request,
    session: SessionDep,
    actor: AuditorDep,
    flt: AuditFilterDep,
    format: FormatQuery = "csv",
) -> Response:
    return _file(
        logs.export_audit(session, actor, flt, format, client_ip(request)), format, "security-audit"
    )


@router.get(
    "/security/audit/verify",
    operation_id="verify_audit_chain",
    summary="Check every object's hash chain in the history and the latest checkpoint: what is wrong is named (auditor)",
    response_model=ChainReport,
    responses=responses(*_auth),
)
def verify_audit_chain(session: SessionDep, actor: AuditorDep) -> ChainReport:
    return logs.verify_chain(session)


@router.get(
    "/security/audit/archives",
    operation_id="list_audit_archives",
    summary="Files the old audit entries were archived to (auditor)",
    response_model=ArchivePage,
    responses=responses(*_auth, ValidationFailed),
)
def list_audit_archives(session: SessionDep, actor: AuditorDep, page: PageDep) -> ArchivePage:
    rows, total = logs.list_archives(session, page.limit, page.offset)
    return ArchivePage(items=[ArchiveRead.model_validate(r) for r in rows], total=total)

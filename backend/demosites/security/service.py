"""Security administration rules: self-service (password, TOTP, sessions) and the admins' actions."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from sqlmodel import Session, col, func, select

from demosites.auth import service as auth
from demosites.auth.models import LoginAttempt, UserSession
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.security import verify_password
from demosites.organizations.models import Organization, User, UserRole
from demosites.organizations.service import mask_phone
from demosites.security import duties, passwords, totp
from demosites.security.audit import SecurityEvent, log_event
from demosites.security.errors import (
    InvalidOtp,
    MfaRequiredByPolicy,
    SessionNotFound,
    TotpNotStarted,
    UserNotFound,
    WrongPassword,
)
from demosites.security.models import RecoveryCode, SecuritySetting, UserTotp
from demosites.security.policy import (
    SecurityPolicy,
    SecurityPolicyUpdate,
    get_policy,
    mfa_required_for,
)
from demosites.security.schemas import (
    LastLogin,
    MySecurity,
    RecoveryCodes,
    SessionRead,
    TemporaryPassword,
    TotpSetup,
    UserSecurityRead,
)


def _user(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        raise UserNotFound()
    return user


def _check_current_password(user: User, password: str) -> None:
    if not verify_password(password, user.password_hash):
        raise WrongPassword()


# --- self-service (我的安全设置) -------------------------------------------------------------


def my_security(session: Session, actor: Actor) -> MySecurity:
    user = _user(session, actor.user_id)
    policy = get_policy(session)
    row = session.get(UserSession, actor.session_id) if actor.session_id else None
    before = row.created_at if row else clock.now()
    previous = session.exec(
        select(LoginAttempt)
        .where(LoginAttempt.username == user.username, LoginAttempt.success == True)  # noqa: E712
        .where(LoginAttempt.at < before)
        .order_by(col(LoginAttempt.at).desc(), col(LoginAttempt.id).desc())
        .limit(1)
    ).first()
    failed = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == user.username,
            LoginAttempt.success == False,  # noqa: E712
        )
    )
    if previous is not None:
        failed = failed.where(LoginAttempt.at >= previous.at)
    max_age = policy.password_max_age_days
    return MySecurity(
        username=user.username,
        mfa_enabled=totp.is_enabled(session, user.id or 0),
        mfa_required=mfa_required_for(policy, actor.roles),
        mfa_enrolment_pending=bool(row and row.mfa_enrolment_pending),
        recovery_codes_left=totp.recovery_codes_left(session, user.id or 0),
        password_changed_at=user.password_changed_at,
        password_expires_at=user.password_changed_at + timedelta(days=max_age) if max_age else None,
        must_change_password=user.must_change_password,
        last_login=LastLogin(at=previous.at, client_ip=previous.client_ip) if previous else None,
        failed_attempts_since=int(session.exec(failed).one()),
        password_rules={
            "min_length": policy.password_min_length,
            "min_classes": policy.password_min_classes,
            "history": policy.password_history,
            "max_age_days": policy.password_max_age_days,
        },
    )


def change_password(session: Session, actor: Actor, current: str, new: str, ip: str | None) -> None:
    """Checks the current password and the policy; ends the user's other sessions."""
    user = _user(session, actor.user_id)
    _check_current_password(user, current)
    passwords.set_password(session, user, new, must_change=False)
    ended = auth.revoke_all(session, user.id or 0, "password_changed", keep=actor.session_id)
    log_event(session, SecurityEvent.password_change, actor, object_id=user.id, object_label=user.username,
              ip=ip, other_sessions_ended=ended)  # fmt: skip


def start_totp(session: Session, actor: Actor) -> TotpSetup:
    """A new secret, pending until a code of it is confirmed (an enrolled one keeps working)."""
    user = _user(session, actor.user_id)
    secret = totp.new_secret()
    row = session.get(UserTotp, user.id) or UserTotp(user_id=user.id or 0)
    row.pending_secret_enc = totp.encrypt(secret)
    session.add(row)
    session.flush()
    uri = totp.provisioning_uri(secret, user.username)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg_data_uri(uri))


def confirm_totp(session: Session, actor: Actor, code: str, ip: str | None) -> RecoveryCodes:
    user = _user(session, actor.user_id)
    row = session.get(UserTotp, user.id)
    secret = totp.decrypt(row.pending_secret_enc) if row and row.pending_secret_enc else None
    if row is None or secret is None:
        raise TotpNotStarted()
    step = totp.matching_step(secret, code, None)
    if step is None:
        raise InvalidOtp()
    row.secret_enc, row.pending_secret_enc = row.pending_secret_enc, None
    row.enabled_at = clock.now()
    row.last_used_step = step
    session.add(row)
    # Enrolled: sessions that were restricted to enrolment may now work.
    for s in session.exec(
        select(UserSession).where(
            UserSession.user_id == user.id, col(UserSession.mfa_enrolment_pending).is_(True)
        )
    ):
        s.mfa_enrolment_pending = False
        session.add(s)
    codes = totp.new_recovery_codes(session, user)
    log_event(
        session,
        SecurityEvent.mfa_enabled,
        actor,
        object_id=user.id,
        object_label=user.username,
        ip=ip,
    )
    return RecoveryCodes(recovery_codes=codes)


def disable_totp(session: Session, actor: Actor, password: str, ip: str | None) -> None:
    user = _user(session, actor.user_id)
    _check_current_password(user, password)
    if mfa_required_for(get_policy(session), actor.roles):
        raise MfaRequiredByPolicy()
    _remove_totp(session, user)
    log_event(
        session,
        SecurityEvent.mfa_disabled,
        actor,
        object_id=user.id,
        object_label=user.username,
        ip=ip,
    )


def _remove_totp(session: Session, user: User) -> None:
    row = session.get(UserTotp, user.id)
    if row is not None:
        session.delete(row)
    for code in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(code)
    session.flush()


def regenerate_recovery_codes(
    session: Session, actor: Actor, password: str, ip: str | None
) -> RecoveryCodes:
    user = _user(session, actor.user_id)
    _check_current_password(user, password)
    if not totp.is_enabled(session, user.id or 0):
        raise TotpNotStarted("Enrol TOTP first / 请先绑定动态口令")
    codes = totp.new_recovery_codes(session, user)
    log_event(session, SecurityEvent.recovery_codes_generated, actor, object_id=user.id, ip=ip)
    return RecoveryCodes(recovery_codes=codes)


def _session_read(row: UserSession, current: str | None = None) -> SessionRead:
    return SessionRead(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        idle_expires_at=min(row.expires_at, row.last_seen_at + timedelta(minutes=row.idle_minutes)),
        client_ip=row.client_ip,
        user_agent=row.user_agent,
        current=row.id == current,
    )


def my_sessions(session: Session, actor: Actor) -> list[SessionRead]:
    return [
        _session_read(r, actor.session_id)
        for r in auth.active_sessions(session, actor.user_id or 0)
    ]


def end_my_session(session: Session, actor: Actor, session_id: str, ip: str | None) -> None:
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != actor.user_id or not auth.is_live(row):
        raise SessionNotFound()
    auth.revoke_session(session, row.id, "ended_by_user")
    log_event(
        session, SecurityEvent.session_ended, actor, object_id=actor.user_id, ip=ip, by="user"
    )


# --- administrators (安全管理员 / 系统管理员) ---------------------------------------------------


def list_users_security(
    session: Session, q: str | None, locked: bool | None, limit: int, offset: int
) -> tuple[list[UserSecurityRead], int]:
    stmt = select(User)
    if q:
        stmt = stmt.where(col(User.username).contains(q) | col(User.display_name).contains(q))
    if locked is True:
        stmt = stmt.where(User.locked_at != None)  # noqa: E711
    elif locked is False:
        stmt = stmt.where(User.locked_at == None)  # noqa: E711
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    users = list(session.exec(stmt.order_by(col(User.id)).limit(limit).offset(offset)))
    return _security_reads(session, users), int(total)


def _security_reads(session: Session, users: list[User]) -> list[UserSecurityRead]:
    """Bulk reads (no query per user, except the throttle of users with recent failures)."""
    ids = [u.id or 0 for u in users]
    names = [u.username for u in users]
    roles: dict[int, list[str]] = {i: [] for i in ids}
    sessions: dict[int, int] = dict.fromkeys(ids, 0)
    enabled: set[int] = set()
    last: dict[str, object] = {}
    failing: set[str] = set()
    org_names: dict[int, str] = {}
    if ids:
        org_names = {
            oid or 0: name  # a primary key read back is never None; SQLModel types it Optional
            for oid, name in session.exec(
                select(Organization.id, Organization.name).where(
                    col(Organization.id).in_({u.organization_id for u in users})
                )
            )
        }
        for uid, role in session.exec(
            select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(ids))
        ):
            roles[uid].append(role)
        now = clock.now()
        for row in session.exec(
            select(UserSession)
            .where(col(UserSession.user_id).in_(ids), UserSession.revoked_at == None)  # noqa: E711
            .where(UserSession.expires_at > now)
        ):
            if auth.is_live(row, now):
                sessions[row.user_id] += 1
        enabled = set(
            session.exec(
                select(UserTotp.user_id).where(
                    col(UserTotp.user_id).in_(ids), col(UserTotp.enabled_at).is_not(None)
                )
            )
        )
        last = dict(
            session.exec(
                select(LoginAttempt.username, func.max(LoginAttempt.at))
                .where(col(LoginAttempt.username).in_(names), LoginAttempt.success == True)  # noqa: E712
                .group_by(LoginAttempt.username)
            ).all()
        )
        # Only accounts with a failure inside the throttle's reach can be throttled: one query
        # finds them, and only they get the per-user throttle check.
        failing = set(
            session.exec(
                select(LoginAttempt.username)
                .where(col(LoginAttempt.username).in_(names), LoginAttempt.success == False)  # noqa: E712
                .where(col(LoginAttempt.reason).in_(auth.FAILURE_REASONS))
                .where(LoginAttempt.at >= clock.now() - auth.throttle_reach())
                .distinct()
            ).all()
        )
    out = []
    for u in users:
        out.append(
            UserSecurityRead(
                id=u.id or 0,
                username=u.username,
                display_name=u.display_name,
                organization_id=u.organization_id,
                organization_name=org_names.get(u.organization_id, ""),
                roles=sorted(roles[u.id or 0]),
                is_active=u.is_active,
                phone_masked=mask_phone(u.phone),
                locked=u.locked_at is not None,
                locked_at=u.locked_at,
                locked_reason=u.locked_reason,
                throttled_until=auth.throttled_until(session, u) if u.username in failing else None,
                must_change_password=u.must_change_password,
                password_changed_at=u.password_changed_at,
                mfa_enabled=(u.id or 0) in enabled,
                active_sessions=sessions[u.id or 0],
                last_login_at=last.get(u.username),  # type: ignore[arg-type]
                created_at=u.created_at,
            )
        )
    return out


def user_security(session: Session, user_id: int) -> UserSecurityRead:
    return _security_reads(session, [_user(session, user_id)])[0]


def lock_user(
    session: Session, actor: Actor, user_id: int, reason: str, ip: str | None
) -> UserSecurityRead:
    user = _user(session, user_id)
    if user.id == actor.user_id:
        raise duties.SeparationOfDuties("Nobody locks their own account / 不能锁定自己的账号")
    user.locked_at = clock.now()
    user.locked_reason = reason
    session.add(user)
    ended = auth.revoke_all(session, user.id or 0, "locked")
    log_event(session, SecurityEvent.account_locked, actor, object_id=user.id, object_label=user.username,
              ip=ip, reason=reason, sessions_ended=ended)  # fmt: skip
    return user_security(session, user_id)


def unlock_user(session: Session, actor: Actor, user_id: int, ip: str | None) -> UserSecurityRead:
    """Lifts the administrator's lock and the failed-login throttle of the account."""
    user = _user(session, user_id)
    was_locked = user.locked_at is not None
    was_throttled = auth.throttled_until(session, user) is not None
    user.locked_at = None
    user.locked_reason = None
    user.throttle_reset_at = clock.now()
    session.add(user)
    session.flush()
    log_event(session, SecurityEvent.account_unlocked, actor, object_id=user.id, object_label=user.username,
              ip=ip, was_locked=was_locked, was_throttled=was_throttled)  # fmt: skip
    return user_security(session, user_id)


def force_password_change(
    session: Session, actor: Actor, user_id: int, ip: str | None
) -> UserSecurityRead:
    """The user must change the password at the next login; their sessions end now."""
    user = _user(session, user_id)
    user.must_change_password = True
    session.add(user)
    ended = auth.revoke_all(session, user.id or 0, "password_reset")
    log_event(session, SecurityEvent.password_change_forced, actor, object_id=user.id,
              object_label=user.username, ip=ip, sessions_ended=ended)  # fmt: skip
    return user_security(session, user_id)


def _temporary_password(policy: SecurityPolicy) -> str:
    alphabet = string.ascii_letters + string.digits
    length = max(16, policy.password_min_length)
    while True:
        pw = "T-" + "".join(secrets.choice(alphabet) for _ in range(length - 2))
        if passwords.character_classes(pw) >= policy.password_min_classes:
            return pw


def reset_password(
    session: Session, actor: Actor, user_id: int, ip: str | None
) -> TemporaryPassword:
    """A temporary password shown once; the user must change it at the next login."""
    user = _user(session, user_id)
    if user.id == actor.user_id:
        raise duties.SeparationOfDuties(
            "Change your own password on your security page / 请在个人安全设置中修改自己的口令"
        )
    temp = _temporary_password(get_policy(session))
    passwords.set_password(session, user, temp, must_change=True)
    ended = auth.revoke_all(session, user.id or 0, "password_reset")
    log_event(session, SecurityEvent.password_reset, actor, object_id=user.id, object_label=user.username,
              ip=ip, sessions_ended=ended)  # fmt: skip
    return TemporaryPassword(temporary_password=temp)


def reset_mfa(session: Session, actor: Actor, user_id: int, ip: str | None) -> UserSecurityRead:
    """For a lost authenticator: the user enrols again at the next login."""
    user = _user(session, user_id)
    if user.id == actor.user_id:
        raise duties.SeparationOfDuties("Not on your own account / 不能对自己的账号操作")
    _remove_totp(session, user)
    log_event(
        session,
        SecurityEvent.mfa_reset,
        actor,
        object_id=user.id,
        object_label=user.username,
        ip=ip,
    )
    return user_security(session, user_id)


def set_roles(
    session: Session, actor: Actor, user_id: int, roles: list[str], ip: str | None
) -> UserSecurityRead:
    """Grants and withdraws roles (安全管理员 only); 三员分立 checked; ends the user's sessions."""
    user = _user(session, user_id)
    new = sorted({str(r) for r in roles})
    duties.check_grant(actor, user.id or 0, new)
    old = sorted(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())
    if old == new:
        return user_security(session, user_id)
    for row in session.exec(select(UserRole).where(UserRole.user_id == user.id)):
        if row.role not in new:
            session.delete(row)
    for role in set(new) - set(old):
        session.add(UserRole(user_id=user.id or 0, role=role))
    session.flush()
    # Roles are read at every request, but an open session was granted under the old ones.
    ended = auth.revoke_all(session, user.id or 0, "roles_changed")
    log_event(session, SecurityEvent.role_change, actor, object_id=user.id, object_label=user.username,
              ip=ip, from_roles=old, to_roles=new, sessions_ended=ended)  # fmt: skip
    return user_security(session, user_id)


def user_sessions(session: Session, user_id: int) -> list[SessionRead]:
    _user(session, user_id)
    return [_session_read(r) for r in auth.active_sessions(session, user_id)]


def end_session(session: Session, actor: Actor, session_id: str, ip: str | None) -> None:
    """Ends a user's session: their next request answers 401."""
    row = session.get(UserSession, session_id)
    if row is None or not auth.is_live(row):
        raise SessionNotFound()
    auth.revoke_session(session, row.id, "ended_by_admin")
    user = session.get(User, row.user_id)
    log_event(session, SecurityEvent.session_ended, actor, object_id=row.user_id,
              object_label=user.username if user else None, ip=ip, by="admin")  # fmt: skip


def update_policy(
    session: Session, actor: Actor, changes: SecurityPolicyUpdate, ip: str | None
) -> SecurityPolicy:
    current = get_policy(session)
    given = changes.model_dump(exclude_none=True)
    merged = SecurityPolicy.model_validate({**current.model_dump(), **given})
    diff = {}
    for key in given:
        old = getattr(current, key)
        new = getattr(merged, key)
        if old == new:
            continue
        stored = [str(r) for r in new] if isinstance(new, list) else new
        diff[key] = {"from": [str(r) for r in old] if isinstance(old, list) else old, "to": stored}
        row = session.get(SecuritySetting, key) or SecuritySetting(key=key, value=stored)
        row.value = stored
        row.updated_at = clock.now()
        row.updated_by = actor.username
        session.add(row)
    session.flush()
    if diff:
        log_event(session, SecurityEvent.policy_change, actor, ip=ip, changes=diff)
    return merged

"""Login (with the second step), throttling, the login log and server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from demosites.auth.errors import (
    AccountLocked,
    InvalidCredentials,
    MfaTokenInvalid,
    OtpRejected,
    TooManyAttempts,
)
from demosites.auth.models import LoginAttempt, UserSession
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.security import (
    InvalidToken,
    create_token,
    decode_token,
    new_secret,
    verify_password,
)
from demosites.organizations.models import User, UserRole
from demosites.security import totp
from demosites.security.audit import SecurityEvent, anonymous, log_event
from demosites.security.policy import get_policy, mfa_required_for

MFA_STEP_MINUTES = 5
# Reasons of the login log that count toward the throttle lock.
FAILURE_REASONS = ("bad_credentials", "mfa_failed")


@dataclass
class LoginNotices:
    """What the login page tells the user (上次登录时间 and 失败次数) and where the SPA sends them."""

    previous_login_at: datetime | None = None
    previous_login_ip: str | None = None
    failed_attempts_since: int = 0
    password_change_required: bool = False
    password_expired: bool = False
    mfa_enrolment_required: bool = False
    mfa_enrolment_deadline: datetime | None = None


@dataclass
class LoginOutcome:
    """Either a session (token, row) or, when a second factor is due, an `mfa_token`."""

    user: User
    token: str | None = None
    row: UserSession | None = None
    mfa_token: str | None = None
    notices: LoginNotices = field(default_factory=LoginNotices)


def _locked_until(
    session: Session, column: object, value: str, reset_at: datetime | None = None
) -> float | None:
    """Seconds left of a lock when `value` had max_failures within the window, else None."""
    s = get_settings()
    now = clock.now()
    window = timedelta(minutes=s.login_window_minutes)
    lock = timedelta(minutes=s.login_lock_minutes)
    since = now - window - lock
    if reset_at is not None and reset_at > since:
        since = reset_at
    failures = list(
        session.exec(
            select(LoginAttempt.at)
            .where(column == value, LoginAttempt.success == False, LoginAttempt.at >= since)  # noqa: E712
            .where(col(LoginAttempt.reason).in_(FAILURE_REASONS))
            .order_by(col(LoginAttempt.at))
        )
    )
    n = s.login_max_failures
    # A lock starts at the failure that completes n failures inside one window.
    for i in range(n - 1, len(failures)):
        if failures[i] - failures[i - n + 1] <= window:
            until = failures[i] + lock
            if until > now:
                return (until - now).total_seconds()
    return None


def throttle_reach() -> timedelta:
    """How far back a failure can still count toward a lock that is in force now."""
    s = get_settings()
    return timedelta(minutes=s.login_window_minutes + s.login_lock_minutes)


def throttled_until(session: Session, user: User) -> datetime | None:
    """When the throttle lock of this account ends (None: not throttled) — shown to admins."""
    left = _locked_until(session, LoginAttempt.username, user.username, user.throttle_reset_at)
    return clock.now() + timedelta(seconds=left) if left is not None else None


def _log(
    session: Session, username: str, ip: str | None, ua: str | None, ok: bool, reason: str
) -> None:
    """One row of the login log (登录日志) and, for the security audit, one event."""
    session.add(
        LoginAttempt(
            username=username[:64],
            client_ip=ip,
            user_agent=(ua or "")[:300],
            success=ok,
            reason=reason,
        )
    )
    session.flush()


def _fail(
    session: Session, username: str, ip: str | None, ua: str | None, reason: str, user: User | None
) -> None:
    _log(session, username, ip, ua, False, reason)
    log_event(
        session,
        SecurityEvent.login_failure,
        anonymous(username),
        object_id=user.id if user else None,
        result="failure",
        ip=ip,
        reason=reason,
        user_agent=(ua or "")[:300] or None,
    )


def _check_throttle(
    session: Session, username: str, ip: str | None, ua: str | None, user: User | None
) -> None:
    reset = user.throttle_reset_at if user else None
    for column, value, reset_at in (
        (LoginAttempt.username, username, reset),
        (LoginAttempt.client_ip, ip, None),
    ):
        if value is None:
            continue
        left = _locked_until(session, column, value, reset_at)
        if left is not None:
            _fail(session, username, ip, ua, "locked", user)
            raise TooManyAttempts(retry_after=int(left) + 1)


def authenticate(
    session: Session, username: str, password: str, ip: str | None, ua: str | None
) -> User:
    """Checks the password; throttled per account and per address, silent on who exists."""
    username = username.strip()
    user = session.exec(select(User).where(User.username == username)).first()
    _check_throttle(session, username, ip, ua, user)
    ok = verify_password(password, user.password_hash if user and user.is_active else None)
    if not ok or user is None:
        _fail(session, username, ip, ua, "bad_credentials", user)
        raise InvalidCredentials()
    if user.locked_at is not None:
        # Told only to someone who knows the password: the lock reveals nothing to a guesser.
        _fail(session, username, ip, ua, "account_locked", user)
        raise AccountLocked()
    return user


def login(
    session: Session, username: str, password: str, ip: str | None, ua: str | None
) -> LoginOutcome:
    """First step: the password. Answers a session, or an `mfa_token` when TOTP is enrolled."""
    user = authenticate(session, username, password, ip, ua)
    if totp.is_enabled(session, user.id or 0):
        token, _, _ = create_token(
            str(user.id), lifetime=timedelta(minutes=MFA_STEP_MINUTES), extra={"typ": "mfa"}
        )
        return LoginOutcome(user=user, mfa_token=token)
    return _finish(session, user, ip, ua)


def login_second_step(
    session: Session, mfa_token: str, otp: str, ip: str | None, ua: str | None
) -> LoginOutcome:
    """Second step: the code of the authenticator app (or a recovery code) for `mfa_token`."""
    try:
        claims = decode_token(mfa_token)
    except InvalidToken as exc:
        raise MfaTokenInvalid() from exc
    if claims.get("typ") != "mfa" or not claims["sub"].isdigit():
        raise MfaTokenInvalid()
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise MfaTokenInvalid()
    _check_throttle(session, user.username, ip, ua, user)
    if user.locked_at is not None:
        _fail(session, user.username, ip, ua, "account_locked", user)
        raise AccountLocked()
    if not totp.verify_login_code(session, user, otp[:32]):
        _fail(session, user.username, ip, ua, "mfa_failed", user)
        raise OtpRejected()
    return _finish(session, user, ip, ua, second_factor=True)


def _notices(session: Session, user: User) -> LoginNotices:
    previous = session.exec(
        select(LoginAttempt)
        .where(LoginAttempt.username == user.username, LoginAttempt.success == True)  # noqa: E712
        .order_by(col(LoginAttempt.at).desc(), col(LoginAttempt.id).desc())
        .limit(1)
    ).first()
    failed = select(LoginAttempt.id).where(
        LoginAttempt.username == user.username,
        LoginAttempt.success == False,  # noqa: E712
    )
    if previous is not None:
        failed = failed.where(LoginAttempt.id > (previous.id or 0))  # type: ignore[operator]
    return LoginNotices(
        previous_login_at=previous.at if previous else None,
        previous_login_ip=previous.client_ip if previous else None,
        failed_attempts_since=len(list(session.exec(failed))),
    )


def _finish(
    session: Session, user: User, ip: str | None, ua: str | None, second_factor: bool = False
) -> LoginOutcome:
    """Applies expiry and the second-factor policy, opens the session, logs the success."""
    policy = get_policy(session)
    now = clock.now()
    notices = _notices(session, user)
    max_age = policy.password_max_age_days
    if max_age and now - user.password_changed_at > timedelta(days=max_age):
        notices.password_expired = True
        user.must_change_password = True
        session.add(user)
    notices.password_change_required = user.must_change_password
    roles = set(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())
    pending = False
    if (
        mfa_required_for(policy, roles)
        and not second_factor
        and not totp.is_enabled(session, user.id or 0)
    ):
        notices.mfa_enrolment_required = True
        deadline = user.created_at + timedelta(days=policy.mfa_enrolment_grace_days)
        notices.mfa_enrolment_deadline = deadline
        # Demo mode never forces enrolment, so the demo accounts stay usable by anyone.
        pending = now >= deadline and not get_settings().demo_mode
    token, row = open_session(session, user, ip, ua, mfa_enrolment_pending=pending)
    _log(session, user.username, ip, ua, True, "ok_mfa" if second_factor else "ok")
    log_event(
        session,
        SecurityEvent.login_success,
        anonymous(user.username),
        object_id=user.id,
        ip=ip,
        second_factor=second_factor,
        user_agent=(ua or "")[:300] or None,
    )
    return LoginOutcome(user=user, token=token, row=row, notices=notices)


def open_session(
    session: Session,
    user: User,
    ip: str | None,
    ua: str | None,
    *,
    mfa_enrolment_pending: bool = False,
) -> tuple[str, UserSession]:
    """A server-side session (its id is the token's jti) with the policy's timeouts."""
    policy = get_policy(session)
    if policy.session_single:
        for other in active_sessions(session, user.id or 0):
            revoke_session(session, other.id, "superseded")
    lifetime = timedelta(minutes=policy.session_absolute_minutes)
    token, expires, jti = create_token(str(user.id), lifetime=lifetime)
    row = UserSession(
        id=jti,
        user_id=user.id or 0,
        expires_at=expires,
        csrf_token=new_secret(24),
        client_ip=ip,
        user_agent=(ua or "")[:300],
        idle_minutes=policy.session_idle_minutes,
        mfa_enrolment_pending=mfa_enrolment_pending,
    )
    session.add(row)
    session.flush()
    return token, row


def is_live(row: UserSession, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (
        row.revoked_at is None
        and row.expires_at > now
        and now - row.last_seen_at <= timedelta(minutes=row.idle_minutes)
    )


def active_sessions(session: Session, user_id: int) -> list[UserSession]:
    now = clock.now()
    rows = session.exec(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at == None)  # noqa: E711
        .where(UserSession.expires_at > now)
        .order_by(col(UserSession.created_at).desc())
    )
    return [r for r in rows if is_live(r, now)]


def revoke_session(session: Session, session_id: str, reason: str = "logout") -> bool:
    row = session.get(UserSession, session_id)
    if row and row.revoked_at is None:
        row.revoked_at = clock.now()
        row.revoked_reason = reason
        session.add(row)
        session.flush()
        return True
    return False


def revoke_all(session: Session, user_id: int, reason: str, keep: str | None = None) -> int:
    n = 0
    for row in active_sessions(session, user_id):
        if row.id != keep and revoke_session(session, row.id, reason):
            n += 1
    return n


def logout(session: Session, actor: Actor, ip: str | None) -> None:
    if actor.session_id and revoke_session(session, actor.session_id, "logout"):
        log_event(session, SecurityEvent.logout, actor, object_id=actor.user_id, ip=ip)

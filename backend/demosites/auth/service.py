"""Login, throttling and server-side sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from demosites.auth.errors import InvalidCredentials, TooManyAttempts
from demosites.auth.models import LoginAttempt, UserSession
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.security import create_token, new_secret, verify_password
from demosites.organizations.models import User


def _locked_until(session: Session, column: object, value: str) -> float | None:
    """Seconds left of a lock when `value` had max_failures within the window, else None."""
    s = get_settings()
    now = clock.now()
    window = timedelta(minutes=s.login_window_minutes)
    lock = timedelta(minutes=s.login_lock_minutes)
    since = now - window - lock
    failures = list(
        session.exec(
            select(LoginAttempt.at)
            .where(column == value, LoginAttempt.success == False, LoginAttempt.at >= since)  # noqa: E712
            .where(LoginAttempt.reason != "locked")
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


def _log(session: Session, username: str, ip: str | None, ua: str | None, ok: bool, reason: str) -> None:
    session.add(
        LoginAttempt(
            username=username[:64], client_ip=ip, user_agent=(ua or "")[:300], success=ok, reason=reason
        )
    )
    session.flush()


def authenticate(
    session: Session, username: str, password: str, ip: str | None, ua: str | None
) -> User:
    """Checks the password; throttled per account and per address, silent on who exists."""
    username = username.strip()
    for column, value in ((LoginAttempt.username, username), (LoginAttempt.client_ip, ip)):
        if value is None:
            continue
        left = _locked_until(session, column, value)
        if left is not None:
            _log(session, username, ip, ua, False, "locked")
            raise TooManyAttempts(retry_after=int(left) + 1)
    user = session.exec(select(User).where(User.username == username)).first()
    ok = verify_password(password, user.password_hash if user and user.is_active else None)
    if not ok or user is None:
        _log(session, username, ip, ua, False, "bad_credentials")
        raise InvalidCredentials()
    _log(session, username, ip, ua, True, "ok")
    return user


def open_session(
    session: Session, user: User, ip: str | None, ua: str | None
) -> tuple[str, UserSession]:
    s = get_settings()
    lifetime = timedelta(minutes=s.access_token_minutes)
    token, expires, jti = create_token(str(user.id), lifetime=lifetime)
    row = UserSession(
        id=jti,
        user_id=user.id or 0,
        expires_at=expires,
        csrf_token=new_secret(24),
        client_ip=ip,
        user_agent=(ua or "")[:300],
    )
    session.add(row)
    session.flush()
    return token, row


def revoke_session(session: Session, session_id: str) -> None:
    row = session.get(UserSession, session_id)
    if row and row.revoked_at is None:
        row.revoked_at = clock.now()
        session.add(row)


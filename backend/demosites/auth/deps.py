"""FastAPI dependencies: the request's session, the authenticated actor, and the route class
that claims Idempotency-Keys per caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from demosites.auth.errors import CsrfFailed, MfaEnrolmentRequired, PasswordChangeRequired
from demosites.auth.models import UserSession
from demosites.core import idempotency, ratelimit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.db import get_session
from demosites.core.errors import Forbidden, Unauthenticated
from demosites.core.scopes import InsufficientScope, scope_for
from demosites.core.security import InvalidToken, decode_token
from demosites.organizations.models import Organization, User, UserRole

SESSION_COOKIE = "ds_session"
CSRF_COOKIE = "ds_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LAST_SEEN_STEP = timedelta(seconds=30)

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
_bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/v1/auth/token")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


_SESSION_ACTOR: Select[*tuple[Any, ...]] = (
    sa_select(
        col(UserSession.id).label("session_id"),
        col(UserSession.user_id),
        col(UserSession.last_seen_at),
        col(UserSession.expires_at),
        col(UserSession.revoked_at),
        col(UserSession.idle_minutes),
        col(UserSession.csrf_token),
        col(UserSession.mfa_enrolment_pending),
        col(User.username),
        col(User.display_name),
        col(User.organization_id),
        col(User.is_active),
        col(User.locked_at),
        col(User.must_change_password),
        col(Organization.name).label("org_name"),
        col(Organization.city).label("org_city"),
        col(UserRole.role),
    )
    .join(User, col(User.id) == UserSession.user_id)
    .outerjoin(Organization, col(Organization.id) == User.organization_id)
    .outerjoin(UserRole, col(UserRole.user_id) == User.id)
    .where(col(UserSession.id) == bindparam("jti"))
)


def load_actor(session: Session, user: User, session_id: str | None) -> Actor:
    org = session.get(Organization, user.organization_id)
    roles = session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        organization_id=user.organization_id,
        organization_name=org.name if org else "",
        organization_city=org.city if org else None,
        roles=frozenset(roles),
        session_id=session_id,
    )


def _authenticate(
    request: Request, session: Session, bearer: HTTPAuthorizationCredentials | None
) -> tuple[Actor, str | None]:
    """The caller and the restriction of their session (None, "password_change", "mfa_enrolment")."""
    via_cookie = bearer is None
    token = bearer.credentials if bearer else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated()
    try:
        claims = decode_token(token)
    except InvalidToken as exc:
        raise Unauthenticated("Invalid or expired token / 令牌无效或已过期") from exc
    if claims.get("typ") == "service":
        # Service accounts (integration) register their resolver on app.state.
        resolver: Callable[[Session, dict], Actor] | None = getattr(
            request.app.state, "service_actor_resolver", None
        )
        if resolver is None or via_cookie:
            raise Unauthenticated(
                "Service tokens must be sent as Bearer / 服务令牌须以 Bearer 方式发送"
            )
        actor = resolver(session, claims)
        _remember_for_audit(request, session, actor)
        route = request.scope.get("route")
        needed = scope_for(route) if isinstance(route, APIRoute) else None
        if needed and not actor.allows_scope(needed):
            raise InsufficientScope(
                f"This endpoint needs scope / 此接口需要权限范围: {needed}", scope=needed
            )
        ratelimit.enforce(session, actor)
        return actor, None
    # One statement for the session, its user, organisation and roles (a row per role): this
    # runs on every request, so it is one round trip rather than four.
    rows = session.execute(_SESSION_ACTOR.params(jti=str(claims.get("jti", "")))).all()
    now = clock.now()
    if not rows:
        raise Unauthenticated("Session ended / 会话已结束，请重新登录")
    row = rows[0]
    if row.revoked_at is not None or row.expires_at <= now or str(row.user_id) != claims["sub"]:
        raise Unauthenticated("Session ended / 会话已结束，请重新登录")
    if now - row.last_seen_at > timedelta(minutes=row.idle_minutes):
        raise Unauthenticated(
            "Session timed out after inactivity / 会话因长时间未操作已超时，请重新登录"
        )
    if not row.is_active or row.locked_at is not None:
        raise Unauthenticated()
    actor = Actor(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        organization_id=row.organization_id,
        organization_name=row.org_name or "",
        organization_city=row.org_city,
        roles=frozenset(r.role for r in rows if r.role is not None),
        session_id=row.session_id,
    )
    _remember_for_audit(request, session, actor)
    if via_cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent or sent != row.csrf_token:
            raise CsrfFailed()
    # Refreshed at most every LAST_SEEN_STEP: the idle timeout is exact to within that step.
    if now - row.last_seen_at >= LAST_SEEN_STEP:
        session.execute(
            update(UserSession)
            .where(col(UserSession.id) == row.session_id)
            .values(last_seen_at=now)
        )
    ratelimit.enforce(session, actor)
    if row.must_change_password:
        return actor, "password_change"
    if row.mfa_enrolment_pending:
        return actor, "mfa_enrolment"
    return actor, None


def _remember_for_audit(request: Request, session: Session, actor: Actor) -> None:
    # A refused request is rolled back; the security audit hook still needs who and what.
    session.info["actor"] = actor
    session.info["request"] = {
        "method": request.method,
        "path": request.url.path[:200],
        "ip": client_ip(request) or "",
    }


def get_actor(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from `Authorization: Bearer` (scripts) or the session cookie (the SPA).

    A session that must first change its password or enrol a second factor is refused here
    (403); the few endpoints that do those things use `LimitedActorDep` instead."""
    actor, restriction = _authenticate(request, session, bearer)
    if restriction == "password_change":
        raise PasswordChangeRequired()
    if restriction == "mfa_enrolment":
        raise MfaEnrolmentRequired()
    return actor


def get_limited_actor(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller even when their session is restricted (to /me, password change, enrolment, logout)."""
    actor, restriction = _authenticate(request, session, bearer)
    if restriction:
        return replace(actor, extra={**actor.extra, "restriction": restriction})
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]
LimitedActorDep = Annotated[Actor, Depends(get_limited_actor)]


def require_roles(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency that admits only actors holding one of `roles` (function-level authorisation)."""

    def _check(actor: ActorDep) -> Actor:
        if not actor.has(*roles):
            raise Forbidden(f"Requires role / 需要角色: {', '.join(roles)}")
        return actor

    return _check


async def claim_idempotency_key(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=idempotency.HEADER,
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description=idempotency.HEADER_DESCRIPTION,
        ),
    ] = None,
) -> None:
    """The caller's claim of its Idempotency-Key (core.idempotency keeps claims and answers)."""
    if idempotency_key is not None:
        await idempotency.claim_key(request, session, idempotency.caller_of(actor), idempotency_key)


class IdempotentRoute(idempotency.IdempotentRouteBase):
    """Route class that honours Idempotency-Key on POST, keyed by the authenticated caller."""

    claim = staticmethod(claim_idempotency_key)

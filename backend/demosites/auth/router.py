"""HTTP endpoints of login: OAuth2 password flow for scripts, cookie login for the SPA."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from demosites.auth import service
from demosites.auth.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    SessionDep,
    client_ip,
    load_actor,
)
from demosites.auth.errors import InvalidCredentials, TooManyAttempts, UnsupportedGrant
from demosites.auth.schemas import LoginRequest, LoginResponse, TokenResponse
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.errors import Unauthenticated, ValidationFailed, responses
from demosites.organizations.models import Organization
from demosites.organizations.schemas import Me, MeOrganization

router = APIRouter(prefix="/api/v1", tags=["auth"])


def me_of(session: SessionDep, actor: ActorDep) -> Me:
    org = session.get(Organization, actor.organization_id)
    assert org is not None
    return Me(
        id=actor.user_id or 0,
        username=actor.username,
        display_name=actor.display_name,
        roles=sorted(actor.roles),
        organization=MeOrganization(
            id=org.id or 0, code=org.code, name=org.name, kind=org.kind, city=org.city  # type: ignore[arg-type]
        ),
    )


@router.post(
    "/auth/token",
    operation_id="auth_token",
    summary="Get an access token (OAuth2 password flow)",
    response_model=TokenResponse,
    responses=responses(InvalidCredentials, UnsupportedGrant, TooManyAttempts, ValidationFailed),
)
def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(examples=["password"])] = "password",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
) -> TokenResponse:
    """Scripts and provincial systems send the returned token as `Authorization: Bearer`."""
    if grant_type != "password":
        raise UnsupportedGrant()
    user = service.authenticate(
        session, username, password, client_ip(request), request.headers.get("user-agent")
    )
    tok, row = service.open_session(session, user, client_ip(request), request.headers.get("user-agent"))
    return TokenResponse(
        access_token=tok, expires_in=int((row.expires_at - clock.now()).total_seconds())
    )


@router.post(
    "/auth/login",
    operation_id="auth_login",
    summary="Log in the browser (sets an httpOnly session cookie)",
    response_model=LoginResponse,
    responses=responses(InvalidCredentials, TooManyAttempts, ValidationFailed),
)
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep) -> LoginResponse:
    ip, ua = client_ip(request), request.headers.get("user-agent")
    user = service.authenticate(session, body.username, body.password, ip, ua)
    tok, row = service.open_session(session, user, ip, ua)
    secure = get_settings().cookie_secure
    max_age = int((row.expires_at - clock.now()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, tok, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, row.csrf_token, max_age=max_age, httponly=False, samesite="strict", secure=secure, path="/"
    )
    actor = load_actor(session, user, row.id)
    return LoginResponse(user=me_of(session, actor), csrf_token=row.csrf_token, expires_at=row.expires_at)


@router.post(
    "/auth/logout",
    operation_id="auth_logout",
    summary="End the current session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(Unauthenticated),
)
def logout(actor: ActorDep, session: SessionDep) -> Response:
    if actor.session_id:
        service.revoke_session(session, actor.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get(
    "/me",
    operation_id="me",
    summary="The logged-in user with roles and organisation",
    response_model=Me,
    responses=responses(Unauthenticated),
)
def me(session: SessionDep, actor: ActorDep) -> Me:
    return me_of(session, actor)

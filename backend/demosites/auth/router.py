"""HTTP endpoints of login: OAuth2 password flow for scripts, cookie login for the SPA."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from demosites.auth import service
from demosites.auth.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    LimitedActorDep,
    SessionDep,
    client_ip,
    load_actor,
)
from demosites.auth.errors import (
    AccountLocked,
    InvalidCredentials,
    MfaRequired,
    MfaTokenInvalid,
    OtpRejected,
    TooManyAttempts,
    UnsupportedGrant,
)
from demosites.auth.schemas import (
    LoginMfaRequest,
    LoginNoticesRead,
    LoginRequest,
    LoginResponse,
    MfaChallenge,
    TokenResponse,
)
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.retry import RetryRoute
from demosites.integration import service as integration
from demosites.integration.errors import InvalidClient
from demosites.organizations.models import Organization
from demosites.organizations.schemas import Me, MeOrganization

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=RetryRoute)


def me_of(session: SessionDep, actor: LimitedActorDep) -> Me:
    org = session.get(Organization, actor.organization_id)
    assert org is not None
    return Me(
        id=actor.user_id or 0,
        username=actor.username,
        display_name=actor.display_name,
        roles=sorted(actor.roles),
        organization=MeOrganization(
            id=org.id or 0,
            code=org.code,
            name=org.name,
            kind=org.kind,
            city=org.city,  # type: ignore[arg-type]
        ),
        restriction=actor.extra.get("restriction"),  # type: ignore[arg-type]
    )


def _notices(outcome: service.LoginOutcome) -> LoginNoticesRead:
    return LoginNoticesRead(**asdict(outcome.notices))


@router.post(
    "/auth/token",
    operation_id="auth_token",
    summary="Get an access token (OAuth2 password flow, with a second step for TOTP)",
    response_model=TokenResponse,
    responses=responses(
        InvalidCredentials,
        InvalidClient,
        MfaRequired,
        MfaTokenInvalid,
        OtpRejected,
        AccountLocked,
        UnsupportedGrant,
        TooManyAttempts,
        ValidationFailed,
    ),  # fmt: skip
)
def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(examples=["password"])] = "password",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    mfa_token: Annotated[
        str, Form(max_length=4096, description="Second step: from the mfa_required answer")
    ] = "",
    otp: Annotated[
        str, Form(max_length=32, description="Second step: authenticator or recovery code")
    ] = "",
    client_id: Annotated[
        str, Form(max_length=64, description="client_credentials: the service account")
    ] = "",
    client_secret: Annotated[
        str, Form(max_length=128, description="client_credentials: its secret")
    ] = "",
) -> TokenResponse:
    """Scripts and provincial systems send the returned token as `Authorization: Bearer`.

    When the account has TOTP, the first post (username, password) answers 401 with code
    `mfa_required` and an `mfa_token`; post again with `mfa_token` and `otp` to get the token.

    Service accounts use `grant_type=client_credentials` with `client_id` and `client_secret`:
    the short-lived token carries the account's scopes (no second factor: the secret is one)."""
    if grant_type == "client_credentials":
        tok, lifetime, _ = integration.issue_token(session, client_id, client_secret)
        return TokenResponse(access_token=tok, expires_in=lifetime)
    if grant_type != "password":
        raise UnsupportedGrant()
    ip, ua = client_ip(request), request.headers.get("user-agent")
    if mfa_token:
        outcome = service.login_second_step(session, mfa_token, otp, ip, ua)
    else:
        outcome = service.login(session, username, password, ip, ua)
    if outcome.mfa_token:
        raise MfaRequired(mfa_token=outcome.mfa_token, expires_in=service.MFA_STEP_MINUTES * 60)
    assert outcome.token and outcome.row
    return TokenResponse(
        access_token=outcome.token,
        expires_in=int((outcome.row.expires_at - clock.now()).total_seconds()),
        notices=_notices(outcome),
    )


def _session_response(
    session: SessionDep, response: Response, outcome: service.LoginOutcome
) -> LoginResponse:
    assert outcome.token and outcome.row
    row = outcome.row
    secure = get_settings().cookie_secure
    max_age = int((row.expires_at - clock.now()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        row.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    actor = load_actor(session, outcome.user, row.id)
    restriction = (
        "password_change" if outcome.user.must_change_password
        else "mfa_enrolment" if row.mfa_enrolment_pending else None
    )  # fmt: skip
    if restriction:
        actor = replace(actor, extra={"restriction": restriction})
    return LoginResponse(
        user=me_of(session, actor),
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
        notices=_notices(outcome),
    )


@router.post(
    "/auth/login",
    operation_id="auth_login",
    summary="Log in the browser (sets an httpOnly session cookie, or asks for the second factor)",
    response_model=LoginResponse | MfaChallenge,
    responses=responses(InvalidCredentials, AccountLocked, TooManyAttempts, ValidationFailed),
)
def login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep
) -> LoginResponse | MfaChallenge:
    """Answers `mfa_required: false` with the user (cookie set), or `mfa_required: true` with an
    `mfa_token` to post with the code to `/auth/login/mfa` (no cookie yet)."""
    ip, ua = client_ip(request), request.headers.get("user-agent")
    outcome = service.login(session, body.username, body.password, ip, ua)
    if outcome.mfa_token:
        return MfaChallenge(mfa_token=outcome.mfa_token, expires_in=service.MFA_STEP_MINUTES * 60)
    return _session_response(session, response, outcome)


@router.post(
    "/auth/login/mfa",
    operation_id="auth_login_mfa",
    summary="Second step of the browser login: the authenticator (or recovery) code",
    response_model=LoginResponse,
    responses=responses(
        MfaTokenInvalid, OtpRejected, AccountLocked, TooManyAttempts, ValidationFailed
    ),
)
def login_mfa(
    body: LoginMfaRequest, request: Request, response: Response, session: SessionDep
) -> LoginResponse:
    ip, ua = client_ip(request), request.headers.get("user-agent")
    outcome = service.login_second_step(session, body.mfa_token, body.otp, ip, ua)
    return _session_response(session, response, outcome)


@router.post(
    "/auth/logout",
    operation_id="auth_logout",
    summary="End the current session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(Unauthenticated, Forbidden),
)
def logout(actor: LimitedActorDep, session: SessionDep, request: Request) -> Response:
    service.logout(session, actor, client_ip(request))
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
def me(session: SessionDep, actor: LimitedActorDep) -> Me:
    return me_of(session, actor)

"""HTTP endpoints of login: OAuth2 password flow for scripts, cookie login for the SPA."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from demosites.auth import oauth, service
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
    InvalidRequest,
    MfaRequired,
    MfaTokenInvalid,
    OtpRejected,
    TooManyAttempts,
    UnauthorizedClient,
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
from demosites.integration.errors import InvalidClient, InvalidScope
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


def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[
        str, Form(examples=["password"], description="password or client_credentials")
    ] = "password",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    mfa_token: Annotated[
        str, Form(max_length=4096, description="Second step: from the mfa_required answer")
    ] = "",
    otp: Annotated[
        str, Form(max_length=32, description="Second step: authenticator or recovery code")
    ] = "",
    client_id: Annotated[
        str,
        Form(
            max_length=64,
            description="client_credentials with client_secret_post: the service account",
        ),
    ] = "",
    client_secret: Annotated[
        str, Form(max_length=128, description="client_credentials with client_secret_post")
    ] = "",
    scope: Annotated[
        str,
        Form(
            max_length=2000,
            description="client_credentials: space-separated subset of the account's scopes "
            "(default: all of them)",
        ),
    ] = "",
) -> TokenResponse:
    """Scripts and provincial systems send the returned token as `Authorization: Bearer`.

    People use `grant_type=password` with `username` and `password`. When the account has TOTP,
    the first post answers 400 with `error=mfa_required` and an `mfa_token`; post again with
    `mfa_token` and `otp` to get the token.

    Service accounts use `grant_type=client_credentials` and authenticate with HTTP Basic
    (`client_secret_basic`, RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic) or with
    `client_id` and `client_secret` in the form (`client_secret_post`) — one of them, not both.
    The short-lived token carries the account's scopes (no second factor: the secret is one).

    Every refusal carries RFC 6749's `error` and `error_description` beside the problem fields:
    400 for all but `invalid_client` (401, with `WWW-Authenticate: Basic`) and the login
    throttle (429 `too_many_attempts`, error `invalid_grant`, with `Retry-After`). Answers are
    never cached (`Cache-Control: no-store`)."""
    client = oauth.client_auth(request, client_id, client_secret)
    if grant_type == "client_credentials":
        if client is None:
            raise InvalidClient(
                "Client authentication required / 需要客户端认证 (client_secret_basic or client_secret_post)"
            )
        tok, lifetime, _, granted = integration.issue_token(
            session, client.client_id, client.client_secret, scope
        )
        return TokenResponse(access_token=tok, expires_in=lifetime, scope=" ".join(granted))
    if grant_type != "password":
        raise UnsupportedGrant(
            f"Unsupported grant_type {grant_type[:40]!r}; use password or client_credentials / "
            "不支持的授权类型，请使用 password 或 client_credentials"
        )
    if client is not None:
        # A service account authenticated itself: it exists, but people's grant is not its own.
        integration.authenticate_client(session, client.client_id, client.client_secret)
        raise UnauthorizedClient(
            "Service accounts use grant_type=client_credentials / 服务账号须使用 client_credentials"
        )
    if scope:
        raise InvalidScope(
            "People's tokens carry their roles, not scopes: omit scope / 用户令牌不使用权限范围，请勿传 scope"
        )
    if not mfa_token and not (username and password):
        raise InvalidRequest("username and password are required / 缺少用户名或口令")
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


# Added rather than decorated: the decorator takes no route class, and this route's class makes
# its refusals OAuth2 errors (auth/oauth.py).
router.add_api_route(
    methods=["POST"],
    endpoint=token,
    path="/auth/token",
    operation_id="auth_token",
    summary="Get an access token (OAuth2 password and client_credentials grants, RFC 6749)",
    response_model=TokenResponse,
    responses=oauth.oauth_responses(
        InvalidRequest,
        InvalidCredentials,
        AccountLocked,
        MfaRequired,
        MfaTokenInvalid,
        OtpRejected,
        UnauthorizedClient,
        UnsupportedGrant,
        InvalidScope,
        InvalidClient,
        TooManyAttempts,
    ),  # fmt: skip
    route_class_override=oauth.TokenRoute,
    openapi_extra={"security": [{}, {"clientSecretBasic": []}]},
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

"""The token endpoint's OAuth2 contract (RFC 6749): client authentication, error answers, no-store.

Standard OAuth2 client libraries (Authlib, httpx-oauth, Spring's, .NET's) read a token answer as an
error only when its JSON carries `error`; a problem+json without it is taken for a token. So every
refusal of `POST /api/v1/auth/token` answers both: the RFC's `error` and `error_description`
beside the house's problem fields (type, title, status, detail, code).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from demosites.auth.errors import InvalidRequest
from demosites.core.errors import DomainError, Problem, problem
from demosites.core.retry import RetryRoute
from demosites.integration.errors import InvalidClient

TOKEN_PATH = "/api/v1/auth/token"
REALM = "demosites"
# RFC 6749 §5.1: the token answer, and its errors, must never be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# Our stable codes → the RFC's error codes (§5.2). Throttling keeps its 429 and Retry-After: the
# RFC names no code for it, and a client that backs off on 429 should keep doing so.
OAUTH_ERROR = {
    "invalid_request": "invalid_request",
    "validation_error": "invalid_request",
    "invalid_client": "invalid_client",
    "invalid_credentials": "invalid_grant",
    "account_locked": "invalid_grant",
    "invalid_otp": "invalid_grant",
    "mfa_token_invalid": "invalid_grant",
    "too_many_attempts": "invalid_grant",
    # An extension code (RFC 6749 §8.5), as Auth0 and Okta answer a due second factor.
    "mfa_required": "mfa_required",
    "unauthorized_client": "unauthorized_client",
    "unsupported_grant_type": "unsupported_grant_type",
    "invalid_scope": "invalid_scope",
}


class OAuthProblem(Problem):
    """A refusal of the token endpoint: problem+json plus RFC 6749 §5.2's `error`."""

    error: str = Field(
        examples=["invalid_grant"],
        description="invalid_request, invalid_client, invalid_grant, unauthorized_client, "
        "unsupported_grant_type, invalid_scope, or the extension mfa_required",
    )
    error_description: str = Field(
        examples=["Wrong username or password"], description="English, ASCII only (RFC 6749)"
    )


@dataclass(frozen=True)
class ClientAuth:
    """The credentials a client presented and how (`client_secret_basic` or `_post`)."""

    client_id: str
    client_secret: str
    method: str


def client_auth(request: Request, client_id: str, client_secret: str) -> ClientAuth | None:
    """The client's credentials from HTTP Basic (RFC 6749 §2.3.1: id and secret form-urlencoded,
    then Basic) or from the form; None when the client sent none. One method per request."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        if client_secret:
            return ClientAuth(client_id, client_secret, "client_secret_post")
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("Malformed Basic credentials / Basic 认证信息格式错误") from exc
    if ":" not in decoded:
        raise InvalidClient("Malformed Basic credentials / Basic 认证信息格式错误")
    raw_id, _, raw_secret = decoded.partition(":")
    basic_id, basic_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if client_secret or (client_id and client_id != basic_id):
        raise InvalidRequest(
            "Use one client authentication method: HTTP Basic or client_id/client_secret in the "
            "form / 客户端认证只能使用一种方式：HTTP Basic 或表单中的 client_id/client_secret"
        )
    return ClientAuth(basic_id, basic_secret, "client_secret_basic")


def _ascii_english(text: str) -> str:
    """error_description must be ASCII (RFC 6749 §5.2): the English half of our bilingual text."""
    english = text.split(" / ")[0]
    return "".join(c for c in english if 0x20 <= ord(c) <= 0x7E and c not in '"\\').strip()


def oauth_answer(exc: DomainError) -> Response:
    """The token endpoint's refusal: problem+json with `error`, never cached."""
    error = OAUTH_ERROR.get(exc.code)
    if error is None:
        if exc.status >= 500:
            # Not a refusal of the request: the server's own failure, as everywhere else.
            return problem(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers or None)
        # Refusals the RFC does not name (413 payload_too_large) keep their status.
        error, status = "invalid_request", exc.status
    else:
        status = 401 if error == "invalid_client" else 429 if exc.status == 429 else 400
    headers = {k: v for k, v in exc.headers.items() if k.lower() != "www-authenticate"}
    headers.update(NO_STORE)
    if status == 401:
        # Any 401 must name a scheme; this endpoint's is Basic (RFC 6749 §5.2, RFC 9110 §11.6.1).
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return problem(
        status,
        exc.code,
        exc.title,
        exc.detail,
        headers=headers,
        error=error,
        error_description=_ascii_english(exc.detail) or _ascii_english(exc.title),
        **exc.extra,
    )


def _invalid_request(exc: RequestValidationError | StarletteHTTPException) -> InvalidRequest:
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(
            ".".join(str(p) for p in e.get("loc", ())[1:]) or "body" for e in exc.errors()[:5]
        )
        return InvalidRequest(f"Invalid parameters: {fields} / 参数有误: {fields}")
    return InvalidRequest("The request body could not be parsed / 请求体格式错误，无法解析")


def nul_refusal(loc: list[str]) -> Response:
    """A NUL in a token request (refused before routing, core.inputs.RefuseNul): invalid_request."""
    field = ".".join(loc[1:]) or loc[0]
    return oauth_answer(
        InvalidRequest(f"NUL characters are not allowed: {field} / 不允许包含 NUL 字符: {field}")
    )


class TokenRoute(RetryRoute):
    """The token endpoint's route: its refusals speak OAuth2, every answer is `no-store`. Its unit
    of work is retried like every other (RetryRoute); a refusal is shaped after the last try."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def oauth_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except DomainError as exc:
                response = oauth_answer(exc)
            except (RequestValidationError, StarletteHTTPException) as exc:
                if isinstance(exc, StarletteHTTPException) and exc.status_code != 400:
                    raise
                cause = exc.__cause__
                # One of ours raised while the form was read (the body limit): answer it.
                refusal = cause if isinstance(cause, DomainError) else _invalid_request(exc)
                response = oauth_answer(refusal)
            response.headers.update(NO_STORE)
            return response

        return oauth_handler


def oauth_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of the token endpoint: each error under the status this endpoint gives it."""
    grouped: dict[int, list[str]] = {}
    for err in errors:
        error = OAUTH_ERROR.get(err.code, "invalid_request")
        status = 401 if error == "invalid_client" else 429 if err.status == 429 else 400
        grouped.setdefault(status, []).append(f"{err.code} (error={error})")
    return {
        status: {
            "model": OAuthProblem,
            "description": "problem+json with RFC 6749 `error`; code: " + ", ".join(codes),
        }
        for status, codes in sorted(grouped.items())
    }


def document_security(schema: dict[str, Any], scopes: set[str]) -> None:
    """Declares how callers authenticate: OAuth2 (password for people, client credentials for
    service accounts, whose operations name the scope they need) and the SPA's cookie session
    with its CSRF header on unsafe methods. Written onto every operation that requires a caller
    (those whose dependencies declare the Bearer scheme), as the runtime checks them."""
    from demosites.auth.deps import CSRF_HEADER, SESSION_COOKIE

    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["OAuth2Password"] = {
        "type": "oauth2",
        "description": "People: username and password (and, with TOTP, a second step).",
        "flows": {"password": {"tokenUrl": TOKEN_PATH, "scopes": {}}},
    }
    schemes["OAuth2ClientCredentials"] = {
        "type": "oauth2",
        "description": "Service accounts (client_secret_basic or client_secret_post); the token "
        "carries the account's scopes, or the subset asked for with `scope`.",
        "flows": {
            "clientCredentials": {
                "tokenUrl": TOKEN_PATH,
                "scopes": {
                    s: f"{s.split(':')[1]} access to {s.split(':')[0]}" for s in sorted(scopes)
                },
            }
        },
    }
    schemes["clientSecretBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "Service accounts at the token endpoint: client_id and client_secret, "
        "each form-urlencoded, as Basic user and password (RFC 6749 §2.3.1).",
    }
    schemes["sessionCookie"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The SPA's session, set by POST /api/v1/auth/login (httpOnly, SameSite=Strict).",
    }
    schemes["csrfHeader"] = {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "With the session cookie, on every method but GET/HEAD/OPTIONS: the "
        "csrf_token of the login answer.",
    }
    # Malformed token requests answer 400 invalid_request, never the house's 422.
    schema.get("paths", {}).get(TOKEN_PATH, {}).get("post", {}).get("responses", {}).pop(
        "422", None
    )
    for ops in schema.get("paths", {}).values():
        for method, op in ops.items():
            if not any("HTTPBearer" in req for req in op.get("security", [])):
                continue
            scope = op.get("x-required-scope")
            cookie: dict[str, list[str]] = {"sessionCookie": []}
            if method.upper() not in ("GET", "HEAD", "OPTIONS"):
                cookie["csrfHeader"] = []
            op["security"] = [
                {"OAuth2Password": []},
                {"OAuth2ClientCredentials": [scope] if scope else []},
                {"HTTPBearer": []},
                cookie,
            ]

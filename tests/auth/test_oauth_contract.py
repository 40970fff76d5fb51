"""The token endpoint as standard OAuth2 clients see it (RFC 6749): Authlib and httpx-oauth obtain
tokens with both grants and both client authentication methods, and take refusals for errors."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from fastapi.testclient import TestClient
from httpx_oauth.oauth2 import GetAccessTokenError, OAuth2, RefreshTokenError
from sqlmodel import Session

from tests import factories as f

BASE = "http://testserver"
TOKEN_URL = BASE + "/api/v1/auth/token"


def _account(client: TestClient, session: Session, scopes: list[str]) -> tuple[str, str]:
    admin = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    r = client.post(
        "/api/v1/service-accounts",
        json={
            "name": "省级数据共享平台",
            "organization_id": f.org(session, "office").id,
            "scopes": scopes,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return r.json()["account"]["client_id"], r.json()["client_secret"]


@pytest.fixture
def authlib_client(client: TestClient) -> Iterator[Any]:
    """Authlib's httpx OAuth2 client talking to the app through the TestClient's transport."""

    def make(**kwargs: Any) -> OAuth2Client:
        return OAuth2Client(transport=client._transport, base_url=BASE, **kwargs)

    yield make


def _is_error(r: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    body = r.json()
    assert body["error"] == error and body["status"] == status
    assert body["error_description"].isascii() and body["error_description"]
    for key in ("type", "title", "detail", "code"):
        assert body[key], key
    return body


# --- Authlib -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_gets_a_client_credentials_token_and_calls_the_api_with_it(
    session: Session, client: TestClient, authlib_client: Any, method: str
) -> None:
    cid, secret = _account(client, session, ["events:read"])
    oauth = authlib_client(client_id=cid, client_secret=secret, token_endpoint_auth_method=method)
    token = oauth.fetch_token(TOKEN_URL, grant_type="client_credentials")
    assert token["token_type"] == "bearer" and token["scope"] == "events:read"
    assert oauth.get("/api/v1/events").status_code == 200
    assert oauth.get("/api/v1/webhooks").status_code == 403  # beyond its scope


def test_authlib_gets_a_password_token_and_calls_the_api_with_it(
    session: Session, client: TestClient, authlib_client: Any
) -> None:
    f.user(session, ["office"], "office", username="script_user")
    oauth = authlib_client()
    token = oauth.fetch_token(TOKEN_URL, username="script_user", password=f.PASSWORD)
    assert token["access_token"] and token["expires_in"] > 0
    assert oauth.get("/api/v1/me").json()["username"] == "script_user"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username": "script_user", "password": "wrong"}, "invalid_grant"),
        ({"username": "nobody", "password": "wrong"}, "invalid_grant"),
        (
            {"grant_type": "authorization_code", "code": "x", "redirect_uri": "http://a/"},
            "unsupported_grant_type",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "x"}, "unsupported_grant_type"),
        (
            {"username": "script_user", "password": f.PASSWORD, "scope": "events:read"},
            "invalid_scope",
        ),
        ({"grant_type": "password", "username": "x" * 65, "password": "p"}, "invalid_request"),
        ({"grant_type": "password"}, "invalid_request"),
    ],
)
def test_authlib_sees_refused_password_grants_as_errors(
    session: Session, client: TestClient, authlib_client: Any, kwargs: dict[str, str], error: str
) -> None:
    f.user(session, ["office"], "office", username="script_user")
    oauth = authlib_client()
    with pytest.raises(OAuthError) as raised:
        oauth.fetch_token(TOKEN_URL, **kwargs)
    assert raised.value.error == error
    assert oauth.token is None


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_sees_a_wrong_secret_or_unknown_client_as_invalid_client(
    session: Session, client: TestClient, authlib_client: Any, method: str
) -> None:
    cid, _ = _account(client, session, ["events:read"])
    for client_id in (cid, "sa_unknown"):
        oauth = authlib_client(
            client_id=client_id, client_secret="wrong", token_endpoint_auth_method=method
        )
        with pytest.raises(OAuthError) as raised:
            oauth.fetch_token(TOKEN_URL, grant_type="client_credentials")
        assert raised.value.error == "invalid_client"


def test_authlib_sees_an_ungranted_scope_as_invalid_scope(
    session: Session, client: TestClient, authlib_client: Any
) -> None:
    cid, secret = _account(client, session, ["events:read", "applications:read"])
    oauth = authlib_client(client_id=cid, client_secret=secret)
    with pytest.raises(OAuthError) as raised:
        oauth.fetch_token(TOKEN_URL, grant_type="client_credentials", scope="webhooks:write")
    assert raised.value.error == "invalid_scope"
    narrowed = oauth.fetch_token(TOKEN_URL, grant_type="client_credentials", scope="events:read")
    assert narrowed["scope"] == "events:read"
    assert oauth.get("/api/v1/events").status_code == 200
    assert oauth.get("/api/v1/applications").status_code == 403  # held, but not asked for


def test_a_service_account_may_not_use_the_password_grant(
    session: Session, client: TestClient, authlib_client: Any
) -> None:
    f.user(session, ["office"], "office", username="script_user")
    cid, secret = _account(client, session, ["events:read"])
    oauth = authlib_client(client_id=cid, client_secret=secret)
    with pytest.raises(OAuthError) as raised:
        oauth.fetch_token(TOKEN_URL, username="script_user", password=f.PASSWORD)
    assert raised.value.error == "unauthorized_client"


# --- the wire, as RFC 6749 writes it ------------------------------------------------------------


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_basic_credentials_are_form_urlencoded_before_base64(
    session: Session, client: TestClient
) -> None:
    cid, secret = _account(client, session, ["events:read"])
    # RFC 6749 §2.3.1: a client encodes id and secret first; token_urlsafe secrets survive it.
    r = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(cid, secret)
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    assert r.json()["token_type"] == "bearer"


def test_wrong_basic_secret_is_401_invalid_client_with_a_basic_challenge(
    session: Session, client: TestClient
) -> None:
    cid, _ = _account(client, session, ["events:read"])
    r = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(cid, "bad+/%")
    )
    body = _is_error(r, 401, "invalid_client")
    assert body["code"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith('Basic realm="demosites"')
    garbled = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!"}
    )
    _is_error(garbled, 401, "invalid_client")


def test_two_client_authentication_methods_at_once_are_invalid_request(
    session: Session, client: TestClient
) -> None:
    cid, secret = _account(client, session, ["events:read"])
    r = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        headers=_basic(cid, secret),
    )
    _is_error(r, 400, "invalid_request")


def test_client_credentials_without_client_authentication_is_invalid_client(
    client: TestClient,
) -> None:
    r = client.post(TOKEN_URL, data={"grant_type": "client_credentials"})
    _is_error(r, 401, "invalid_client")


def test_a_wrong_password_keeps_the_problem_fields_beside_the_oauth_error(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="real_user")
    body = _is_error(
        client.post(TOKEN_URL, data={"username": "real_user", "password": "nope"}),
        400,
        "invalid_grant",
    )
    assert body["code"] == "invalid_credentials"
    assert body["title"] == "Wrong username or password / 用户名或密码错误"
    assert body["error_description"] == "Wrong username or password"
    assert body["type"].endswith("/invalid_credentials")


def test_the_login_throttle_still_answers_429_with_retry_after_and_an_oauth_error(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="victim")
    for i in range(10):
        _is_error(
            client.post(TOKEN_URL, data={"username": "victim", "password": f"bad{i}"}),
            400,
            "invalid_grant",
        )
    r = client.post(TOKEN_URL, data={"username": "victim", "password": f.PASSWORD})
    body = _is_error(r, 429, "invalid_grant")
    assert body["code"] == "too_many_attempts" and 0 < int(r.headers["retry-after"]) <= 15 * 60


def test_a_nul_byte_in_the_token_form_is_invalid_request(client: TestClient) -> None:
    r = client.post(TOKEN_URL, data={"username": "a\x00b", "password": "x"})
    _is_error(r, 400, "invalid_request")


# --- httpx-oauth --------------------------------------------------------------------------------


class _AppOAuth2(OAuth2):  # type: ignore[type-arg]
    """httpx-oauth's generic client, its HTTP client pointed at the app."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(
            authorize_endpoint=BASE + "/authorize",
            access_token_endpoint=TOKEN_URL,
            refresh_token_endpoint=TOKEN_URL,
            **kwargs,
        )
        self._app = app

    def get_httpx_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app), base_url=BASE)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_httpx_oauth_sees_grants_the_server_does_not_support_as_errors(
    session: Session, client: TestClient, app: Any, method: str
) -> None:
    cid, secret = _account(client, session, ["events:read"])
    oauth = _AppOAuth2(app, client_id=cid, client_secret=secret, token_endpoint_auth_method=method)

    async def run() -> None:
        with pytest.raises(GetAccessTokenError):
            await oauth.get_access_token("some-code", "http://localhost/callback")
        with pytest.raises(RefreshTokenError):
            await oauth.refresh_token("some-refresh-token")

    asyncio.run(run())


def test_an_oversized_token_request_is_413_with_an_oauth_error(client: TestClient) -> None:
    big = {"username": "u", "password": "x" * (2 * 1024 * 1024)}
    body = _is_error(client.post(TOKEN_URL, data=big), 413, "invalid_request")
    assert body["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to refuse up front
        yield b"grant_type=password&username=u&password="
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post(
        TOKEN_URL, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    _is_error(streamed, 413, "invalid_request")

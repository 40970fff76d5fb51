"""Authlib against a live server over real HTTP, as a provincial system would call the token
endpoint: both grants and both client authentication methods, and refusals raised as errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.core.actor import SYSTEM
from demosites.integration import service
from demosites.organizations.service import get_org_by_code
from tests import factories as f
from tests.conftest import LIVE_APP_ORIGINS
from tests.faults.live import LiveServer


def test_authlib_over_http_gets_tokens_with_both_grants_and_sees_refusals_as_errors(
    fresh_engine: Engine,
) -> None:
    with Session(fresh_engine) as s:
        office = get_org_by_code(s, "office")
        assert office
        account, secret = service.create_service_account(
            s, SYSTEM, "省级数据共享平台", office.id or 0, ["events:read"], ["office"]
        )
        f.user(s, ["office"], "office", username="live_script")
        s.commit()
        client_id = account.client_id
    url = fresh_engine.url.render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(url, Path(tmp) / "uploads").start()
        LIVE_APP_ORIGINS.add(server.base_url)
        token_url = server.base_url + "/api/v1/auth/token"
        try:
            for method in ("client_secret_basic", "client_secret_post"):
                with OAuth2Client(
                    client_id, secret, token_endpoint_auth_method=method, base_url=server.base_url
                ) as oauth:
                    token = oauth.fetch_token(token_url, grant_type="client_credentials")
                    assert token["scope"] == "events:read"
                    assert oauth.get("/api/v1/events").status_code == 200
                with OAuth2Client(
                    client_id, "wrong", token_endpoint_auth_method=method, base_url=server.base_url
                ) as oauth, pytest.raises(OAuthError) as raised:  # fmt: skip
                    oauth.fetch_token(token_url, grant_type="client_credentials")
                assert raised.value.error == "invalid_client"
            with OAuth2Client(base_url=server.base_url) as oauth:
                oauth.fetch_token(token_url, username="live_script", password=f.PASSWORD)
                me = oauth.get("/api/v1/me")
                assert me.json()["username"] == "live_script"
                with pytest.raises(OAuthError) as raised:
                    oauth.fetch_token(token_url, username="live_script", password="wrong")
                assert raised.value.error == "invalid_grant"
                raw = httpx.post(token_url, data={"grant_type": "implicit"})
                assert raw.status_code == 400 and raw.json()["error"] == "unsupported_grant_type"
                assert raw.headers["cache-control"] == "no-store"
        finally:
            LIVE_APP_ORIGINS.discard(server.base_url)
            server.kill()

"""The suite's own guard: every 4xx/5xx of the app, from any client, must be problem+json without
a traceback or SQL (tests/conftest.py checks each response; this proves the check is armed)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from tests import conftest


def _bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> PlainTextResponse:
        return PlainTextResponse(
            'Traceback (most recent call last):\n  File "/x.py"', status_code=500
        )

    return app


def test_a_test_client_made_anywhere_is_checked() -> None:
    with TestClient(_bare_app()) as client, pytest.raises(AssertionError, match="problem"):
        client.get("/boom")


def test_a_live_server_of_the_app_is_checked_once_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def plain_500(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="Internal Server Error")

    origin = "http://127.0.0.1:65001"
    with httpx.Client(transport=httpx.MockTransport(plain_500), base_url=origin) as http:
        assert http.get("/x").status_code == 500  # someone else's server: left alone
        monkeypatch.setattr(conftest, "LIVE_APP_ORIGINS", {origin})
        with pytest.raises(AssertionError, match="problem"):
            http.get("/x")


def test_the_apps_own_answers_are_recognised_by_its_headers() -> None:
    def ours(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404, json={"detail": "Not Found"},
            headers={"content-security-policy": "default-src 'self'; frame-ancestors 'none'"},
        )  # fmt: skip

    transport = httpx.MockTransport(ours)
    with (
        httpx.Client(transport=transport, base_url="http://10.0.0.1:8000") as http,
        pytest.raises(AssertionError, match="problem"),
    ):
        http.get("/api/v1/nothing")


def test_the_real_app_passes_its_own_check(client: TestClient) -> None:
    for method, url in [("GET", "/api/v1/nowhere"), ("GET", "/api/v1/me"), ("DELETE", "/api/v1/me"),
                        ("POST", "/api/v1/auth/login")]:  # fmt: skip
        assert client.request(method, url).status_code >= 400

"""Paths that are neither the API nor a page of the SPA answer 404 problem+json, not index.html;
`/openapi.json` (FastAPI's usual place) is sent on to `/api/v1/openapi.json` with 308."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demosites import main
from demosites.main import create_app
from tests.conftest import make_client


@pytest.fixture
def spa_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    (tmp_path / "index.html").write_text("<!doctype html><title>SPA</title>", encoding="utf-8")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    monkeypatch.setattr(main, "SPA_DIR", tmp_path)
    return make_client(create_app())


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_openapi_json_at_the_root_redirects_to_the_api_document(
    spa_client: TestClient, method: str
) -> None:
    r = spa_client.request(method, "/openapi.json", follow_redirects=False)
    assert r.status_code == 308
    assert r.headers["location"] == "/api/v1/openapi.json"
    followed = spa_client.get("/openapi.json")
    assert followed.status_code == 200 and followed.json()["openapi"].startswith("3.")


@pytest.mark.parametrize(
    "path",
    [
        "/openapi.yaml",
        "/swagger.json",
        "/api-docs.json",
        "/v1/openapi.json",
        "/robots.txt",
        "/favicon.png",
        "/applications/12/form.pdf",
        "/assets/missing.js",
        "/.env",
        "/api/openapi.json",
        "/api/v1/no-such-thing",
        "/api/v1/openapi.yaml",
    ],
)
def test_unknown_files_and_api_paths_are_404_problem_not_the_spa(
    spa_client: TestClient, path: str
) -> None:
    r = spa_client.get(path)
    assert r.status_code == 404, (path, r.text[:100])
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found"
    assert "<title>SPA</title>" not in r.text
    assert spa_client.head(path).status_code == 404


def test_pages_and_built_files_are_still_served(spa_client: TestClient) -> None:
    for path in (
        "/",
        "/rounds",
        "/applications/12/history",
        "/public/plaques/皖思政示范〔2024〕001号",
    ):
        r = spa_client.get(path)
        assert r.status_code == 200 and "<title>SPA</title>" in r.text, path
    assert spa_client.get("/assets/app.js").text == "console.log(1)"
    assert spa_client.get("/favicon.ico").status_code == 200
    assert spa_client.get("/api/v1/openapi.json").status_code == 200


def test_without_a_built_spa_the_redirect_and_the_404s_are_the_same(client: TestClient) -> None:
    r = client.get("/openapi.json", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/api/v1/openapi.json"
    assert client.get("/swagger.json").status_code == 404

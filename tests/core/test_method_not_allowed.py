"""A known API path called with a method it lacks answers 405 with `Allow`; an unknown one 404;
HEAD of a GET route answers like the GET; other paths still get the SPA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites import main
from demosites.main import create_app
from tests import factories as f
from tests.conftest import _APP, make_client
from tests.proof.routes import app_routes


def _allow(r: object) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")}  # type: ignore[attr-defined]


def _is_405(r: object) -> bool:
    return r.status_code == 405 and r.json()["code"] == "method_not_allowed"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/rounds", {"GET", "HEAD", "POST"}),  # a collection
        ("PUT", "/api/v1/rounds/7", {"GET", "HEAD", "PATCH"}),  # an item, by id
        ("DELETE", "/api/v1/ledger/entries/3/attachments", {"GET", "HEAD", "POST"}),  # nested
        ("GET", "/api/v1/auth/login", {"POST"}),  # no GET: no HEAD either
        ("OPTIONS", "/api/v1/rounds", {"GET", "HEAD", "POST"}),  # the app answers no OPTIONS
    ],
)
def test_a_known_path_with_a_method_it_lacks_is_405_with_allow(
    client: TestClient, method: str, path: str, allow: set[str]
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "method_not_allowed"
    assert body["title"] == "Method not allowed / 不支持该请求方法"
    assert _allow(r) == allow


def test_every_api_path_lists_its_methods_in_allow(client: TestClient) -> None:
    declared: dict[str, set[str]] = {}
    for key in app_routes(_APP):
        method, path = key.split(" ", 1)
        declared.setdefault(path, set()).add(method)
    assert len(declared) > 50
    for path, methods in declared.items():
        url = re.sub(r"\{\w+(?::\w+)?\}", "1", path)
        # A method no route has: "1" may fill a parameter of another pattern too
        # (/webhooks/allowed-hosts is also /webhooks/{webhook_id}), whose methods it then takes.
        r = client.request("TRACE", url)
        assert _is_405(r), (url, r.status_code)
        assert methods <= _allow(r) and "TRACE" not in _allow(r), (url, r.headers["allow"])
        assert ("HEAD" in _allow(r)) == ("GET" in _allow(r)), url


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/no-such-thing"),
        ("DELETE", "/api/v1/no-such-thing"),
        ("HEAD", "/api/v1/no-such-thing"),
        ("POST", "/api/v1/rounds/7/no-such-thing"),
        ("GET", "/api/v1/rounds/"),  # no trailing-slash twin
        ("PATCH", "/api/v2/rounds"),
    ],
)
def test_an_unknown_api_path_is_404_whatever_the_method(
    client: TestClient, method: str, path: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "allow" not in r.headers
    if method != "HEAD":
        assert r.json()["code"] == "not_found"


def test_head_of_a_get_route_answers_like_the_get_without_a_body(
    session: Session, client: TestClient
) -> None:
    assert client.head("/api/v1/rounds").status_code == 401  # not logged in, as for GET
    headers = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    got = client.get("/api/v1/rounds", headers=headers)
    head = client.head("/api/v1/rounds", headers=headers)
    assert got.status_code == head.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))
    assert head.content == b""


@pytest.fixture
def spa_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    (tmp_path / "index.html").write_text("<!doctype html><title>SPA</title>", encoding="utf-8")
    monkeypatch.setattr(main, "SPA_DIR", tmp_path)
    return make_client(create_app())


def test_pages_of_the_spa_are_still_served_index_html(spa_client: TestClient) -> None:
    for path in ("/", "/rounds", "/applications/12/history"):
        r = spa_client.get(path)
        assert r.status_code == 200 and "<title>SPA</title>" in r.text, path
    assert spa_client.head("/rounds").status_code == 200
    # An API path is never the SPA, whatever the method.
    for method in ("GET", "HEAD", "DELETE"):
        r = spa_client.request(method, "/api/v1/no-such-thing")
        assert r.status_code == 404, method


def test_a_write_to_an_spa_page_is_405_problem(spa_client: TestClient) -> None:
    r = spa_client.post("/rounds")
    assert _is_405(r)
    assert r.json()["title"] == "Method not allowed / 不支持该请求方法"
    assert _allow(r) == {"GET", "HEAD"}

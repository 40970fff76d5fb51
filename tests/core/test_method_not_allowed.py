"""A known API path called with a method it lacks answers 405 with `Allow`; an unknown one 404;
HEAD of a GET route answers like the GET; other paths still get the SPA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites import main
from demosites.core.scopes import api_routes
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
        r = client.request("TRACE", url)  # a method no route has
        assert _is_405(r), (url, r.status_code)
        expected = methods | ({"HEAD"} if "GET" in methods else set())
        assert _allow(r) == expected, (url, r.headers["allow"])


def _example_url(path: str, op: dict) -> str:  # type: ignore[type-arg]
    """The path with each parameter filled by a value of its declared type."""
    kinds = {
        p["name"]: p["schema"].get("type") for p in op.get("parameters", []) if p["in"] == "path"
    }
    return re.sub(r"\{(\w+)\}", lambda m: "1" if kinds.get(m.group(1)) == "integer" else "x1", path)


def test_every_method_a_documented_path_lacks_is_405_with_exactly_its_methods(
    client: TestClient,
) -> None:
    """Literal paths beside `{id}` ones (applications/transitions, ledger/entries/bulk …) must
    not fall into the `{id}` route (422 for a non-integer id) nor borrow its methods in `Allow`."""
    doc = _APP.openapi()
    wrong = []
    walked = 0
    for path, ops in doc["paths"].items():
        declared = {m.upper() for m in ops}
        allow = declared | ({"HEAD"} if "GET" in declared else set())
        url = _example_url(path, next(iter(ops.values())))
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} - allow):
            walked += 1
            r = client.request(method, url)
            if r.status_code != 405 or not r.headers["content-type"].startswith(
                "application/problem+json"
            ):
                wrong.append((method, url, r.status_code))
            elif _allow(r) != allow:
                wrong.append((method, url, r.headers["allow"], sorted(allow)))
    assert wrong == [], "\n".join(map(str, wrong))
    assert walked > 200


@pytest.mark.parametrize(
    ("template", "url"),
    [
        ("/api/v1/applications/forms.zip", None),
        ("/api/v1/applications/transitions", None),
        ("/api/v1/applications/export.xlsx", None),
        ("/api/v1/rounds/{round_id}/quotas/export.xlsx", "/api/v1/rounds/1/quotas/export.xlsx"),
        ("/api/v1/ledger/entries/bulk", None),
        ("/api/v1/applicants/import", None),
        ("/api/v1/sites/certificates.pdf", None),
        ("/api/v1/webhooks/allowed-hosts", None),
    ],
)
def test_literal_paths_beside_an_id_route_are_405_not_422(
    client: TestClient, template: str, url: str | None
) -> None:
    declared = {m.upper() for m in _APP.openapi()["paths"][template]}
    allow = declared | ({"HEAD"} if "GET" in declared else set())
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allow):
        r = client.request(method, url or template)
        assert _is_405(r), (method, r.status_code, r.text[:200])
        assert _allow(r) == allow, method


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


def test_every_integer_path_parameter_is_constrained_to_digits() -> None:
    """`{id:id}` (core.IdConvertor) keeps a literal sibling (`/applications/transitions`) out of the `{id}` route:
    a new route with a bare `{id}` would bring the 422-instead-of-405 back."""
    loose = []
    for route in api_routes(_APP):
        for param in route.dependant.path_params:
            if param.field_info.annotation is int and f"{{{param.name}:id}}" not in route.path:
                loose.append((route.path, param.name))
    assert loose == []

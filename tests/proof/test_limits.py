"""Limits and hostile values: oversized uploads and bodies (413, nothing left behind), page sizes
over the maximum, NUL bytes and out-of-range integers in path, query and body (422, on
PostgreSQL too, never 500). Walked over every route of the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from demosites.core.config import get_settings
from demosites.files.models import StoredFile
from demosites.files.service import upload_root
from tests.conftest import _APP
from tests.proof.routes import ROUTES, app_routes, request_kwargs, url_for
from tests.proof.world import ROLES, World, requests_in_rollback

HUGE = 2**63  # beyond BIGINT: what a careless int column lets through to the database
MB = 1024 * 1024
SPEC = _APP.openapi()


def _caller(key: str) -> str | None:
    roles = ROUTES[key].roles
    return next((r for r in ROLES if r in roles), None)


def _operation(key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    return SPEC["paths"][path][method.lower()]  # type: ignore[no-any-return]


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a (possibly nullable) schema allows."""
    if "anyOf" in schema:
        return set().union(*(_types(s) for s in schema["anyOf"]))
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _types(SPEC["components"]["schemas"][name])
    if "enum" in schema:
        return {"enum"}
    return {schema.get("type", "object")}


def _maximum(schema: dict[str, Any]) -> int | None:
    found = [s.get("maximum") for s in schema.get("anyOf", [schema])]
    return next((int(m) for m in found if m is not None), None)


def _body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    ref = content["application/json"]["schema"].get("$ref")
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else None


@pytest.fixture
def kept(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Any]]:
    """A client whose requests' commits stay visible on the connection until the test ends."""
    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 0)
    with requests_in_rollback(world.engine, keep=True) as conn, TestClient(_APP) as client:
        yield client, conn


def _files() -> set[Path]:
    return {p for p in upload_root().rglob("*") if p.is_file()}


UPLOADS = {
    # route → who may upload there in the world
    "POST /api/v1/applications/{application_id}/materials": "recommender",
    "POST /api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence": "site_people",
    "POST /api/v1/ledger/entries/{entry_id}/attachments": "unit",
    "POST /api/v1/ledger/plans/{plan_id}/import": "unit",
    "POST /api/v1/applicants/import": "office",
}


def test_every_upload_route_is_listed_here() -> None:
    multipart = {
        key
        for key in app_routes(_APP)
        if "multipart/form-data" in _operation(key).get("requestBody", {}).get("content", {})
    }
    assert multipart == set(UPLOADS)


@pytest.mark.parametrize("key", sorted(UPLOADS))
def test_an_upload_over_the_limit_answers_413_and_leaves_no_file_or_row(
    world: World, kept: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    client, conn = kept
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    rows = conn.execute(select(func.count()).select_from(StoredFile)).scalar_one()
    files = _files()
    url = url_for(key.split(" ", 1)[1], world)
    headers = world.as_(UPLOADS[key])
    data = request_kwargs(key, world).get("data", {})
    for size in (MB + 1, 3 * MB):  # over the limit; over the limit of the whole body too
        big = b"%PDF-1.4\n" + b"0" * (size - 9)
        r = client.post(
            url, headers=headers, data=data, files={"file": ("big.pdf", big, "application/pdf")}
        )
        assert r.status_code == 413, (key, size, r.status_code, r.text[:200])
        assert r.json()["code"] == "payload_too_large"
    assert conn.execute(select(func.count()).select_from(StoredFile)).scalar_one() == rows
    assert _files() == files


def test_a_json_body_over_one_mebibyte_answers_413_with_or_without_a_length(
    world: World, world_client: TestClient
) -> None:
    body = b'{"name": "' + b"x" * MB + b'"}'
    url = f"/api/v1/applications/{world.ids['application']}"
    headers = {**world.as_("recommender"), "Content-Type": "application/json"}
    declared = world_client.patch(url, headers=headers, content=body)
    chunked = world_client.patch(
        url, headers=headers, content=iter([body[: MB // 2], body[MB // 2 :]])
    )
    for r in (declared, chunked):
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_a_page_size_over_the_maximum_answers_422_on_every_list(
    world: World, world_client: TestClient
) -> None:
    wrong = []
    lists = 0
    for key in app_routes(_APP):
        query = {
            p["name"]: p["schema"]
            for p in _operation(key).get("parameters", [])
            if p["in"] == "query"
        }
        if "limit" not in query:
            continue
        lists += 1
        top = query["limit"]["maximum"]
        assert top <= 1000, key  # a page is bounded (200 for PageDep lists)
        tries: list[dict[str, Any]] = [{"limit": top + 1}, {"limit": 0}, {"limit": HUGE}]
        if "offset" in query:
            tries += [{"offset": -1}, {"offset": HUGE}]
        url = url_for(key.split(" ", 1)[1], world)
        for params in tries:
            r = world_client.get(url, params=params, headers=world.as_(_caller(key)))
            if r.status_code != 422:
                wrong.append((key, params, r.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    assert lists >= 20


def _hostile_requests(w: World) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(route, what is hostile, url, request kwargs) for every parameter and body field."""
    for key in app_routes(_APP):
        method, path = key.split(" ", 1)
        op = _operation(key)
        base = request_kwargs(key, w)
        for p in op.get("parameters", []):
            kinds = _types(p["schema"])
            bad: list[Any] = []
            if "integer" in kinds:
                top = _maximum(p["schema"])
                bad = [HUGE, -(2**63) - 1] + ([top + 1] if top is not None else [])
            elif "string" in kinds:
                bad = ["a\x00b"]
            for value in bad:
                if p["in"] == "path":
                    raw = quote(str(value), safe="")  # "%00": a URL cannot carry the byte itself
                    yield (
                        key,
                        f"path {p['name']}={value!r}",
                        url_for(path, w, {p["name"]: raw}),
                        base,
                    )
                elif p["in"] == "query":
                    yield (
                        key,
                        f"query {p['name']}={value!r}",
                        url_for(path, w),
                        {**base, "params": {**base.get("params", {}), p["name"]: value}},
                    )
        schema = _body_schema(op)
        if schema is None:
            continue
        for name, prop in schema.get("properties", {}).items():
            kinds = _types(prop)
            value: Any = HUGE if "integer" in kinds else "a\x00b" if "string" in kinds else None
            if value is None:
                continue
            body = {**(base.get("json") or {}), name: value}
            yield key, f"body {name}={value!r}", url_for(path, w), {"json": body}


def test_nul_bytes_and_out_of_range_integers_answer_422_everywhere(
    world: World, world_client: TestClient
) -> None:
    wrong = []
    sent = 0
    for key, what, url, kwargs in _hostile_requests(world):
        method = key.split(" ", 1)[0]
        r = world_client.request(method, url, headers=world.as_(_caller(key)), **kwargs)
        sent += 1
        # The token endpoint refuses as OAuth2 clients expect (RFC 6749 §5.2): 400 invalid_request.
        expected = 400 if key == "POST /api/v1/auth/token" else 422
        if r.status_code != expected:
            wrong.append((key, what, r.status_code, r.text[:160]))
        elif "\x00" in what and not what.startswith("path"):
            # The NUL refusal names the field, as a validation error does.
            where, name = what.split(" ", 1)[0], what.split(" ", 1)[1].split("=", 1)[0]
            body = r.json()
            if expected == 422 and body["errors"][0]["loc"] != [where, name]:
                wrong.append((key, what, "loc", body["errors"][0]["loc"]))
            if expected == 400 and name not in body["detail"]:
                wrong.append((key, what, "detail", body["detail"]))
    assert wrong == [], "\n".join(map(str, wrong))
    assert sent > 300

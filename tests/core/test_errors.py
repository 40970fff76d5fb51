"""Every error is problem+json with a stable code; health reports the database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories as f


def test_unknown_api_route_is_problem_404(client: TestClient) -> None:
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found"


def test_missing_login_is_problem_401(client: TestClient) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_role_is_problem_403(session: Session, client: TestClient) -> None:
    headers = f.bearer(session, f.user(session, ["recommender"], "hefei"))
    r = client.get("/api/v1/users", headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_validation_error_lists_the_failing_fields(session: Session, client: TestClient) -> None:
    headers = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    r = client.post("/api/v1/users", json={"username": "x", "roles": ["no-such-role"]}, headers=headers)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    failing = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "display_name") in failing
    assert ("body", "password") in failing
    assert ("body", "roles", "0") in failing


def test_json_body_over_one_mebibyte_is_413(session: Session, client: TestClient) -> None:
    headers = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    big = "x" * (1024 * 1024 + 10)
    r = client.post("/api/v1/organizations", content=f'{{"name": "{big}"}}', headers={**headers, "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_health_reports_the_database(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(client: TestClient) -> None:
    from demosites.core import db as core_db
    from demosites.core.db import make_engine

    previous = core_db._engine
    core_db.set_engine(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        r = client.get("/healthz")
    finally:
        core_db.set_engine(previous)
    assert r.status_code == 503 and r.json()["code"] == "service_unavailable"

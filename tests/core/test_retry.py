"""A request the database rolls back as a lost race (deadlock 40P01, serialisation failure 40001)
runs again whole — session, authentication, idempotency claim, handler, commit — with the same
body, a bounded number of times; after the last, 503 retry_later with Retry-After. Never a 500,
never "the database is unreachable".

The deadlocks are real: two requests lock two rows in opposite order on PostgreSQL, through
test-only routes built from the same route classes and session dependency as the API's."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import psycopg.errors
import pytest
from fastapi import APIRouter, FastAPI, File, Form, UploadFile
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep
from demosites.core.config import get_settings
from demosites.core.db import get_session
from demosites.core.retry import RetryRoute
from demosites.main import create_app
from tests import factories as f
from tests.conftest import make_client

attempts: Counter[str] = Counter()
both_hold_one = threading.Barrier(2, timeout=30)


class Pair(BaseModel):
    name: str
    first: int
    second: int


def _lock_both(session: Session, pair: Pair) -> int:
    """Locks `first`, waits (on the first attempt) until the other request holds its first row,
    then locks `second`: two requests with opposite orders deadlock."""
    attempts[pair.name] += 1
    lock = text("SELECT id FROM race_pair WHERE id = :id FOR UPDATE")
    session.execute(lock, {"id": pair.first})
    if attempts[pair.name] == 1:
        both_hold_one.wait()
    session.execute(lock, {"id": pair.second})
    session.execute(
        text("UPDATE race_pair SET writes = writes + 1 WHERE id IN (:a, :b)"),
        {"a": pair.first, "b": pair.second},
    )
    return attempts[pair.name]


retrying_router = APIRouter(prefix="/test-only", route_class=RetryRoute)
idempotent_router = APIRouter(prefix="/test-only", route_class=IdempotentRoute)


@retrying_router.post("/lock-pair")
def lock_pair(pair: Pair, session: SessionDep) -> dict[str, Any]:
    return {"name": pair.name, "attempts": _lock_both(session, pair)}


@idempotent_router.post("/lock-pair-and-note")
def lock_pair_and_note(pair: Pair, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    tries = _lock_both(session, pair)
    note = session.execute(
        text("INSERT INTO race_note (name) VALUES (:name) RETURNING id"), {"name": pair.name}
    ).scalar_one()
    return {"name": pair.name, "attempts": tries, "note": note}


@retrying_router.post("/lost-race-once")
async def lost_race_once(
    session: SessionDep,
    name: Annotated[str, Form()],
    upload: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Writes, then (first attempt only) fails as PostgreSQL fails the loser of a deadlock."""
    attempts[name] += 1
    content = await upload.read()
    session.execute(text("INSERT INTO race_note (name) VALUES (:name)"), {"name": name})
    if attempts[name] == 1:
        raise DBAPIError.instance(
            "UPDATE …", {}, psycopg.errors.DeadlockDetected("deadlock detected"), psycopg.Error
        )
    return {"attempts": attempts[name], "size": len(content), "head": content[:5].decode()}


def _app() -> FastAPI:
    app = create_app()
    app.include_router(retrying_router)
    app.include_router(idempotent_router)
    return app


@pytest.fixture
def race_client(fresh_engine: Engine) -> Iterator[TestClient]:
    with fresh_engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE race_pair (id int PRIMARY KEY, writes int NOT NULL DEFAULT 0)")
        )
        conn.execute(text("INSERT INTO race_pair (id) VALUES (1), (2)"))
        serial = "serial" if fresh_engine.dialect.name == "postgresql" else "integer"
        conn.execute(text(f"CREATE TABLE race_note (id {serial} PRIMARY KEY, name text NOT NULL)"))
    attempts.clear()
    both_hold_one.reset()
    with make_client(_app()) as c:
        yield c


def _pg(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "deadlocks need row locks (PostgreSQL); SQLite writers queue on BEGIN IMMEDIATE"
        )


def _opposite_orders(c: TestClient, path: str, headers: dict[str, str] | None = None) -> list[Any]:
    bodies = [{"name": "a", "first": 1, "second": 2}, {"name": "b", "first": 2, "second": 1}]

    def send(body: dict[str, Any]) -> Any:
        h = dict(headers or {})
        if "Idempotency-Key" in h:
            h["Idempotency-Key"] += body["name"]
        return c.post(path, json=body, headers=h)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(send, bodies))


def _writes(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT writes FROM race_pair ORDER BY id")).scalars())


def test_two_requests_that_deadlock_both_succeed_and_the_loser_ran_again(
    fresh_engine: Engine, race_client: TestClient
) -> None:
    _pg(fresh_engine)
    answers = _opposite_orders(race_client, "/test-only/lock-pair")
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["attempts"] for a in answers) == [1, 2], "one of them lost the deadlock"
    # Each request's writes were committed exactly once: the loser's first try left nothing.
    assert _writes(fresh_engine) == [2, 2]


def test_a_deadlock_that_outlasts_the_retries_answers_503_retry_later_with_retry_after(
    fresh_engine: Engine, race_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pg(fresh_engine)
    monkeypatch.setattr(get_settings(), "database_retry_attempts", 1)
    answers = sorted(
        _opposite_orders(race_client, "/test-only/lock-pair"), key=lambda a: a.status_code
    )
    assert [a.status_code for a in answers] == [200, 503], [a.text for a in answers]
    refused = answers[1]
    body = refused.json()
    assert body["code"] == "retry_later" and refused.headers["Retry-After"].isdigit()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "请" in body["detail"] and "again" in body["detail"]
    assert "unreachable" not in refused.text
    assert _writes(fresh_engine) == [1, 1], "the refused request changed nothing"


def test_an_idempotent_post_that_lost_a_deadlock_is_applied_once_and_replays(
    fresh_engine: Engine, race_client: TestClient
) -> None:
    _pg(fresh_engine)
    with Session(fresh_engine) as s:
        headers = {**f.bearer(s, f.user(s, ["office"], "office")), "Idempotency-Key": "pair-"}
        s.commit()
    answers = _opposite_orders(race_client, "/test-only/lock-pair-and-note", headers)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["attempts"] for a in answers) == [1, 2]
    with fresh_engine.connect() as conn:
        notes = conn.execute(text("SELECT name FROM race_note ORDER BY name")).scalars().all()
        keys = conn.execute(text("SELECT key FROM idempotency_key ORDER BY key")).scalars().all()
    assert notes == ["a", "b"] and keys == ["pair-a", "pair-b"]
    # The same key and body again: the first answer, replayed, nothing written.
    again = race_client.post(
        "/test-only/lock-pair-and-note",
        json={"name": "b", "first": 2, "second": 1},
        headers={**headers, "Idempotency-Key": "pair-b"},
    )
    original = next(a for a in answers if a.json()["name"] == "b")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == original.json()
    assert _writes(fresh_engine) == [2, 2]


def test_a_request_rolled_back_as_a_lost_race_runs_again_whole_with_the_same_body(
    fresh_engine: Engine, race_client: TestClient
) -> None:
    upload = b"%PDF-retried body " + bytes(range(256)) * 64
    r = race_client.post(
        "/test-only/lost-race-once",
        data={"name": "once"},
        files={"upload": ("材料.pdf", upload, "application/pdf")},
    )
    assert r.status_code == 200, r.text
    # The second attempt read the same upload from its start, and only its row was committed.
    assert r.json() == {"attempts": 2, "size": len(upload), "head": "%PDF-"}
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM race_note")).scalar_one() == 1


def test_every_route_that_opens_a_session_retries_its_unit_of_work() -> None:
    def uses_session(dependant: Any) -> bool:
        return any(
            d.call is get_session or uses_session(d) for d in getattr(dependant, "dependencies", [])
        )

    missing = []
    for ctx in iter_route_contexts(create_app().routes):
        route = ctx.original_route
        dependant = getattr(route, "dependant", None)
        if dependant is not None and uses_session(dependant) and not isinstance(route, RetryRoute):
            missing.append(f"{sorted(ctx.methods or [])} {ctx.path}")
    assert missing == [], "give these routers route_class=RetryRoute (core/retry.py)"

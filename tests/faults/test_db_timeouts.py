"""PostgreSQL time limits: every connection carries statement, lock and idle-in-transaction
timeouts (set by the app, not by the server's defaults), TCP keepalives and a user timeout; a
statement or lock wait past its limit answers 503 retry_later; and a database that goes silent —
a proxy that keeps the connections open and forwards nothing — makes /healthz and ordinary
requests answer 503 within seconds instead of never."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from demosites.auth.deps import SessionDep
from demosites.core import db as core_db
from demosites.core import health
from demosites.core.config import Settings, get_settings
from demosites.core.dbfailures import DbFailure, classify
from demosites.core.retry import RetryRoute
from demosites.main import create_app
from tests import factories as f
from tests.conftest import assert_problem, make_client
from tests.faults.live import LiveServer, PgProxy
from tests.waiting import eventually

GENEROUS = 60  # seconds: a bound on waiting for an answer, not a measure of how fast it comes


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL time limits (TEST_DATABASE_URL)")
    fresh: Engine = request.getfixturevalue("fresh_engine")
    return fresh


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _via(proxy: PgProxy, engine: Engine) -> str:
    return (
        make_url(_url(engine))
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )


def _show(conn: Any, name: str) -> str:
    return str(conn.execute(text(f"SHOW {name}")).scalar_one())


def test_new_connections_carry_the_configured_time_limits(pg_engine: Engine) -> None:
    engine = core_db.make_engine(_url(pg_engine))
    try:
        with engine.connect() as conn:
            assert _show(conn, "statement_timeout") == "30s"
            assert _show(conn, "lock_timeout") == "10s"
            assert _show(conn, "idle_in_transaction_session_timeout") == "2min"
            params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert params["connect_timeout"] == "3"
            assert params["keepalives"] == "1"
            assert (
                params["keepalives_idle"],
                params["keepalives_interval"],
                params["keepalives_count"],
            ) == ("10", "3", "3")
            assert params["tcp_user_timeout"] == "10000"
            assert "options" not in params, "no startup options: PgBouncer would refuse them"
            conn.rollback()
            # The limits are the session's, not the transaction's: they outlive a rollback.
            assert _show(conn, "statement_timeout") == "30s"
    finally:
        engine.dispose()


def test_migrations_and_maintenance_lift_only_the_statement_timeout(pg_engine: Engine) -> None:
    engine = core_db.make_engine(_url(pg_engine), long_statements=True)
    try:
        with engine.connect() as conn:
            assert _show(conn, "statement_timeout") == "0"
            assert _show(conn, "lock_timeout") == "10s"
    finally:
        engine.dispose()


def test_session_timeouts_can_be_left_to_the_role_behind_a_transaction_pooler(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "database_session_timeouts", False)
    engine = core_db.make_engine(_url(pg_engine))
    try:
        with engine.connect() as conn:
            assert _show(conn, "statement_timeout") == "0"  # the server's default: no SET sent
    finally:
        engine.dispose()


def test_an_answer_timeout_not_longer_than_the_statement_timeout_is_refused() -> None:
    with pytest.raises(ValidationError, match="DATABASE_ANSWER_TIMEOUT_SECONDS"):
        Settings(database_statement_timeout_seconds=30, database_answer_timeout_seconds=30)
    assert Settings(database_statement_timeout_seconds=0).database_answer_deadline is None


# -- a statement or a lock wait past its limit -------------------------------------------------

slow_router = APIRouter(prefix="/test-only", route_class=RetryRoute)


@slow_router.post("/slow-statement")
def slow_statement(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT pg_sleep(10)"))
    return {"slept": "yes"}


@slow_router.post("/locked-row")
def locked_row(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT id FROM race_pair WHERE id = 1 FOR UPDATE"))
    return {"locked": "yes"}


@pytest.fixture
def short_limits_client(pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    s = get_settings()
    monkeypatch.setattr(s, "database_statement_timeout_seconds", 0.5)
    monkeypatch.setattr(s, "database_lock_timeout_seconds", 0.2)
    monkeypatch.setattr(s, "database_answer_timeout_seconds", 5)
    with pg_engine.begin() as conn:
        conn.execute(text("CREATE TABLE race_pair (id int PRIMARY KEY)"))
        conn.execute(text("INSERT INTO race_pair VALUES (1)"))
    engine = core_db.make_engine(_url(pg_engine))
    core_db.set_engine(engine)  # the fresh_engine fixture puts its previous engine back
    app = create_app()
    app.include_router(slow_router)
    try:
        with make_client(app) as c:
            yield c
    finally:
        engine.dispose()


def test_a_statement_past_the_statement_timeout_answers_503_retry_later(
    short_limits_client: TestClient,
) -> None:
    r = short_limits_client.post("/test-only/slow-statement")
    assert r.status_code == 503 and r.json()["code"] == "retry_later", r.text
    assert r.headers["Retry-After"] == "5" and "unreachable" not in r.text


def test_a_lock_held_past_the_lock_timeout_answers_503_retry_later(
    pg_engine: Engine, short_limits_client: TestClient
) -> None:
    with pg_engine.connect() as holder:
        holder.execute(text("SELECT id FROM race_pair WHERE id = 1 FOR UPDATE"))
        r = short_limits_client.post("/test-only/locked-row")
        holder.rollback()
    assert r.status_code == 503 and r.json()["code"] == "retry_later", r.text
    assert r.headers["Retry-After"] == "2" and "unreachable" not in r.text
    assert short_limits_client.post("/test-only/locked-row").status_code == 200


# -- a database that goes silent ---------------------------------------------------------------


def _bounded(call: Any, what: str) -> Any:
    """Runs `call` in a thread and waits for it GENEROUS seconds at most."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(GENEROUS)
    assert not t.is_alive(), f"{what} still waiting after {GENEROUS} s: it would wait forever"
    return outcome


def test_the_client_drops_a_connection_whose_server_never_answers(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "database_statement_timeout_seconds", 1)
    monkeypatch.setattr(get_settings(), "database_answer_timeout_seconds", 2)
    proxy = PgProxy("127.0.0.1", make_url(_url(pg_engine)).port or 5432)
    engine = core_db.make_engine(_via(proxy, pg_engine))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            proxy.blackhole()
            outcome = _bounded(lambda: conn.execute(text("SELECT 1")), "a query to a silent server")
        error = outcome.get("error")
        assert isinstance(error, OperationalError), outcome
        assert error.connection_invalidated and classify(error) is DbFailure.connection_lost
    finally:
        engine.dispose()
        proxy.close()


def test_healthz_answers_503_within_its_own_timeout_whatever_the_connection_does(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No answer deadline on the connection: only the health check's own bound can answer.
    monkeypatch.setattr(get_settings(), "database_answer_timeout_seconds", 0)
    monkeypatch.setattr(get_settings(), "health_timeout_seconds", 1)
    monkeypatch.setattr(health, "_probe", health._Probe())  # a stuck check stays this test's
    proxy = PgProxy("127.0.0.1", make_url(_url(pg_engine)).port or 5432)
    engine = core_db.make_engine(_via(proxy, pg_engine))
    core_db.set_engine(engine)  # the fresh_engine fixture puts its previous engine back
    try:
        with make_client(create_app()) as client:
            assert client.get("/healthz").status_code == 200
            proxy.blackhole()
            outcome = _bounded(lambda: client.get("/healthz"), "GET /healthz")
            again = _bounded(lambda: client.get("/healthz"), "GET /healthz while a check hangs")
        for answer in (outcome.get("value"), again.get("value")):
            assert answer is not None and answer.status_code == 503, (outcome, again)
            assert answer.json()["database"] == "unreachable"
    finally:
        proxy.close()  # the hanging check gets its connection closed and ends
        engine.dispose()


def test_a_silent_database_answers_503_within_seconds_and_service_resumes(
    pg_engine: Engine, tmp_path: Path
) -> None:
    with Session(pg_engine) as s:
        headers = f.bearer(s, f.user(s, ["office"], "office"))
        s.commit()
    proxy = PgProxy("127.0.0.1", make_url(_url(pg_engine)).port or 5432)
    server = LiveServer(
        _via(proxy, pg_engine),
        tmp_path / "uploads",
        DATABASE_STATEMENT_TIMEOUT_SECONDS="2",
        DATABASE_ANSWER_TIMEOUT_SECONDS="4",
        DATABASE_CONNECT_TIMEOUT_SECONDS="2",
        HEALTH_TIMEOUT_SECONDS="2",
    ).start()
    try:
        with server.client(timeout=GENEROUS, event_hooks={"response": [assert_problem]}) as c:
            for _ in range(3):  # pooled connections exist when the database goes silent
                assert c.get("/api/v1/me", headers=headers).status_code == 200
            proxy.blackhole()
            # The ordinary request first: it takes a pooled connection, whose ping gets no answer
            # (a new connection would fail on its own, by the connect timeout).
            for what, call in (
                (
                    "GET /api/v1/applications",
                    lambda: c.get("/api/v1/applications", headers=headers),
                ),
                ("GET /healthz", lambda: c.get("/healthz")),
                ("HEAD /healthz", lambda: c.head("/healthz")),
            ):
                try:
                    r = call()
                except httpx.TimeoutException as exc:
                    raise AssertionError(f"{what} gave no answer within {GENEROUS} s") from exc
                assert r.status_code == 503, (what, r.status_code, r.text[:300])
                if r.request.method != "HEAD":
                    assert r.json()["code"] == "service_unavailable" and r.headers["Retry-After"]

            proxy.heal()
            eventually(
                lambda: c.get("/healthz").status_code == 200,
                "the service resuming after the silence",
                every=0.2,
            )
            assert c.get("/api/v1/me", headers=headers).status_code == 200
    finally:
        server.stop()
        proxy.close()

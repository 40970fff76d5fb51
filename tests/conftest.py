"""Test harness: one migrated database per backend per run, a rolled-back transaction per test.

Every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_TMP = Path(tempfile.mkdtemp(prefix="demosites-test-"))
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": f"sqlite:///{_TMP / 'unused.db'}",
        "UPLOAD_DIR": str(_TMP / "uploads"),
        "PASSWORD_HASH_FAST": "1",
        "DEMO_MODE": "0",
        "ALLOW_CLOCK_OVERRIDE": "1",
    }
)

import httpx  # noqa: E402
import pytest  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from demosites.core import db as core_db  # noqa: E402
from demosites.core import ratelimit  # noqa: E402
from demosites.core.clock import clock  # noqa: E402
from demosites.core.config import ROOT  # noqa: E402
from demosites.core.db import get_session, make_engine, unit_of_work  # noqa: E402
from demosites.main import create_app  # noqa: E402
from demosites.organizations.service import seed_fixed_organizations  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "Test-password-123"


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


def new_database_url(backend: str) -> tuple[str, Callable[[], None]]:
    """A brand-new empty database of `backend`, and how to drop it."""
    if backend == "sqlite":
        path = _TMP / f"{uuid.uuid4().hex}.db"
        return f"sqlite:///{path}", lambda: None
    assert PG_URL
    name = f"dstest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop() -> None:
        eng = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), drop


def migrated_engine(backend: str) -> tuple[Engine, Callable[[], None]]:
    url, drop = new_database_url(backend)
    command.upgrade(alembic_config(url), "heads")
    engine = make_engine(url)
    with Session(engine) as s:
        seed_fixed_organizations(s)
        s.commit()

    def cleanup() -> None:
        engine.dispose()
        drop()

    return engine, cleanup


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The run's migrated database of one backend (shared by all tests of that backend)."""
    eng, cleanup = migrated_engine(request.param)
    yield eng
    cleanup()


@pytest.fixture
def fresh_engine(engine: Engine) -> Iterator[Engine]:
    """A separate migrated database whose commits are real (concurrency tests)."""
    eng, cleanup = migrated_engine(engine.dialect.name)
    previous = core_db._engine
    core_db.set_engine(eng)
    yield eng
    core_db.set_engine(previous)
    cleanup()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    previous = core_db._engine
    core_db.set_engine(engine)
    ratelimit.reset_local()
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        conn.close()
        core_db.set_engine(previous)
        clock.set(None)
        ratelimit.reset_local()


_APP = create_app()


def assert_problem(response: httpx.Response) -> None:
    """Every 4xx/5xx of the suite must be problem+json without a traceback or SQL."""
    if response.status_code < 400:
        return
    response.read()
    ctype = response.headers.get("content-type", "")
    assert ctype.startswith("application/problem+json"), (response.status_code, ctype, response.text[:300])
    if response.request.method == "HEAD":
        return  # the headers of the GET's answer, without its body
    body = response.json()
    for key in ("type", "title", "status", "code"):
        assert key in body, body
    lowered = response.text.lower()
    for leak in ("traceback", "sqlalchemy", "psycopg", "select ", "insert into", 'file "/'):
        assert leak not in lowered, response.text[:500]


# Every response of the app is checked, whoever made the client: TestClients built inside a test,
# and httpx clients talking to a live server of the app (uvicorn in a thread or a process) —
# add its origin ("http://127.0.0.1:8765") to LIVE_APP_ORIGINS, or let the app's own security
# headers mark its answers. Other servers (webhook receivers) are left alone.
LIVE_APP_ORIGINS: set[str] = set()
_httpx_send = httpx.Client.send


def _is_app_response(request: httpx.Request, response: httpx.Response) -> bool:
    origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
    return (
        request.url.host == "testserver"
        or origin in LIVE_APP_ORIGINS
        or "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    )


def _checked_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
    response = _httpx_send(self, request, **kwargs)
    if response.status_code >= 400 and _is_app_response(request, response):
        assert_problem(response)
    return response


httpx.Client.send = _checked_send  # type: ignore[method-assign]


def make_client(app: Any = None) -> TestClient:
    c = TestClient(app or _APP, raise_server_exceptions=False)
    c.event_hooks = {"request": [], "response": [assert_problem]}
    return c


@pytest.fixture
def app(session: Session) -> Iterator[Any]:
    def _session_override() -> Iterator[Session]:
        with unit_of_work(session):
            yield session

    _APP.dependency_overrides[get_session] = _session_override
    yield _APP
    _APP.dependency_overrides.clear()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with make_client(app) as c:
        yield c


@pytest.fixture
def live_client(fresh_engine: Engine) -> Iterator[TestClient]:
    """A client whose requests commit for real into `fresh_engine` (no shared test session)."""
    _APP.dependency_overrides.clear()
    with make_client(_APP) as c:
        yield c


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("passed", []):
        for backend in ("sqlite", "postgresql"):
            if f"[{backend}" in report.nodeid or f"-{backend}" in report.nodeid:
                counts[backend] = counts.get(backend, 0) + 1
    if counts:
        terminalreporter.write_line(
            "database tests passed per backend: "
            + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )

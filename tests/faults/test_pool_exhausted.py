"""When every pooled database connection stays busy past the pool timeout, a request answers 503
problem+json with Retry-After within that timeout (it used to be a 500 after 30 s)."""

from __future__ import annotations

import time

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from demosites.core import db as core_db
from tests.conftest import _APP, make_client


def test_an_exhausted_pool_answers_503_quickly(engine: Engine) -> None:
    tiny = create_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    previous = core_db._engine
    core_db.set_engine(tiny)
    held = tiny.connect()  # the only connection, kept busy
    try:
        _APP.dependency_overrides.clear()
        with make_client(_APP) as c:
            started = time.monotonic()
            r = c.get("/api/v1/public/sites")
            took = time.monotonic() - started
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable", r.text
        assert r.headers["Retry-After"] == "5" and took < 3, took
    finally:
        held.close()
        tiny.dispose()
        core_db.set_engine(previous)

"""When every pooled database connection stays busy past the pool timeout, a request answers 503
problem+json with Retry-After (it used to be a 500 after 30 s) instead of waiting for a connection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer

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
        with make_client(_APP) as c, ThreadPoolExecutor(1) as pool:
            asked = pool.submit(c.get, "/api/v1/public/sites")
            try:
                # A generous bound (the pool timeout is 0.5 s): unanswered after a minute, it waits
                # for the held connection, which is never returned while the request waits.
                r = asked.result(timeout=60)
            except NoAnswer:
                held.close()  # lets the stuck request finish so the test can end
                raise AssertionError(
                    "the request waited for a pooled connection instead of 503"
                ) from None
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable", r.text
        assert r.headers["Retry-After"] == "5"
    finally:
        held.close()
        tiny.dispose()
        core_db.set_engine(previous)

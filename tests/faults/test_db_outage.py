"""PostgreSQL stopped mid-run (a proxy in front of the shared server is cut): requests answer 503
problem+json at once instead of hanging, /healthz says so, service resumes by itself when the
database is back, and a transition cut at its COMMIT is not half-written."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine, make_url

from tests.conftest import assert_problem
from tests.faults import scenario as sc
from tests.faults.live import LiveServer, PgProxy
from tests.waiting import eventually

BATCH = "/api/v1/applications/transitions"
# A generous bound, not a timing claim: the app gives up on the lost database after its connect
# (3 s) and pool (5 s) timeouts; a request still unanswered after this long hung on it.
HUNG = 60.0


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("the outage is simulated in front of PostgreSQL (TEST_DATABASE_URL)")
    fresh: Engine = request.getfixturevalue("fresh_engine")
    return fresh


def _answered(call: object) -> httpx.Response:
    try:
        return call()  # type: ignore[operator,no-any-return]
    except httpx.TimeoutException as exc:
        raise AssertionError(
            f"no answer within {HUNG:.0f} s: the request hung on the lost database "
            "instead of answering 503"
        ) from exc


def _until_healthy(c: httpx.Client) -> None:
    eventually(
        lambda: c.get("/healthz").status_code == 200,
        "the service resuming after the database's return",
        every=0.2,
    )


def test_an_outage_answers_503_quickly_and_service_resumes_by_itself(
    pg_engine: Engine, tmp_path: Path
) -> None:
    setup = sc.recommended_for_office(pg_engine, 3)
    url = make_url(sc.db_url(pg_engine))
    proxy = PgProxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = LiveServer(via_proxy, tmp_path / "uploads").start()
    body = {"application_ids": setup.app_ids, "action": "pass_preliminary", "opinion": "初审通过"}
    try:
        server.set_clock(setup.now)
        with server.client(timeout=HUNG, event_hooks={"response": [assert_problem]}) as c:
            one = f"/api/v1/applications/{setup.app_ids[0]}"
            # Warm the pool: several pooled connections exist when the database goes away.
            for _ in range(5):
                assert c.get("/api/v1/applications", headers=setup.headers).status_code == 200

            proxy.cut()
            for call in (
                lambda: c.get("/api/v1/applications", headers=setup.headers),
                lambda: c.get(one, headers=setup.headers),
                lambda: c.post(BATCH, headers=setup.headers, json=body),
                lambda: c.get("/healthz"),
            ):
                r = _answered(call)
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "service_unavailable" and r.headers.get("Retry-After")
            assert c.get("/healthz").json()["database"] == "unreachable"
            assert c.head("/healthz").status_code == 503  # what load balancers' probes send
            assert sc.statuses(pg_engine, setup.app_ids) == ["recommended"] * 3

            proxy.restore()
            _until_healthy(c)
            assert c.head("/healthz").status_code == 200
            r = c.get("/api/v1/applications", headers=setup.headers)
            assert r.status_code == 200 and r.json()["total"] == 3
            r = c.post(BATCH, headers=setup.headers, json=body)
            assert r.status_code == 200, r.text
    finally:
        server.stop()
        proxy.close()
    assert sc.history_count(pg_engine, "pass_preliminary") == 3


def test_a_batch_whose_commit_is_cut_is_not_half_written_and_a_retry_applies_it_whole(
    pg_engine: Engine, tmp_path: Path
) -> None:
    setup = sc.recommended_for_office(pg_engine, 4)
    url = make_url(sc.db_url(pg_engine))
    proxy = PgProxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = LiveServer(via_proxy, tmp_path / "uploads").start()
    body = {"application_ids": setup.app_ids, "action": "pass_preliminary", "opinion": "初审通过"}
    try:
        server.set_clock(setup.now)
        with server.client(timeout=HUNG, event_hooks={"response": [assert_problem]}) as c:
            proxy.cut_at_commit()  # the batch's COMMIT never reaches the database
            r = _answered(lambda: c.post(BATCH, json=body, headers=setup.headers))
            assert proxy.cuts_at_commit == 1
            assert r.status_code == 503, (r.status_code, r.text)
            assert sc.statuses(pg_engine, setup.app_ids) == ["recommended"] * 4
            assert sc.history_count(pg_engine, "pass_preliminary") == 0
            assert sc.event_count(pg_engine, "application.preliminary_passed") == 0

            proxy.restore()
            _until_healthy(c)
            assert c.head("/healthz").status_code == 200
            r = c.post(BATCH, json=body, headers=setup.headers)
            assert r.status_code == 200, r.text
    finally:
        server.stop()
        proxy.close()
    assert sc.statuses(pg_engine, setup.app_ids) == ["preliminary_passed"] * 4
    assert sc.history_count(pg_engine, "pass_preliminary") == 4
    assert sc.event_count(pg_engine, "application.preliminary_passed") == 4

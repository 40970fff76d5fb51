"""Liveness with the database: 200 when it answers, 503 when it does not within seconds, and
test-only clock control."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.core.errors import Problem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


class _Probe:
    """The database check, one at a time, awaited at most HEALTH_TIMEOUT_SECONDS.

    It runs in its own thread so that /healthz answers in bounded time whatever the database
    does (a pool checkout waiting, a connection that gets no answer); a check still running is
    shared by the probes that arrive meanwhile rather than stacking threads behind it. Its own
    bound is the connection's (connect timeout, answer deadline: core/db)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Future[bool] | None = None

    def check(self, timeout: float) -> bool:
        with self._lock:
            future = self._running
            if future is None or future.done():
                future = self._running = Future()
                threading.Thread(target=self._run, args=(future,), daemon=True).start()
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            return False

    @staticmethod
    def _run(future: Future[bool]) -> None:
        try:
            with get_engine().connect().execution_options(readonly=True) as conn:
                conn.execute(text("SELECT 1"))
            future.set_result(True)
        except Exception:  # noqa: BLE001  (whatever failed, the answer is "not healthy")
            future.set_result(False)


_probe = _Probe()


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Health check (is the database reachable?)",
    response_model=Health,
    responses={503: {"model": Problem, "description": "Database unreachable"}},
)
def healthz() -> JSONResponse:
    timeout = get_settings().health_timeout_seconds
    if not _probe.check(timeout):
        return JSONResponse(
            {
                "type": "https://demosites.ah.gov.cn/problems/service_unavailable",
                "title": "Database unreachable / 数据库不可达",
                "status": 503,
                "detail": f"The database did not answer within {timeout:g} s / "
                f"数据库在 {timeout:g} 秒内未应答",
                "code": "service_unavailable",
                "database": "unreachable",
            },
            status_code=503,
            media_type="application/problem+json",
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


# Load balancers and uptime probes often send HEAD: the same check, answered without a body
# (otherwise HEAD /healthz would fall through to the SPA and answer 200 with the database down).
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)


class ClockSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: datetime | None


test_router = APIRouter(tags=["test"], include_in_schema=False)


@test_router.put("/api/v1/test/clock")
def set_clock(body: ClockSet) -> dict[str, str]:
    """Exists only when ALLOW_CLOCK_OVERRIDE and ENVIRONMENT=test: browser tests move time."""
    clock.set(body.now)
    return {"now": clock.now().isoformat()}

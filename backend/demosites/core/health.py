"""Liveness with the database: 200 when reachable, 503 when not, and test-only clock control."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from demosites.core.clock import clock
from demosites.core.db import get_engine
from demosites.core.errors import Problem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Health check (is the database reachable?)",
    response_model=Health,
    responses={503: {"model": Problem, "description": "Database unreachable"}},
)
def healthz() -> JSONResponse:
    try:
        with get_engine().connect().execution_options(readonly=True) as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(
            {
                "type": "https://demosites.ah.gov.cn/problems/service_unavailable",
                "title": "Database unreachable / 数据库不可达",
                "status": 503,
                "detail": "Database unreachable / 数据库不可达",
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

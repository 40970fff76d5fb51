"""The product app with two baselines mounted beside it, for benchmarks only (never in the product):
`/bench/ping` (the process's ceiling: no database, no middleware) and `/bench/bare-applications`
(the stack's floor for a list: one plain SQLAlchemy Core select of exactly the columns the
product's list summary returns — application without its long texts, unit, recommender,
assessment team, the round's total — 50 rows, serialised once; no ORM, no authentication, no
scope, no allowed actions; see benchmarks/bare_list.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi import FastAPI, Response

from demosites.core.db import get_engine
from demosites.main import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bare_list import summary_page  # noqa: E402

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/bench/ping")
def ping() -> dict[str, str]:
    return {"pong": "ok"}


@app.get("/bench/bare-applications")
def bare_applications(round_id: int | None = None, limit: int = 50) -> Response:
    # The product's engine (same pool, prepare_threshold=None); a plain read needs no write lock
    # on SQLite, so it reads a snapshot (`readonly`) where the product takes BEGIN IMMEDIATE.
    with get_engine().connect() as conn:
        body = summary_page(conn.execution_options(readonly=True), round_id, limit)
    return Response(body, media_type="application/json")


app.mount("/", create_app())

"""The product app with two baselines mounted beside it, for benchmarks only (never in the product):
`/bench/ping` (the process's ceiling: no database, no middleware) and `/bench/bare-applications`
(the stack's floor for a list: 50 plain rows of the same `application` table, no authentication,
no scope, no names, no allowed actions)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlmodel import Session, col, select

from demosites.applications.models import Application
from demosites.core.db import get_engine
from demosites.main import create_app

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/bench/ping")
def ping() -> dict[str, str]:
    return {"pong": "ok"}


@app.get("/bench/bare-applications")
def bare_applications() -> list[dict[str, Any]]:
    with Session(get_engine()) as session:
        rows = session.exec(select(Application).order_by(col(Application.id)).limit(50)).all()
        return [r.model_dump(mode="json") for r in rows]


app.mount("/", create_app())

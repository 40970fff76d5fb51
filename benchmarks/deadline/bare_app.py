"""The bare app of the deadline-day benchmark: the fastest honest way to do what the product's two
commonest deadline-day requests do, with nothing of the product in between — a minimal FastAPI app,
plain SQL through SQLAlchemy Core on psycopg (`prepare_threshold=None`, the product's pool sizes),
no authentication, no scope, no rules.

- `POST /bare/applications/{id}/transitions` `{"action": "submit"|"return", "opinion": …}`: a state
  change as the product writes it, in one transaction — the status update (conditional on the
  current status, so a concurrent change cannot be lost), one history row and one outbox row.
  Not the product's hash chain over the history (nor the advisory lock that orders it), quota,
  guards, page-cache stamps or the full object in the answer: that is what the ratio measures.
- `GET /bare/applications?round_id=&limit=50`: the list summary's columns, 50 rows of the round
  with its total, as in `benchmarks/bare_list.py`.

It works on copies the benchmark makes in the same database (`bare_application`, `bare_history`,
`bare_outbox`, created by bench_deadline.py), so the product's triggers do not fire and the
product's tables are left as they were. Started by bench_deadline.py:

    BARE_DATABASE_URL=postgresql+psycopg://… uvicorn bare_app:app --app-dir benchmarks/deadline --workers 2
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pydantic_core
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bare_list import summary_page  # noqa: E402

# The product's pool (core/db.py): the same number of connections per process, no prepared
# statements, a liveness check on checkout.
engine = create_engine(
    os.environ["BARE_DATABASE_URL"],
    pool_pre_ping=True,
    pool_size=10,
    max_overflow=20,
    pool_timeout=5,
    connect_args={"connect_timeout": 3, "prepare_threshold": None},
)
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

MOVES = {"submit": ("draft", "submitted"), "return": ("submitted", "draft")}
# Who acts: one recommender, named in the rows as the product names its actor.
ACTOR = {"actor": 1, "actor_name": "基准测试推荐人", "role": "recommender", "org": 1, "org_name": "基准测试推荐单位"}

UPDATE = text(
    "UPDATE bare_application SET status = :to, version = version + 1, updated_at = now() AT TIME ZONE 'utc'"
    " WHERE id = :id AND status = :from RETURNING version, round_id, recommender_id"
)
HISTORY = text(
    "INSERT INTO bare_history (object_type, object_id, action, from_state, to_state, actor_user_id, actor_name,"
    " actor_role, actor_org_id, actor_org_name, at, opinion, data)"
    " VALUES ('application', :id, :action, :from, :to, :actor, :actor_name, :role, :org, :org_name,"
    " now() AT TIME ZONE 'utc', :opinion, CAST(:data AS json))"
)
OUTBOX = text(
    "INSERT INTO bare_outbox (event_type, object_type, object_id, audience, payload, created_at)"
    " VALUES (:type, 'application', :id, :audience, CAST(:payload AS json), now() AT TIME ZONE 'utc')"
)


class Change(BaseModel):
    action: str
    opinion: str | None = None


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/bare/applications/{app_id}/transitions")
def transition(app_id: int, body: Change) -> Response:
    move = MOVES.get(body.action)
    if move is None:
        raise HTTPException(422, "unknown action")
    source, target = move
    with engine.begin() as conn:
        row = conn.execute(UPDATE, {"id": app_id, "from": source, "to": target}).first()
        if row is None:
            raise HTTPException(409, "invalid_transition")
        version, round_id, recommender_id = row
        conn.execute(HISTORY, {"id": app_id, "action": body.action, "from": source, "to": target,
                               "opinion": body.opinion, "data": None, **ACTOR})  # fmt: skip
        payload = {"id": app_id, "round_id": round_id, "action": body.action, "from": source, "to": target}
        conn.execute(OUTBOX, {"type": f"application.{body.action}", "id": app_id,
                              "audience": json.dumps([recommender_id]), "payload": json.dumps(payload)})  # fmt: skip
    return Response(pydantic_core.to_json({"id": app_id, "status": target, "version": version}),
                    media_type="application/json")  # fmt: skip


@app.get("/bare/applications")
def applications(round_id: int | None = None, limit: int = 50) -> Response:
    with engine.connect() as conn:
        body = summary_page(conn, round_id, limit, app_table="bare_application")
    return Response(body, media_type="application/json")

"""The bare application list that benchmarks compare the product's list with: one plain SQLAlchemy
Core select of exactly the columns of the product's list summary (`ApplicationSummary` without
`allowed_actions`) — the application without its long texts, its unit, its recommender, its
assessment team and the round's total — serialised once. No ORM, no authentication, no scope.

Written against table and column *names* only (`sqlalchemy.table`), not the product's models,
so a baseline keeps answering the same question whatever the product's code does. Used by
`benchmarks/http/bench_app.py` (over `application`) and `benchmarks/deadline/bare_app.py` (over
its copy `bare_application`).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from sqlalchemy import Select, bindparam, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

# The summary's own columns of an application (not `deeds`, not the stage opinions).
APPLICATION_COLUMNS = (
    "id", "round_id", "applicant_id", "recommender_id", "field", "city", "name", "summary",
    "status", "priority", "priority_claims", "scores", "visit_date", "plaque_no", "awarded_at",
    "submitted_at", "version", "created_at", "updated_at",
)  # fmt: skip
_JSON_COLUMNS = ("priority_claims", "scores", "team")
_UTC_COLUMNS = ("awarded_at", "submitted_at", "created_at", "updated_at")  # stored naive, in UTC


@functools.cache
def _statement(app_table: str, dialect: str, filtered: bool) -> Select[Any]:
    a = table(app_table, *(column(c) for c in APPLICATION_COLUMNS))
    unit = table("applicant_unit", column("id"), column("organization_id"), column("name"), column("kind"), column("city"))
    rec = table("organization", column("id"), column("code"), column("name")).alias("rec")
    aa = table("assessment_assignment", column("id"), column("application_id"), column("user_id"))
    person = table("user", column("id"), column("display_name"), column("organization_id"))
    person_org = table("organization", column("id"), column("name")).alias("person_org")
    # The page (ids and the round's total, read off the list's index), then its rows joined.
    page = select(a.c.id.label("pid"), func.count().over().label("total"))
    if filtered:
        page = page.where(a.c.round_id == bindparam("round_id"))
    page_sq = (
        page.order_by(a.c.priority.desc(), a.c.id)
        .limit(bindparam("limit")).offset(bindparam("offset")).subquery("page")
    )  # fmt: skip
    team_from = aa.join(person, person.c.id == aa.c.user_id).join(person_org, person_org.c.id == person.c.organization_id)
    item = (person.c.id, person.c.display_name, person_org.c.id, person_org.c.name)
    if dialect == "postgresql":
        agg = func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(*item), aa.c.id)),
                            literal_column("'[]'::json"))  # fmt: skip
        team = select(agg).select_from(team_from).where(aa.c.application_id == a.c.id).scalar_subquery()
    else:
        ordered = (
            select(func.json_array(*item).label("item")).select_from(team_from)
            .where(aa.c.application_id == a.c.id).order_by(aa.c.id).correlate(a).subquery()
        )  # fmt: skip
        team = select(func.json_group_array(func.json(ordered.c.item))).scalar_subquery()
    return (
        select(
            *a.c, unit.c.organization_id.label("unit_org_id"), unit.c.name.label("unit_name"),
            unit.c.kind.label("unit_kind"), unit.c.city.label("unit_city"), rec.c.code.label("rec_code"),
            rec.c.name.label("rec_name"), page_sq.c.total, team.label("team"),
        )
        .select_from(a.join(page_sq, page_sq.c.pid == a.c.id).join(unit, unit.c.id == a.c.applicant_id)
                     .join(rec, rec.c.id == a.c.recommender_id))
        .order_by(a.c.priority.desc(), a.c.id)
    )  # fmt: skip


def summary_page(
    conn: Connection, round_id: int | None, limit: int = 50, offset: int = 0, app_table: str = "application"
) -> bytes:
    """`{"items": [...], "total": N}` as JSON bytes, items shaped like the product's summaries."""
    dialect = conn.dialect.name
    stmt = _statement(app_table, dialect, round_id is not None)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if round_id is not None:
        params["round_id"] = round_id
    rows = conn.execute(stmt, params).mappings().all()
    items = []
    for r in rows:
        row = dict(r)
        if dialect != "postgresql":  # SQLite hands JSON back as text
            for k in _JSON_COLUMNS:
                if isinstance(row[k], str):
                    row[k] = json.loads(row[k])
        for k in _UTC_COLUMNS:
            if isinstance(row[k], datetime) and row[k].tzinfo is None:
                row[k] = row[k].replace(tzinfo=UTC)
        team = row.pop("team") or []
        items.append({
            **{k: row[k] for k in APPLICATION_COLUMNS if k not in ("applicant_id", "recommender_id")},
            "applicant": {"id": row["applicant_id"], "organization_id": row["unit_org_id"], "name": row["unit_name"],
                          "kind": row["unit_kind"], "city": row["unit_city"]},
            "recommender": {"id": row["recommender_id"], "code": row["rec_code"], "name": row["rec_name"]},
            "assessors": [{"user_id": t[0], "display_name": t[1], "organization_id": t[2], "organization_name": t[3]}
                          for t in team],
            "etag": f'W/"{row["version"]}"',
        })  # fmt: skip
    total = int(rows[0]["total"]) if rows else 0
    return pydantic_core.to_json({"items": items, "total": total})

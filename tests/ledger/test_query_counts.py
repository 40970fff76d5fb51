"""List and compliance endpoints issue a fixed number of statements however large the ledger
grows (aggregates in SQL, names joined, no per-row queries)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.ledger.units import add_unit
from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is
from tests.statements import counting, no_rate_limit  # noqa: F401

L = "/api/v1/ledger"
pytestmark = pytest.mark.usefixtures("no_rate_limit")


def _grow(
    session: Session, client: TestClient, w: World, plan: dict[str, Any], communities: int
) -> None:
    """More communities under the street, each with a month of entries."""
    themed, goodman = item_by_code(plan, "12.3"), item_by_code(plan, "14")
    for n in range(communities):
        c = add_unit(session, w.street, f"新社区{n}", "community")
        rows = [
            {"unit_id": c.id, "item_id": themed, "entry_date": f"2023-08-{d:02d}", "title": "活动"}
            for d in range(1, 11)
        ]
        rows.append(
            {"unit_id": c.id, "item_id": goodman, "entry_date": "2023-08-09", "title": "好人"}
        )
        assert (
            client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.street_h).status_code
            == 201
        )


ENDPOINTS = [
    ("/units", {}),
    ("/plans", {}),
    ("/entries", {"limit": 200}),
    ("/compliance", {"year": 2023, "limit": 200}),
    ("/compliance", {"year": 2023, "month": 8, "limit": 200}),
    ("/compliance/rollup", {"year": 2023, "month": 8}),
    ("/compliance/due", {"year": 2023, "limit": 200}),
    ("/compliance/grid", {"year": 2023}),
    ("/compliance/trend", {"year": 2023}),
]


def _counts(engine: Engine, client: TestClient, w: World) -> dict[str, int]:
    out = {}
    for path, params in ENDPOINTS:
        p = {**params, "unit_id": w.street.id} if path != "/units" else {"parent_id": w.street.id}
        with counting(engine) as statements:
            r = client.get(L + path, params=p, headers=w.street_h)
        assert r.status_code == 200, (path, r.text)
        out[f"{path}?{sorted(params)}"] = len(statements)
    return out


def test_statement_count_is_flat_as_the_ledger_grows(session: Session, client: TestClient) -> None:
    today_is(2023, 9, 20)
    w = build(session)
    plan = plan_from_template(client, w)
    engine = session.get_bind().engine  # type: ignore[union-attr]
    _grow(session, client, w, plan, 2)
    small = _counts(engine, client, w)
    _grow(session, client, w, plan, 12)
    large = _counts(engine, client, w)
    assert large == small
    assert max(small.values()) <= 12, small  # authentication included
    # and the data did grow: the rows are there
    assert (
        client.get(f"{L}/entries", params={"unit_id": w.street.id}, headers=w.street_h).json()[
            "total"
        ]
        == 14 * 11
    )

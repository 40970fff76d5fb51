"""The entry counts compliance reads (ledger_entry_count) always equal a recount from the
entries: after one-by-one, bulk and Excel writes, corrections that move an entry's date, unit or
item, deletions, replaced targets, and a rolled-back transaction."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.core.actor import SYSTEM
from demosites.ledger import counts
from demosites.ledger.access import LedgerScope
from demosites.ledger.entries import bulk_create
from demosites.ledger.models import LedgerEntry, LedgerEntryCount
from demosites.ledger.plans import create_plan
from demosites.ledger.schemas import EntryCreate, PlanCreate
from demosites.ledger.units import add_unit
from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is

L = "/api/v1/ledger"


@pytest.fixture
def world(session: Session, client: TestClient) -> tuple[World, dict[str, Any]]:
    today_is(2023, 9, 20)
    w = build(session)
    return w, plan_from_template(client, w)


def kept(session: Session) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    """The kept counts: (unit, yyyymm, target) → (done, on_time, breaches). `breaches` counts
    entries without a time (or slower than max_minutes) for every target, as the reports
    always have; only response_time targets read it."""
    rows = session.execute(select(LedgerEntryCount)).scalars()
    return {
        (c.unit_id, c.month_key, c.target_id): (c.done, c.on_time, c.breaches)
        for c in rows
        if c.done
    }


def assert_in_step(session: Session) -> None:
    assert counts.differences(session) == []


def target_of(plan: dict[str, Any], code: str) -> int:
    item = next(i for i in plan["items"] if i["code"] == code)
    return int(item["targets"][0]["id"])


def entry(unit: Any, item: int, day: str, **more: Any) -> dict[str, Any]:
    return {"unit_id": unit.id, "item_id": item, "entry_date": day, "title": "活动", **more}


def test_every_kind_of_write_keeps_the_counts_equal_to_a_recount(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    themed, goodman, opinion = (item_by_code(plan, c) for c in ("12.3", "14", "5.6"))
    t_themed, t_goodman, t_opinion = (target_of(plan, c) for c in ("12.3", "14", "5.6"))

    # one by one (the 通辽好人 report on the 5th: on time; on the 9th: late)
    r = client.post(f"{L}/entries", json=entry(w.c1, goodman, "2023-08-05"), headers=w.c1_h)
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    client.post(f"{L}/entries", json=entry(w.c1, goodman, "2023-08-09"), headers=w.c1_h)
    assert kept(session)[(w.c1.id, 202308, t_goodman)] == (2, 1, 2)
    assert_in_step(session)

    # in bulk, with 舆情 replies in and over 5 minutes
    rows = [entry(w.c1, themed, f"2023-08-{d:02d}") for d in range(1, 9)]
    rows += [entry(w.c2, opinion, "2023-08-03", response_minutes=m) for m in (3, 5, 9)]
    r = client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.street_h)
    assert r.status_code == 201, r.text
    assert kept(session)[(w.c1.id, 202308, t_themed)] == (8, 0, 8)
    assert kept(session)[(w.c2.id, 202308, t_opinion)] == (3, 0, 1)
    assert_in_step(session)

    # through the Excel import
    r = client.post(
        f"{L}/plans/{plan['id']}/import",
        files={"file": ("台账.xlsx", _xlsx([["新华社区", "12.3", "2023-09-01", "志愿服务"]]))},
        headers=w.street_h,
    )
    assert r.status_code == 201, r.text
    assert kept(session)[(w.c2.id, 202309, t_themed)] == (1, 0, 1)
    assert_in_step(session)

    # corrections: the date moves to another month, then the unit, then the item
    patch = f"{L}/entries/{first}"
    assert client.patch(patch, json={"entry_date": "2023-09-02"}, headers=w.c1_h).status_code == 200
    assert kept(session)[(w.c1.id, 202308, t_goodman)] == (1, 0, 1)
    assert kept(session)[(w.c1.id, 202309, t_goodman)] == (1, 1, 1)
    assert_in_step(session)
    # a 舆情 reply corrected from 9 to 4 minutes is no longer a breach
    slow = client.get(
        f"{L}/entries", params={"unit_id": w.c2.id, "item_id": opinion}, headers=w.street_h
    ).json()["items"]
    slow_id = next(e["id"] for e in slow if e["response_minutes"] == 9)
    r = client.patch(f"{L}/entries/{slow_id}", json={"response_minutes": 4}, headers=w.street_h)
    assert r.status_code == 200, r.text
    assert kept(session)[(w.c2.id, 202308, t_opinion)] == (3, 0, 0)
    assert_in_step(session)
    # a correction that leaves the counted fields alone changes nothing
    before = kept(session)
    assert client.patch(patch, json={"title": "改名"}, headers=w.street_h).status_code == 200
    assert kept(session) == before

    # deletion
    assert client.delete(patch, headers=w.street_h).status_code == 204
    assert (w.c1.id, 202309, t_goodman) not in kept(session)
    assert_in_step(session)

    # a refused batch writes no count
    before = kept(session)
    bad = [entry(w.c1, themed, "2023-08-10"), entry(w.c1, themed, "2099-01-01")]
    assert (
        client.post(f"{L}/entries/bulk", json={"items": bad}, headers=w.street_h).status_code == 422
    )
    assert kept(session) == before


def test_an_entry_moved_to_another_unit_and_item_moves_its_counts(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    """The API corrects date and details only; the service's counting follows any field."""
    w, plan = world
    themed, goodman = item_by_code(plan, "12.3"), item_by_code(plan, "14")
    r = client.post(f"{L}/entries", json=entry(w.c1, goodman, "2023-08-05"), headers=w.c1_h)
    row = session.get(LedgerEntry, r.json()["id"])
    assert row is not None
    before = counts.counted(row)
    row.unit_id, row.item_id = w.c2.id or 0, themed
    session.add(row)
    session.flush()
    counts.replace_entry(session, before, counts.counted(row))
    assert kept(session) == {(w.c2.id, 202308, target_of(plan, "12.3")): (1, 0, 1)}
    assert_in_step(session)


def test_replaced_targets_are_recounted_from_the_entries(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    goodman = item_by_code(plan, "14")
    rows = [entry(w.c1, goodman, f"2023-08-{d:02d}") for d in (3, 6, 9)]
    assert (
        client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.street_h).status_code
        == 201
    )
    target = next(i for i in plan["items"] if i["code"] == "14")["targets"][0]
    spec = {k: target[k] for k in ("kind", "count", "scope", "child_level", "label")}
    r = client.patch(
        f"{L}/items/{goodman}",
        json={"targets": [{**spec, "due_day": 4}, {**spec, "due_day": 10}]},
        headers=w.street_h,
    )
    assert r.status_code == 200, r.text
    early, late = (t["id"] for t in r.json()["targets"])
    assert kept(session)[(w.c1.id, 202308, early)] == (3, 1, 3)
    assert kept(session)[(w.c1.id, 202308, late)] == (3, 3, 3)
    assert target["id"] not in {k[2] for k in kept(session)}
    assert_in_step(session)
    r = client.patch(f"{L}/items/{goodman}", json={"targets": []}, headers=w.street_h)
    assert r.status_code == 200, r.text
    assert kept(session) == {}
    assert_in_step(session)


def test_recount_rebuilds_what_was_written_behind_the_counts_back(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    themed = item_by_code(plan, "12.3")
    rows = [entry(u, themed, f"2023-08-{d:02d}") for u in (w.c1, w.c2) for d in (1, 2)]
    assert (
        client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.street_h).status_code
        == 201
    )
    session.execute(LedgerEntryCount.__table__.delete())  # type: ignore[attr-defined]
    assert counts.differences(session) != []
    counts.recount(session, [w.c1.id or 0])
    assert {k[0] for k in kept(session)} == {w.c1.id}
    counts.recount(session)
    assert_in_step(session)
    assert len(kept(session)) == 2


def test_a_rolled_back_write_leaves_the_counts_as_they_were(fresh_engine: Engine) -> None:
    """Real commits and a real rollback, on a database of its own."""
    today_is(2023, 9, 20)
    office = LedgerScope(actor=SYSTEM, everything=True)
    with Session(fresh_engine) as s:
        street = add_unit(s, None, "电厂街道", "street", city="合肥")
        c1 = add_unit(s, street, "电厂社区", "community")
        plan = create_plan(
            s, office, PlanCreate(unit_id=street.id or 0, year=2023, source="template",
                                  template="dianchang_2023"),
        )  # fmt: skip
        themed = next(i.id for i in plan.items if i.code == "12.3")
        s.commit()
        keeper = LedgerScope(actor=SYSTEM, roots=frozenset({street.id or 0}))
        rows = [
            EntryCreate(unit_id=c1.id or 0, item_id=themed or 0, entry_date=f"2023-08-0{d}",  # type: ignore[arg-type]
                        title="活动")
            for d in (1, 2, 3)
        ]  # fmt: skip
        bulk_create(s, keeper, rows[:1])
        s.commit()
        before = kept(s)
        assert list(before.values()) == [(1, 0, 1)]
        bulk_create(s, keeper, rows[1:])
        assert list(kept(s).values()) == [(3, 0, 3)]  # seen inside the transaction
        s.rollback()
    with Session(fresh_engine) as s:
        assert kept(s) == before
        assert_in_step(s)


def _xlsx(rows: list[list[Any]]) -> bytes:
    from demosites.ledger.excel import COLUMNS

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "台账"
    ws.append([h for _, h, _ in COLUMNS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

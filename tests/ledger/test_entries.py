"""Entries: one, bulk JSON and Excel — validated whole, all-or-nothing, with row/column errors;
each new entry emits ledger_entry.created; attachments follow the upload rules."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlmodel import Session

from demosites.events.models import OutboxEvent
from demosites.ledger.models import LedgerEntry
from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is

L = "/api/v1/ledger"


@pytest.fixture
def world(session: Session, client: TestClient) -> tuple[World, dict[str, Any]]:
    today_is(2023, 9, 20)
    w = build(session)
    return w, plan_from_template(client, w)


def _entries(session: Session) -> int:
    return session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def _events(session: Session) -> int:
    return session.execute(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.event_type == "ledger_entry.created")
    ).scalar_one()


def test_one_entry_is_recorded_with_its_event(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    body = {
        "unit_id": w.c1.id, "item_id": item_by_code(plan, "17"), "entry_date": "2023-09-10",
        "title": "“读书伴我行”主题阅读", "description": "共读《习近平新时代中国特色社会主义思想学习纲要》",
        "participants": 28, "place": "社区书吧",
    }  # fmt: skip
    r = client.post(f"{L}/entries", json=body, headers=w.c1_h)
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["unit_name"], e["item_title"], e["participants"], e["plan_id"]) == (
        "电厂社区",
        "全民阅读主题阅读活动",
        28,
        plan["id"],
    )
    ev = (
        session.execute(select(OutboxEvent).where(OutboxEvent.object_type == "ledger_entry"))
        .scalars()
        .one()
    )
    assert (ev.event_type, ev.object_id, ev.payload["unit_id"]) == (
        "ledger_entry.created",
        e["id"],
        w.c1.id,
    )
    assert ev.audience == "," + "".join(
        f"{i}," for i in sorted([w.c1.organization_id, w.street.organization_id])
    )


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"entry_date": "2023-09-21"}, "entry_date"),  # tomorrow
        ({"entry_date": "2022-12-31"}, "entry_date"),  # not the plan's year
        ({"item_id": 999999}, "item_id"),
        ({"response_minutes": None, "item_code": "5.6"}, "response_minutes"),  # 舆情 needs its time
    ],
)
def test_a_bad_entry_is_refused_with_its_column(
    client: TestClient, world: tuple[World, dict[str, Any]], change: dict[str, Any], column: str
) -> None:
    w, plan = world
    change = dict(change)  # parameters are shared by both databases' runs
    code = change.pop("item_code", "12.3")
    body = {
        "unit_id": w.c1.id,
        "item_id": item_by_code(plan, code),
        "entry_date": "2023-09-10",
        "title": "活动",
        **change,
    }
    r = client.post(f"{L}/entries", json=body, headers=w.c1_h)
    assert r.status_code == 422, r.text
    assert [e["column"] for e in r.json()["errors"]] == [column]


def test_bulk_is_all_or_nothing_with_every_row_error(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    themed = item_by_code(plan, "12.3")
    good = {"unit_id": w.c1.id, "item_id": themed, "entry_date": "2023-09-01", "title": "活动"}
    rows = [
        good,
        {**good, "entry_date": "2023-10-01"},
        good,
        {**good, "unit_id": w.other_c.id},
        {**good, "participants": -1},
    ]
    before, events = _entries(session), _events(session)
    r = client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.c1_h)
    assert r.status_code == 422, r.text
    errs = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert errs == {(4, "participants")}  # shape errors come first, before any database check
    rows[4] = good
    r = client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.c1_h)
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {
        (1, "entry_date"),
        (3, "unit_id"),
    }
    assert all(e["message"] and e["loc"][:2] == ["body", "items"] for e in r.json()["errors"])
    assert (_entries(session), _events(session)) == (before, events)
    rows = [good] * 3 + [{**good, "unit_id": w.c2.id}]
    r = client.post(f"{L}/entries/bulk", json={"items": rows}, headers=w.street_h)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 4 and len(set(r.json()["ids"])) == 4
    assert (_entries(session), _events(session)) == (before + 4, events + 4)


def test_bulk_refuses_more_than_a_thousand_rows(
    client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    good = {
        "unit_id": w.c1.id,
        "item_id": item_by_code(plan, "12.3"),
        "entry_date": "2023-09-01",
        "title": "活",
    }
    r = client.post(f"{L}/entries/bulk", json={"items": [good] * 1001}, headers=w.c1_h)
    assert r.status_code == 422


def _xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    from demosites.ledger.excel import COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(header or [h for _, h, _ in COLUMNS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(client: TestClient, plan_id: int, data: bytes, headers: dict[str, str]) -> Any:
    files = {
        "file": (
            "台账.xlsx",
            data,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    return client.post(f"{L}/plans/{plan_id}/import", files=files, headers=headers)


def test_excel_template_lists_the_plan_items_and_units(
    client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    r = client.get(f"{L}/plans/{plan['id']}/import-template", headers=w.street_h)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:3] == ["台账", "工作事项", "单位"]
    assert [c.value for c in wb["台账"][1]][:3] == [
        "单位（ID或名称）",
        "工作事项（ID、编号或名称）",
        "日期",
    ]
    titles = [row[2] for row in wb["工作事项"].iter_rows(min_row=2, values_only=True)]
    assert "报送通辽好人典型事迹材料" in titles
    units = [row[1] for row in wb["单位"].iter_rows(min_row=2, values_only=True)]
    assert units == ["电厂街道", "电厂社区", "新华社区"]


def test_excel_import_is_all_or_nothing_with_row_and_column_errors(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    before = _entries(session)
    rows = [
        ["电厂社区", "12.3", "2023-09-01", "志愿服务", None, 20, "文明实践站", None],
        ["新华社区", "新时代文明实践主题性活动", "2023/09/02", "志愿服务", None, None, None, None],
        [
            "常青社区",
            "12.3",
            "2023-09-03",
            "别人的社区",
            None,
            None,
            None,
            None,
        ],  # not in this plan's tree
        ["电厂社区", "不存在的事项", "2023-09-03", "x", None, None, None, None],
        ["电厂社区", "12.3", "九月三日", "坏日期", None, None, None, None],
        ["电厂社区", "5.6", "2023-09-04", "舆情回复", None, None, None, None],  # needs minutes
    ]
    r = _import(client, plan["id"], _xlsx(rows), w.street_h)
    assert r.status_code == 422, r.text
    errs = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert errs == {(4, "A:单位（ID或名称）"), (5, "B:工作事项（ID、编号或名称）"), (6, "C:日期")}
    assert _entries(session) == before
    del rows[2:5]
    r = _import(client, plan["id"], _xlsx(rows), w.street_h)
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {(4, "H:回复时长（分钟）")}
    rows[2][7] = 4
    r = _import(client, plan["id"], _xlsx(rows), w.street_h)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 3 and _entries(session) == before + 3
    listed = client.get(f"{L}/entries", params={"plan_id": plan["id"]}, headers=w.street_h).json()
    assert listed["total"] == 3 and {e["unit_name"] for e in listed["items"]} == {
        "电厂社区",
        "新华社区",
    }


def test_excel_import_refuses_a_foreign_header_or_a_non_workbook(
    client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    r = _import(client, plan["id"], _xlsx([], header=["a", "b"]), w.street_h)
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "header"
    r = _import(client, plan["id"], b"not a workbook", w.street_h)
    assert r.status_code == 422


def test_attachments_correction_and_deletion(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    body = {
        "unit_id": w.c1.id,
        "item_id": item_by_code(plan, "14"),
        "entry_date": "2023-09-05",
        "title": "好人材料",
    }
    entry = client.post(f"{L}/entries", json=body, headers=w.c1_h).json()
    r = client.post(
        f"{L}/entries/{entry['id']}/attachments",
        files={"file": ("事迹.pdf", b"%PDF-1.7 deeds", "application/pdf")},
        headers=w.c1_h,
    )
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    bad = client.post(
        f"{L}/entries/{entry['id']}/attachments",
        files={"file": ("x.pdf", b"MZ\x90\x00", "application/pdf")},
        headers=w.c1_h,
    )
    assert bad.status_code == 422
    assert client.get(f"{L}/entries/{entry['id']}", headers=w.c1_h).json()["attachment_count"] == 1
    assert (
        client.get(f"{L}/entries/{entry['id']}/attachments/{fid}", headers=w.street_h).content
        == b"%PDF-1.7 deeds"
    )
    assert (
        client.post(
            f"{L}/entries/{entry['id']}/attachments",
            files={"file": ("a.pdf", b"%PDF-1", "application/pdf")},
            headers=w.city_h,
        ).status_code
        == 403
    )
    r = client.patch(
        f"{L}/entries/{entry['id']}",
        json={"entry_date": "2023-09-08", "participants": 3},
        headers=w.c1_h,
    )
    assert r.status_code == 200 and (r.json()["entry_date"], r.json()["participants"]) == (
        "2023-09-08",
        3,
    )
    assert (
        client.patch(
            f"{L}/entries/{entry['id']}", json={"entry_date": "2023-09-30"}, headers=w.c1_h
        ).status_code
        == 422
    )
    assert client.delete(f"{L}/entries/{entry['id']}", headers=w.c2_h).status_code == 404
    assert client.delete(f"{L}/entries/{entry['id']}", headers=w.c1_h).status_code == 204
    assert client.get(f"{L}/entries/{entry['id']}", headers=w.c1_h).status_code == 404


def test_nul_bytes_and_huge_ints_are_422(
    client: TestClient, world: tuple[World, dict[str, Any]]
) -> None:
    w, plan = world
    base = {
        "unit_id": w.c1.id,
        "item_id": item_by_code(plan, "12.3"),
        "entry_date": "2023-09-05",
        "title": "x",
    }
    assert (
        client.post(f"{L}/entries", json={**base, "title": "a\x00b"}, headers=w.c1_h).status_code
        == 422
    )
    assert (
        client.post(f"{L}/entries", json={**base, "unit_id": 2**40}, headers=w.c1_h).status_code
        == 422
    )
    assert client.get(f"{L}/units/{2**40}", headers=w.c1_h).status_code == 422

"""Seed 003 in use: the template's targets measured against two communities' ledgers over three
months — every state (met, not yet, missed, late), the roll-up to the street, the due list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is

C = "/api/v1/ledger/compliance"


def _record(
    client: TestClient,
    headers: dict[str, str],
    unit_id: int,
    item_id: int,
    dates: list[str],
    **extra: Any,
) -> None:
    rows = [
        {"unit_id": unit_id, "item_id": item_id, "entry_date": d, "title": f"活动 {d}", **extra}
        for d in dates
    ]
    r = client.post("/api/v1/ledger/entries/bulk", json={"items": rows}, headers=headers)
    assert r.status_code == 201, r.text


@pytest.fixture
def scenario(session: Session, client: TestClient) -> tuple[World, dict[str, Any]]:
    """Today is 2023-09-20. 电厂社区 (c1) and 新华社区 (c2) record July–September."""
    today_is(2023, 9, 20)
    w = build(session)
    plan = plan_from_template(client, w)
    themed, goodman, netsec, opinion = (item_by_code(plan, c) for c in ("12.3", "14", "5.5", "5.6"))
    # 每月至少8次主题性活动: c1 met July, missed August, not yet in September (3 so far)
    _record(client, w.c1_h, w.c1.id, themed, [f"2023-07-{d:02d}" for d in range(1, 9)])
    _record(client, w.c1_h, w.c1.id, themed, [f"2023-08-{d:02d}" for d in range(1, 6)])
    _record(client, w.c1_h, w.c1.id, themed, ["2023-09-01", "2023-09-02", "2023-09-03"])
    # c2 met all three months, September already by the 10th
    for m in ("07", "08", "09"):
        _record(client, w.c2_h, w.c2.id, themed, [f"2023-{m}-{d:02d}" for d in range(2, 10)])
    # 每月7号前报送通辽好人: c1 July on the 5th (met), August on the 12th (late), none in September
    _record(client, w.c1_h, w.c1.id, goodman, ["2023-07-05", "2023-08-12"])
    # c2: nothing in July, August; September on the 7th itself (met: “7号前” includes the 7th)
    _record(client, w.c2_h, w.c2.id, goodman, ["2023-09-07"])
    # 9月网络安全宣传: c1 done on 09-15, c2 not yet
    _record(client, w.c1_h, w.c1.id, netsec, ["2023-09-15"])
    # 舆情 5分钟内回复: c1 answered in 3 minutes, c2 once in 12 minutes
    _record(client, w.c1_h, w.c1.id, opinion, ["2023-08-03"], response_minutes=3)
    _record(client, w.c2_h, w.c2.id, opinion, ["2023-08-04"], response_minutes=12)
    return w, plan


def _table(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = client.get(C, params={"year": 2023, "limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _state(
    rows: list[dict[str, Any]], unit_id: int, item_id: int, period_no: int
) -> tuple[str, int]:
    hits = [
        r
        for r in rows
        if r["unit_id"] == unit_id and r["item_id"] == item_id and r["period_no"] == period_no
    ]
    assert len(hits) == 1, hits
    return hits[0]["state"], hits[0]["done"]


def test_every_state_of_the_compliance_table(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, plan = scenario
    themed, goodman, netsec, opinion = (item_by_code(plan, c) for c in ("12.3", "14", "5.5", "5.6"))
    rows = _table(client, w.street_h, unit_id=w.street.id, period_kind="month")["items"]
    # min_count 8/month
    assert _state(rows, w.c1.id, themed, 7) == ("met", 8)
    assert _state(rows, w.c1.id, themed, 8) == ("missed", 5)
    assert _state(rows, w.c1.id, themed, 9) == ("not_yet", 3)
    assert _state(rows, w.c2.id, themed, 9) == ("met", 8)
    assert _state(rows, w.c1.id, themed, 12) == ("not_yet", 0)
    # due_day 7: on time, late, missed after the 7th, and the 7th itself on time
    assert _state(rows, w.c1.id, goodman, 7) == ("met", 1)
    assert _state(rows, w.c1.id, goodman, 8) == ("late", 1)
    assert _state(rows, w.c1.id, goodman, 9) == ("missed", 0)
    assert _state(rows, w.c2.id, goodman, 7) == ("missed", 0)
    assert _state(rows, w.c2.id, goodman, 9) == ("met", 1)
    # due_day deadline is the 7th, not the month end
    sept = next(
        r
        for r in rows
        if r["unit_id"] == w.c1.id and r["item_id"] == goodman and r["period_no"] == 9
    )
    assert sept["deadline"] == "2023-09-07"
    # September-only item: one row per community, for September only
    net = [r for r in rows if r["item_id"] == netsec]
    assert sorted((r["unit_id"], r["period_no"], r["state"]) for r in net) == sorted(
        [(w.c1.id, 9, "met"), (w.c2.id, 9, "not_yet")]
    )
    # response time: a 12-minute reply breaches 5分钟内回复
    assert _state(rows, w.c1.id, opinion, 8)[0] == "met"
    assert _state(rows, w.c2.id, opinion, 8)[0] == "missed"
    # the street's own duties are there too (e.g. 理论中心组学习 ≥12/year) — but not in a monthly view
    assert all(r["unit_id"] in (w.c1.id, w.c2.id) or r["period_kind"] == "month" for r in rows)


def test_september_item_becomes_missed_when_september_ends(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, plan = scenario
    netsec = item_by_code(plan, "5.5")
    today_is(2023, 10, 2)
    w.refresh()
    rows = _table(client, w.street_h, unit_id=w.street.id, month=9)["items"]
    assert _state(rows, w.c2.id, netsec, 9) == ("missed", 0)
    assert _state(rows, w.c1.id, netsec, 9) == ("met", 1)


def test_yearly_and_quarterly_targets_of_the_street_itself(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, plan = scenario
    study, theme = item_by_code(plan, "1.1"), item_by_code(plan, "1.2")
    _record(client, w.street_h, w.street.id, study, [f"2023-{m:02d}-10" for m in range(1, 10)])
    _record(client, w.street_h, w.street.id, theme, ["2023-02-01", "2023-05-01"])
    rows = _table(client, w.street_h, unit_id=w.street.id, period_kind="year")["items"]
    assert _state(rows, w.street.id, study, 1) == ("not_yet", 9)  # 9 of 12, the year is open
    q = _table(client, w.street_h, unit_id=w.street.id, period_kind="quarter")["items"]
    assert _state(q, w.street.id, theme, 1) == ("met", 1)
    assert _state(q, w.street.id, theme, 2) == ("met", 1)
    assert _state(q, w.street.id, theme, 3) == ("not_yet", 0)  # Q3 ends 09-30
    # communities owe nothing of the street's own items
    assert {r["unit_id"] for r in rows if r["item_id"] == study} == {w.street.id}


def test_summary_counts_match_the_rows(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, _ = scenario
    body = _table(client, w.street_h, unit_id=w.street.id, month=8)
    s = body["summary"]
    states = [r["state"] for r in body["items"]]
    assert s["total"] == body["total"] == len(states)
    for name in ("met", "late", "missed", "not_yet"):
        assert s[name] == states.count(name)
    # filtering by state keeps the page consistent
    missed = _table(client, w.street_h, unit_id=w.street.id, month=8, state="missed")
    assert missed["total"] == s["missed"] and all(r["state"] == "missed" for r in missed["items"])


def test_rollup_from_communities_to_the_street(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, _ = scenario
    r = client.get(
        f"{C}/rollup", params={"unit_id": w.street.id, "year": 2023, "month": 8}, headers=w.street_h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    groups = {g["unit_id"]: g for g in body["groups"]}
    # one group per community, and the street's own monthly duty (1.3 学习讲话原文) as `null`
    assert set(groups) == {w.c1.id, w.c2.id, None}
    assert groups[None]["unit_name"] == "电厂街道（本级）" and groups[None]["total"] == 1
    # August per community: 方案, 台账, 8次活动, 好人, 舆情, 阅读 = 6 monthly duties (+ none for 9月)
    detail = _table(client, w.street_h, unit_id=w.street.id, month=8)["items"]
    for unit in (w.c1, w.c2):
        mine = [x["state"] for x in detail if x["unit_id"] == unit.id]
        g = groups[unit.id]
        assert g["total"] == len(mine) == 6
        assert (g["met"], g["late"], g["missed"], g["not_yet"]) == tuple(
            mine.count(s) for s in ("met", "late", "missed", "not_yet")
        )
    assert groups[w.c1.id]["late"] == 1 and groups[w.c1.id]["met"] == 1  # 好人 late, 舆情 met
    assert groups[w.c2.id]["met"] == 1  # 8 activities
    overall = body["overall"]
    assert overall["total"] == len(detail)
    # rolled up one level higher, the district sees the street as one group
    r = client.get(f"{C}/rollup", params={"year": 2023, "month": 8}, headers=w.office_h)
    top = r.json()["groups"]
    assert [g["unit_id"] for g in top] == [w.city.id] and top[0]["total"] == overall["total"]


def test_due_soon_and_overdue_list(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, plan = scenario
    themed, goodman, netsec = (item_by_code(plan, c) for c in ("12.3", "14", "5.5"))
    r = client.get(
        f"{C}/due", params={"unit_id": w.c1.id, "year": 2023, "which": "overdue"}, headers=w.c1_h
    )
    assert r.status_code == 200, r.text
    overdue = {(x["item_id"], x["period_no"]) for x in r.json()["items"]}
    assert (themed, 8) in overdue and (goodman, 9) in overdue
    assert (goodman, 8) not in overdue  # late is done, not overdue
    assert all(x["state"] == "missed" and x["unit_id"] == w.c1.id for x in r.json()["items"])
    deadlines = [x["deadline"] for x in r.json()["items"]]
    assert deadlines == sorted(deadlines)
    # due soon: September's monthly duties end 09-30, 10 days from 09-20
    soon = client.get(
        f"{C}/due",
        params={"unit_id": w.c1.id, "year": 2023, "which": "due_soon", "within_days": 10},
        headers=w.c1_h,
    ).json()["items"]
    assert {(x["item_id"], x["period_no"]) for x in soon} >= {(themed, 9)}
    assert all(x["state"] == "not_yet" and x["deadline"] <= "2023-09-30" for x in soon)
    assert (netsec, 9) not in {(x["item_id"], x["period_no"]) for x in soon}  # c1 already did it
    none_yet = client.get(
        f"{C}/due",
        params={"unit_id": w.c1.id, "year": 2023, "which": "due_soon", "within_days": 3},
        headers=w.c1_h,
    ).json()
    assert none_yet["total"] == 0
    # on 10-03 the October 好人 report is due within 7 days
    today_is(2023, 10, 3)
    w.refresh()
    soon = client.get(
        f"{C}/due", params={"unit_id": w.c2.id, "year": 2023, "which": "due_soon"}, headers=w.c2_h
    ).json()["items"]
    assert [(x["item_id"], x["deadline"]) for x in soon] == [(goodman, "2023-10-07")]


def test_grid_and_trend_payloads(
    client: TestClient, scenario: tuple[World, dict[str, Any]]
) -> None:
    w, _ = scenario
    g = client.get(f"{C}/grid", params={"unit_id": w.street.id, "year": 2023}, headers=w.street_h)
    assert g.status_code == 200, g.text
    rows = {r["unit_id"]: r for r in g.json()["rows"]}
    assert {w.c1.id, w.c2.id} <= set(rows)
    assert [c["month"] for c in rows[w.c1.id]["months"]] == list(range(1, 13))
    aug = rows[w.c1.id]["months"][7]
    table = _table(client, w.street_h, unit_id=w.c1.id, month=8)["summary"]
    assert (aug["total"], aug["met"], aug["late"], aug["missed"]) == (
        table["total"],
        table["met"],
        table["late"],
        table["missed"],
    )
    t = client.get(
        f"{C}/trend", params={"unit_id": w.street.id, "year": 2023}, headers=w.street_h
    ).json()
    assert [p["month"] for p in t["points"]] == list(range(1, 13))
    month8 = _table(client, w.street_h, unit_id=w.street.id, month=8)["summary"]
    assert t["points"][7]["total"] == month8["total"] and t["points"][7]["met"] == month8["met"]

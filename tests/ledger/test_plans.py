"""Plans: the seed-003 template with all its quantified duties, copying last year's plan,
editing items and their targets (data, not code)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is

L = "/api/v1/ledger"


@pytest.fixture
def w(session: Session) -> World:
    today_is(2023, 9, 20)
    return build(session)


def _targets(plan: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return next(i["targets"] for i in plan["items"] if i["code"] == code)


def test_the_seed_003_template_carries_every_quantified_duty(client: TestClient, w: World) -> None:
    plan = plan_from_template(client, w)
    assert (
        plan["title"] == "电厂街道2023年度宣传思想工作要点"
        and plan["source"] == "template:dianchang_2023"
    )
    assert len(plan["sections"]) == 5

    def one(code: str) -> dict[str, Any]:
        (t,) = _targets(plan, code)
        return {
            k: t[k]
            for k in (
                "kind",
                "count",
                "period",
                "scope",
                "child_level",
                "due_day",
                "month",
                "max_minutes",
            )
        }

    base = {"due_day": None, "month": None, "max_minutes": None}
    own = {"scope": "self", "child_level": None, **base}
    each = {"scope": "each_child", "child_level": "community", **base}
    assert one("1.1") == {
        "kind": "min_count",
        "count": 12,
        "period": "year",
        **own,
    }  # 全年不少于12次
    assert one("1.2") == {
        "kind": "min_count",
        "count": 1,
        "period": "quarter",
        **own,
    }  # 每季度至少一个主题
    assert one("1.3") == {
        "kind": "min_count",
        "count": 1,
        "period": "month",
        **own,
    }  # 每月一篇讲话原文
    for code in ("5.1", "5.2", "5.3", "5.4"):  # 意识形态“四个二”
        assert one(code) == {"kind": "min_count", "count": 2, "period": "year", **own}
    assert one("5.5") == {
        "kind": "month_required",
        "count": 1,
        "period": "month",
        **each,
        "month": 9,
    }
    assert one("5.6") == {
        "kind": "response_time",
        "count": 1,
        "period": "month",
        **each,
        "max_minutes": 5,
    }
    assert one("12.1") == {"kind": "min_count", "count": 1, "period": "month", **each}  # 每月方案
    assert one("12.2") == {
        "kind": "min_count",
        "count": 1,
        "period": "month",
        **each,
    }  # 每月志愿服务台账
    assert one("12.3") == {
        "kind": "min_count",
        "count": 8,
        "period": "month",
        **each,
    }  # 每月至少8次
    assert one("12.4") == {
        "kind": "min_count",
        "count": 1,
        "period": "year",
        **each,
    }  # 培育1个品牌项目
    assert one("14") == {
        "kind": "due_day",
        "count": 1,
        "period": "month",
        **each,
        "due_day": 7,
    }  # 7号前
    assert one("17") == {"kind": "min_count", "count": 1, "period": "month", **each}  # 每月一次阅读
    templates = client.get(f"{L}/templates", headers=w.street_h).json()
    assert [t["code"] for t in templates["items"]] == ["dianchang_2023"]


def test_one_plan_per_unit_and_year(client: TestClient, w: World) -> None:
    plan_from_template(client, w)
    r = client.post(f"{L}/plans", json={"unit_id": w.street.id, "year": 2023}, headers=w.street_h)
    assert r.status_code == 409 and r.json()["code"] == "ledger_plan_exists"


def test_copy_from_last_year_keeps_sections_items_and_targets(client: TestClient, w: World) -> None:
    old = plan_from_template(client, w, 2023)
    item = item_by_code(old, "12.3")
    r = client.patch(
        f"{L}/items/{item}",
        json={
            "targets": [
                {
                    "kind": "min_count",
                    "count": 10,
                    "scope": "each_child",
                    "child_level": "community",
                }
            ]
        },
        headers=w.street_h,
    )
    assert r.status_code == 200 and r.json()["targets"][0]["count"] == 10
    r = client.post(
        f"{L}/plans",
        json={"unit_id": w.street.id, "year": 2024, "source": "copy"},
        headers=w.street_h,
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert (
        new["title"] == "电厂街道2024年度宣传思想工作要点" and new["source"] == f"plan:{old['id']}"
    )
    assert [s["title"] for s in new["sections"]] == [s["title"] for s in old["sections"]]
    assert [i["title"] for i in new["items"]] == [i["title"] for i in old["items"]]
    assert _targets(new, "12.3")[0]["count"] == 10
    assert {i["id"] for i in new["items"]}.isdisjoint({i["id"] for i in old["items"]})
    r = client.post(
        f"{L}/plans", json={"unit_id": w.c1.id, "year": 2024, "source": "copy"}, headers=w.c1_h
    )
    assert r.status_code == 422  # 电厂社区 has no 2023 plan of its own


def test_items_sections_and_targets_are_edited_as_data(client: TestClient, w: World) -> None:
    r = client.post(f"{L}/plans", json={"unit_id": w.c1.id, "year": 2023}, headers=w.c1_h)
    assert r.status_code == 201, r.text
    plan = r.json()
    s = client.post(
        f"{L}/plans/{plan['id']}/sections", json={"title": "一、学习"}, headers=w.c1_h
    ).json()
    bad = {"title": "好人", "targets": [{"kind": "due_day"}]}
    assert client.post(f"{L}/plans/{plan['id']}/items", json=bad, headers=w.c1_h).status_code == 422
    r = client.post(
        f"{L}/plans/{plan['id']}/items",
        json={
            "section_id": s["id"],
            "title": "好人",
            "targets": [{"kind": "due_day", "due_day": 10, "count": 2}],
        },
        headers=w.c1_h,
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["targets"][0]["period"] == "month" and item["targets"][0]["due_day"] == 10
    assert (
        client.patch(
            f"{L}/sections/{s['id']}", json={"title": "一、学习引领"}, headers=w.c1_h
        ).json()["title"]
        == "一、学习引领"
    )
    assert (
        client.patch(
            f"{L}/items/{item['id']}", json={"title": "改"}, headers=w.street_h
        ).status_code
        == 200
    )  # street keeps c1
    assert (
        client.patch(f"{L}/items/{item['id']}", json={"title": "改"}, headers=w.c2_h).status_code
        == 404
    )
    assert client.delete(f"{L}/sections/{s['id']}", headers=w.c1_h).status_code == 204
    detail = client.get(f"{L}/plans/{plan['id']}", headers=w.c1_h).json()
    assert detail["sections"] == [] and detail["items"][0]["section_id"] is None
    client.post(
        f"{L}/entries",
        json={"unit_id": w.c1.id, "item_id": item["id"], "entry_date": "2023-09-01", "title": "x"},
        headers=w.c1_h,
    )
    r = client.delete(f"{L}/items/{item['id']}", headers=w.c1_h)
    assert r.status_code == 409 and r.json()["code"] == "ledger_item_has_entries"


def test_plans_applicable_to_a_unit_are_its_own_and_its_ancestors(
    client: TestClient, w: World
) -> None:
    street_plan = plan_from_template(client, w)
    own = client.post(
        f"{L}/plans",
        json={
            "unit_id": w.c1.id,
            "year": 2023,
            "source": "blank",
            "title": "电厂社区2023年度工作要点",
        },
        headers=w.c1_h,
    )
    assert own.status_code == 201, own.text
    for headers in (w.c1_h, w.office_h):
        page = client.get(f"{L}/plans", params={"applicable_to": w.c1.id}, headers=headers).json()
        assert {p["id"] for p in page["items"]} == {street_plan["id"], own.json()["id"]}
        assert page["total"] == 2
    # The sibling community works to the street's plan only; the other street to none of these.
    sibling = client.get(f"{L}/plans", params={"applicable_to": w.c2.id}, headers=w.c2_h).json()
    assert [p["id"] for p in sibling["items"]] == [street_plan["id"]]
    other = client.get(f"{L}/plans", params={"applicable_to": w.other_c.id}, headers=w.office_h)
    assert other.json()["total"] == 0
    # A unit the caller cannot read is not found.
    foreign = client.get(f"{L}/plans", params={"applicable_to": w.c1.id}, headers=w.other_h)
    assert foreign.status_code == 404

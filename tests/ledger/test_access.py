"""Who sees which ledger: a unit sees itself and beneath, never a sibling (404); the city and
the office see their whole subtree; reading is not keeping."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories
from tests.ledger.helpers import World, build, item_by_code, plan_from_template, today_is

L = "/api/v1/ledger"


@pytest.fixture
def world(session: Session, client: TestClient) -> tuple[World, dict[str, Any], int]:
    today_is(2023, 9, 20)
    w = build(session)
    plan = plan_from_template(client, w)
    themed = item_by_code(plan, "12.3")
    r = client.post(
        f"{L}/entries",
        json={
            "unit_id": w.c2.id,
            "item_id": themed,
            "entry_date": "2023-09-01",
            "title": "新华社区活动",
        },
        headers=w.c2_h,
    )
    assert r.status_code == 201, r.text
    return w, plan, r.json()["id"]


def test_a_community_cannot_see_its_sibling(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, plan, c2_entry = world
    for path in (f"/units/{w.c2.id}", f"/entries/{c2_entry}", f"/entries/{c2_entry}/attachments"):
        r = client.get(L + path, headers=w.c1_h)
        assert r.status_code == 404, (path, r.text)
    r = client.get(f"{L}/compliance", params={"unit_id": w.c2.id, "year": 2023}, headers=w.c1_h)
    assert r.status_code == 404
    r = client.get(f"{L}/entries", params={"unit_id": w.c2.id}, headers=w.c1_h)
    assert r.status_code == 404
    assert client.get(f"{L}/entries", headers=w.c1_h).json()["total"] == 0
    # its own compliance shows only itself, though the street's plan obliges both
    rows = client.get(
        f"{L}/compliance", params={"year": 2023, "month": 9, "limit": 200}, headers=w.c1_h
    ).json()["items"]
    assert rows and {r["unit_id"] for r in rows} == {w.c1.id}


def test_a_community_reads_the_street_plan_that_applies_to_it_but_cannot_change_it(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, plan, _ = world
    assert client.get(f"{L}/plans/{plan['id']}", headers=w.c1_h).status_code == 200
    assert [p["id"] for p in client.get(f"{L}/plans", headers=w.c1_h).json()["items"]] == [
        plan["id"]
    ]
    r = client.patch(f"{L}/plans/{plan['id']}", json={"title": "改名"}, headers=w.c1_h)
    assert r.status_code == 403 and r.json()["code"] == "ledger_read_only"
    # a sibling street sees neither the plan nor the street
    assert client.get(f"{L}/plans/{plan['id']}", headers=w.other_h).status_code == 404
    assert client.get(f"{L}/units/{w.street.id}", headers=w.other_h).status_code == 404


def test_a_community_cannot_record_for_its_sibling(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, plan, _ = world
    body = {
        "unit_id": w.c2.id,
        "item_id": item_by_code(plan, "12.3"),
        "entry_date": "2023-09-02",
        "title": "冒名",
    }
    r = client.post(f"{L}/entries", json=body, headers=w.c1_h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["column"] == "unit_id"


def test_the_street_sees_and_keeps_both_communities(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, plan, c2_entry = world
    assert client.get(f"{L}/entries/{c2_entry}", headers=w.street_h).status_code == 200
    children = client.get(
        f"{L}/units", params={"parent_id": w.street.id}, headers=w.street_h
    ).json()
    assert [u["name"] for u in children["items"]] == ["电厂社区", "新华社区"]
    body = {
        "unit_id": w.c1.id,
        "item_id": item_by_code(plan, "12.3"),
        "entry_date": "2023-09-02",
        "title": "街道代录",
    }
    assert client.post(f"{L}/entries", json=body, headers=w.street_h).status_code == 201
    # a community's top unit is itself
    tops = client.get(f"{L}/units", headers=w.c1_h).json()["items"]
    assert [u["id"] for u in tops] == [w.c1.id]


def test_the_city_department_and_the_office_read_but_do_not_keep(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, plan, c2_entry = world
    for h in (w.city_h, w.office_h):
        assert client.get(f"{L}/entries/{c2_entry}", headers=h).status_code == 200
        assert (
            client.get(
                f"{L}/compliance/rollup", params={"unit_id": w.street.id, "year": 2023}, headers=h
            ).status_code
            == 200
        )
        body = {
            "unit_id": w.c1.id,
            "item_id": item_by_code(plan, "12.3"),
            "entry_date": "2023-09-02",
            "title": "x",
        }
        assert (
            client.post(f"{L}/entries", json=body, headers=h).status_code == 403
        )  # read-only callers are refused up front
    assert [u["id"] for u in client.get(f"{L}/units", headers=w.city_h).json()["items"]] == [
        w.city.id
    ]
    # another city's department sees nothing of 合肥
    assert client.get(f"{L}/entries/{c2_entry}", headers=w.other_city_h).status_code == 404
    assert client.get(f"{L}/units/{w.street.id}", headers=w.other_city_h).status_code == 404


def test_people_outside_the_ledger_are_refused(
    session: Session, client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    applicant = factories.bearer(
        session, factories.user(session, ["applicant"], factories.org(session))
    )
    r = client.get(f"{L}/units", headers=applicant)
    assert r.status_code == 403 and r.json()["code"] == "no_ledger_access"
    assert client.get(f"{L}/units").status_code == 401


def test_units_are_added_beneath_what_one_manages(
    client: TestClient, world: tuple[World, dict[str, Any], int]
) -> None:
    w, _, _ = world
    r = client.post(
        f"{L}/units",
        json={"parent_id": w.street.id, "name": "光明社区", "level": "community"},
        headers=w.street_h,
    )
    assert r.status_code == 201, r.text
    u = r.json()
    assert (
        u["path"] == f"{w.street.path}{u['id']}/"
        and u["city"] == "合肥"
        and u["depth"] == w.street.depth + 1
    )
    detail = client.get(f"{L}/units/{u['id']}", headers=w.street_h).json()
    assert [a["id"] for a in detail["ancestors"]] == [w.street.id]  # only what the street sees
    assert (
        client.post(
            f"{L}/units",
            json={"parent_id": w.other_street.id, "name": "x", "level": "community"},
            headers=w.street_h,
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{L}/units", json={"name": "芜湖市", "level": "city", "city": "芜湖"}, headers=w.city_h
        ).status_code
        == 403
    )
    r = client.post(
        f"{L}/units",
        json={"name": "芜湖市", "level": "city", "city": "芜湖"},
        headers=w.other_city_h,
    )
    assert r.status_code == 201 and r.json()["path"] == f"/{r.json()['id']}/"

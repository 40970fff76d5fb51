"""Awarded sites through two yearly cycles: pass, rectify → report → accepted, deadline missed →
delisted, delisted at once for 重大负面舆情; the public list and the plaque register follow."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.applications import builders as b
from tests.applications.builders import Api
from tests.sites.builders import act, awarded_sites

PDF = b"%PDF-1.4\n% evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _inspections(api: Api, office: object, year: int, kind: str) -> dict[int, int]:
    r = api.post(office, "/api/v1/inspections/campaigns", json={"kind": kind, "year": year})  # type: ignore[arg-type]
    assert r.status_code == 201, r.text
    return {i["site_id"]: i["id"] for i in r.json()["items"]}


def test_sites_through_two_yearly_cycles_and_the_public_list(
    api: Api, session: Session, client: TestClient
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    a, bb, c, d = awarded_sites(api, session, rnd, office, 4)
    assert a.plaque_no == "皖思政示范〔2022〕001号"
    site = api.get(a.owner, f"/api/v1/sites/{a.site_id}").json()
    assert site["status"] == "active" and site["awarded_on"] == "2022-11-25"
    assert (
        api.get(a.owner, f"/api/v1/sites/{a.site_id}/history").json()["items"][0]["action"]
        == "create"
    )

    # ---- 2023: inspection campaign; a, c, d pass; b must rectify by 2023-06-30 --------------
    b.set_day(date(2023, 4, 10))
    insp = _inspections(api, office, 2023, "inspection")
    assert set(insp) == {a.site_id, bb.site_id, c.site_id, d.site_id}
    for s in (a, c, d):
        r = act(
            api,
            office,
            s.site_id,
            "pass",
            inspection_id=insp[s.site_id],
            findings="台账齐全",
            opinion="合格",
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "active"
    r = act(api, office, bb.site_id, "rectify", inspection_id=insp[bb.site_id], findings="志愿服务台账缺失",
            deadline="2023-06-30", opinion="限期整改")  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectifying"
    assert r.json()["open_rectification"]["deadline"] == "2023-06-30"
    # The site's own people see the deadline and may report.
    own = api.get(bb.owner, f"/api/v1/sites/{bb.site_id}").json()
    assert own["allowed_actions"] == ["submit_report"]
    # A second inspection of the same kind in one year is refused; the campaign skips it.
    r = api.post(
        office, f"/api/v1/sites/{a.site_id}/inspections", json={"kind": "inspection", "year": 2023}
    )
    assert r.status_code == 409 and r.json()["code"] == "inspection_exists"
    again = api.post(
        office, "/api/v1/inspections/campaigns", json={"kind": "inspection", "year": 2023}
    ).json()
    assert again["created"] == 0 and again["skipped"] == 4
    # The review (复核) of the same year is another kind: allowed.
    review = _inspections(api, office, 2023, "review")
    assert len(review) == 4
    assert act(api, office, a.site_id, "pass", inspection_id=review[a.site_id]).status_code == 200

    # ---- c: 重大负面舆情 delists at once, from active ------------------------------------------
    r = act(
        api,
        office,
        c.site_id,
        "delist",
        reason="negative_public_opinion",
        opinion="发生重大负面舆情，予以摘牌。",
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["status"] == "delisted" and r.json()["delist_reason"] == "negative_public_opinion"
    )

    # ---- b: the deadline passes with no report → overdue → delisted ----------------------------
    b.set_day(date(2023, 6, 20))
    rem = api.get(office, "/api/v1/sites/reminders").json()
    assert [x["site"]["id"] for x in rem["due_soon"]] == [bb.site_id] and rem["due_soon"][0][
        "days_left"
    ] == 10
    r = act(api, office, bb.site_id, "delist", reason="rectification_failed", opinion="逾期未整改")
    assert r.status_code == 409 and r.json()["code"] == "delist_not_allowed"  # deadline not reached
    b.set_day(date(2023, 7, 3))
    rem = api.get(office, "/api/v1/sites/reminders").json()
    assert [x["site"]["id"] for x in rem["overdue"]] == [bb.site_id] and rem["overdue"][0][
        "days_left"
    ] == -3
    r = act(api, bb.owner, bb.site_id, "submit_report", report="已整改")
    assert r.status_code == 409 and r.json()["code"] == "deadline_passed"
    r = act(
        api,
        office,
        bb.site_id,
        "delist",
        reason="rectification_failed",
        opinion="逾期未完成整改，予以摘牌。",
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "delisted"
    rects = api.get(office, f"/api/v1/sites/{bb.site_id}/rectifications").json()["items"]
    assert rects[0]["status"] == "failed"
    assert api.get(office, "/api/v1/sites/reminders").json()["overdue"] == []

    # ---- 2024: a must rectify, reports with evidence, the office refuses once then accepts ----
    b.set_day(date(2024, 3, 1))
    insp = _inspections(api, office, 2024, "inspection")
    assert set(insp) == {a.site_id, d.site_id}  # delisted sites are no longer inspected
    r = act(api, office, a.site_id, "rectify", inspection_id=insp[a.site_id], findings="理论学习不足12次",
            deadline="2024-05-31", opinion="限期整改")  # fmt: skip
    rect_id = r.json()["open_rectification"]["id"]
    b.set_day(date(2024, 4, 1))
    up = api.post(a.owner, f"/api/v1/sites/{a.site_id}/rectifications/{rect_id}/evidence",
                  files={"file": ("整改台账.pdf", io.BytesIO(PDF), "application/pdf")})  # fmt: skip
    assert up.status_code == 201, up.text
    r = act(
        api, a.owner, a.site_id, "submit_report", report="已补齐理论学习台账并组织专题学习4次。"
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["open_rectification"]["status"] == "submitted"
        and r.json()["allowed_actions"] == []
    )
    r = act(api, office, a.site_id, "refuse_report", opinion="学习记录不完整，请补充。")
    assert r.status_code == 200 and r.json()["open_rectification"]["status"] == "refused"
    assert (
        act(api, a.owner, a.site_id, "submit_report", report="已补充全部学习记录。").status_code
        == 200
    )
    r = act(api, office, a.site_id, "accept_report", opinion="整改到位。")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["open_rectification"] is None
    assert act(api, office, d.site_id, "pass", inspection_id=insp[d.site_id]).status_code == 200
    history = api.get(a.owner, f"/api/v1/sites/{a.site_id}/history").json()["items"]
    assert [h["action"] for h in history if h["from_state"]] == [
        "pass",
        "pass",
        "rectify",
        "submit_report",
        "refuse_report",
        "submit_report",
        "accept_report",
    ]
    report = next(h for h in history if h["action"] == "submit_report")
    assert report["data"]["evidence_file_ids"] == [up.json()["id"]]

    # ---- 2025: the new round confirms a carried-over site -------------------------------------
    b.set_day(date(2025, 5, 10))
    later = b.make_round(session, year=2025)
    r = act(api, office, a.site_id, "confirm", round_id=later.id)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    confirmed = api.get(a.owner, f"/api/v1/sites/{a.site_id}/history").json()["items"][-1]
    assert confirmed["action"] == "confirm" and confirmed["data"]["year"] == 2025
    r = act(api, office, a.site_id, "confirm", round_id=rnd.id)
    assert r.status_code == 422  # its own round is no later round
    assert (
        act(api, office, c.site_id, "confirm", round_id=later.id).json()["code"]
        == "invalid_transition"
    )

    # ---- the public list shows exactly the active sites, without login -----------------------
    listed = client.get("/api/v1/public/sites").json()
    assert {s["plaque_no"] for s in listed["items"]} == {a.plaque_no, d.plaque_no} and listed[
        "total"
    ] == 2
    assert client.get("/api/v1/public/sites", params={"city": "合肥"}).json()["total"] == 1
    assert client.get("/api/v1/public/sites", params={"field": "school"}).json()["total"] == 0
    assert (
        client.get("/api/v1/public/sites", params={"round_id": rnd.id, "limit": 1}).json()["items"][
            0
        ]["plaque_no"]
        == a.plaque_no
    )

    # ---- plaque register: active and delisted, by the URL-encoded number ---------------------
    ok = client.get(f"/api/v1/public/plaques/{quote(a.plaque_no)}")
    assert (
        ok.status_code == 200
        and ok.json()["status"] == "active"
        and ok.json()["round_year"] == 2022
    )
    gone = client.get(f"/api/v1/public/plaques/{quote(c.plaque_no)}").json()
    assert gone["status"] == "delisted" and gone["delisted_on"] == "2023-04-10"
    missing = client.get(f"/api/v1/public/plaques/{quote('皖思政示范〔2022〕999号')}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    # ---- a delisted site keeps its whole history ----------------------------------------------
    kept = api.get(office, f"/api/v1/sites/{bb.site_id}/history").json()["items"]
    assert [h["action"] for h in kept] == [
        "create",
        "open_inspection",
        "rectify",
        "open_inspection",
        "delist",
    ]
    assert (
        kept[-1]["opinion"] == "逾期未完成整改，予以摘牌。"
        and kept[-1]["data"]["reason"] == "rectification_failed"
    )

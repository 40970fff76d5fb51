"""A whole round through HTTP: 16 cities × 4 fields + 10 + 5 + 5 recommended, then every later
stage to the award, with history, opinions, quota board, events and dashboard counts."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from demosites.events.models import OutboxEvent
from demosites.organizations.models import CITIES, CITY_CODES
from tests.applications import builders as b
from tests.applications.builders import Api

CITY_UNITS = (  # field → (kind, extra)
    ("school", "primary_school", {}),
    ("enterprise", "enterprise", {"ownership": "other"}),
    ("community", "community", {}),
    ("rural", "village", {}),
)


def _ok(r, status: int = 200):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    return r.json()


def test_a_whole_round_from_drafts_to_84_plaques(api: Api, session: Session) -> None:
    office = b.person(session, ["office"], "office")
    b.set_day(b.BEFORE)
    rnd = _ok(api.post(office, "/api/v1/rounds", json={"year": 2022, "name": "2022年度示范点创建",
                                                       **{k: str(v) for k, v in b.WINDOWS_2022.items()}}), 201)  # fmt: skip
    board = _ok(api.get(office, f"/api/v1/rounds/{rnd['id']}/quotas"))
    assert board["total"] == 16 * 4 + 3
    assert sum(q["limit"] for q in board["items"]) == 84
    assert all(q["used"] == 0 and q["left"] == q["limit"] for q in board["items"])

    # Units: every city in every field, and the provincial bodies' own units.
    plan: list[tuple[str, dict]] = []  # (recommender code, applicant body)
    for city in CITIES:
        for _field, kind, extra in CITY_UNITS:
            plan.append(
                (
                    CITY_CODES[city],
                    {"name": f"{city}{kind}示范单位", "kind": kind, "city": city, **extra},
                )
            )
    for i in range(10):
        plan.append(("edu", {"name": f"省属高校{i}马克思主义学院", "kind": "university_unit", "city": "合肥",
                             "university": f"省属高校{i}", "provincial_university": True}))  # fmt: skip
    for i in range(5):
        plan.append(
            (
                "sasac",
                {
                    "name": f"省属国企{i}",
                    "kind": "enterprise",
                    "city": "合肥",
                    "ownership": "provincial_soe",
                },
            )
        )
    for i in range(5):
        plan.append(
            (
                "fic",
                {
                    "name": f"民营企业{i}",
                    "kind": "enterprise",
                    "city": "芜湖",
                    "ownership": "private",
                },
            )
        )
    units = [
        (rec, _ok(api.post(office, "/api/v1/applicants", json=body), 201)) for rec, body in plan
    ]

    recommenders = {
        code: b.person(session, ["recommender"], code) for code in {rec for rec, _ in plan}
    }
    b.set_day(b.APPLYING)
    app_ids: list[int] = []
    for rec, unit in units:
        who = recommenders[rec]
        app = _ok(api.post(who, "/api/v1/applications", json={
            "round_id": rnd["id"], "applicant_id": unit["id"], "name": f"{unit['name']}思政示范点",
            "summary": "简要事迹", "deeds": "先进事迹材料"}), 201)  # fmt: skip
        assert app["status"] == "draft" and "submit" in app["allowed_actions"]
        assert _ok(api.act(who, app["id"], "submit"))["status"] == "submitted"
        done = _ok(api.act(who, app["id"], "recommend", opinion="同意推荐"))
        assert done["status"] == "recommended"
        app_ids.append(app["id"])
    board = _ok(api.get(office, f"/api/v1/rounds/{rnd['id']}/quotas"))
    assert all(q["used"] == q["limit"] and q["left"] == 0 for q in board["items"])
    listed = _ok(
        api.get(
            office,
            "/api/v1/applications",
            params={"round_id": rnd["id"], "status": "recommended", "limit": 200},
        )
    )
    assert listed["total"] == 84

    # 考核审批: 初审, assessment teams, 考核, proposal, review meeting, 部务会.
    b.set_day(b.ASSESSING)
    assessor = b.person(session, ["assessor"], "cac")
    committee = b.person(session, ["committee"], "union")
    approver = b.person(session, ["approver"], "office")
    batch = "/api/v1/applications/transitions"
    passed = _ok(
        api.post(
            office,
            batch,
            json={"action": "pass_preliminary", "application_ids": app_ids, "opinion": "符合条件"},
        )
    )
    assert passed["total"] == 84 and {a["status"] for a in passed["items"]} == {
        "preliminary_passed"
    }
    for app_id in app_ids:
        _ok(
            api.put(
                office, f"/api/v1/applications/{app_id}/assessors", json={"user_ids": [assessor.id]}
            )
        )
        assert _ok(api.act(assessor, app_id, "record_assessment", opinion="考核属实", visit_date="2022-09-10",
                           scores={"political": 90, "contemporary": 85, "effective": 88, "exemplary": 92}))["status"] == "assessed"  # fmt: skip
    _ok(api.post(office, batch, json={"action": "propose", "application_ids": app_ids}))
    review = _ok(api.post(office, f"/api/v1/rounds/{rnd['id']}/meetings",
                          json={"kind": "review", "held_on": "2022-10-20", "reference": "评审会", "attendees": ["甲", "乙"]}), 201)  # fmt: skip
    _ok(
        api.post(
            committee,
            batch,
            json={"action": "adopt", "application_ids": app_ids, "meeting_id": review["id"]},
        )
    )
    meeting = _ok(api.post(office, f"/api/v1/rounds/{rnd['id']}/meetings",
                           json={"kind": "approval", "held_on": "2022-11-05", "reference": "第32次部务会"}), 201)  # fmt: skip
    _ok(api.post(approver, batch, json={"action": "approve", "application_ids": app_ids, "meeting_id": meeting["id"],
                                        "opinion": "同意授牌"}))  # fmt: skip

    # 组织授牌: plaque numbers unique in the round.
    b.set_day(b.AWARDING)
    awarded = _ok(api.post(office, batch, json={"action": "award", "application_ids": app_ids}))
    plaques = sorted(a["plaque_no"] for a in awarded["items"])
    assert plaques == [f"皖思政示范〔2022〕{i:03d}号" for i in range(1, 85)]
    assert all(a["awarded_at"] for a in awarded["items"])

    one = _ok(api.get(office, f"/api/v1/applications/{app_ids[0]}"))
    assert [o["stage"] for o in one["opinions"]] == [
        "recommendation",
        "preliminary",
        "assessment",
        "review",
        "approval",
    ]
    assert (
        one["opinions"][0]["opinion"] == "同意推荐" and one["opinions"][0]["date"] == "2022-07-01"
    )
    assert one["scores"]["political"] == 90 and one["visit_date"] == "2022-09-10"
    steps = _ok(api.get(office, f"/api/v1/applications/{app_ids[0]}/history"))["items"]
    assert [(h["action"], h["actor_role"]) for h in steps if h["to_state"] != h["from_state"]] == [
        ("create", "recommender"), ("submit", "recommender"), ("recommend", "recommender"),
        ("pass_preliminary", "office"), ("record_assessment", "assessor"), ("propose", "office"),
        ("adopt", "committee"), ("approve", "approver"), ("award", "office"),
    ]  # fmt: skip
    stats = _ok(api.get(office, f"/api/v1/rounds/{rnd['id']}/stats"))
    assert stats["total"] == 84 and stats["by_status"] == [{"key": "awarded", "count": 84}]
    assert {c["key"]: c["count"] for c in stats["by_field"]} == {
        "school": 26,
        "enterprise": 26,
        "community": 16,
        "rural": 16,
    }
    awarded_events = session.exec(
        select(func.count())
        .select_from(OutboxEvent)
        .where(
            OutboxEvent.event_type == "application.awarded", col(OutboxEvent.object_id).in_(app_ids)
        )  # fmt: skip
    ).one()
    assert awarded_events == 84

"""Rounds (创建轮次): default quota rules, the calendar and its phases, moving windows with a
reason, quota rules editable only before the application window, exceptions and meetings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from demosites.applicants.models import ApplicantUnit
from demosites.organizations.models import Organization
from demosites.rounds import service
from demosites.rounds.models import Phase
from tests.applications import builders as b
from tests.applications.builders import Api

ROUND = {
    "year": 2022,
    "name": "2022年度示范点创建",
    **{k: str(v) for k, v in b.WINDOWS_2022.items()},
}


def _round(api: Api, office: object) -> dict:
    b.set_day(b.BEFORE)
    r = api.post(office, "/api/v1/rounds", json=ROUND)  # type: ignore[arg-type]
    assert r.status_code == 201, r.text
    return r.json()


def test_a_new_round_copies_the_notices_quota_rules(api: Api, session: Session) -> None:
    office = b.person(session, ["office"], "office")
    rnd = _round(api, office)
    board = {
        (q["recommender_code"], q["field"]): q
        for q in api.get(office, f"/api/v1/rounds/{rnd['id']}/quotas").json()["items"]
    }
    assert board[("hefei", "school")]["limit"] == 1 and board[("xuancheng", "rural")]["limit"] == 1
    assert board[("edu", "school")]["limit"] == 10
    assert board[("edu", "school")]["eligibility"] == {
        "kinds": ["university_unit"],
        "provincial_university": True,
    }
    assert (
        board[("sasac", "enterprise")]["limit"] == 5 and board[("fic", "enterprise")]["limit"] == 5
    )
    assert board[("fic", "enterprise")]["eligibility"]["ownership"] == ["private"]
    assert len([k for k in board if k[0] == "hefei"]) == 4
    assert rnd["current_phase"] == "not_started" and rnd["quota_rules_editable"] is True
    dup = api.post(office, "/api/v1/rounds", json=ROUND)
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate"


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (date(2022, 5, 31), Phase.not_started),
        (date(2022, 6, 1), Phase.application),
        (date(2022, 8, 10), Phase.application),  # the materials deadline day
        (date(2022, 8, 12), Phase.between_phases),
        (date(2022, 8, 15), Phase.assessment),
        (date(2022, 11, 25), Phase.awarding),
        (date(2023, 6, 30), Phase.publicity),
        (date(2023, 7, 1), Phase.ended),
    ],
)
def test_the_current_phase_follows_the_clock(session: Session, day: date, phase: Phase) -> None:
    r = b.make_round(session)
    assert service.current_phase(r, day) == phase


def test_windows_must_not_overlap(api: Api, session: Session) -> None:
    office = b.person(session, ["office"], "office")
    b.set_day(b.BEFORE)
    bad = api.post(office, "/api/v1/rounds", json={**ROUND, "assessment_start": "2022-08-10"})
    assert bad.status_code == 422 and "assessment_start" in bad.json()["detail"]
    rnd = _round(api, office)
    moved = api.patch(
        office,
        f"/api/v1/rounds/{rnd['id']}",
        json={"awarding_start": "2022-11-01", "reason": "提前"},
    )
    assert moved.status_code == 422


def test_moving_a_window_needs_a_reason_and_the_history_keeps_it(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    rnd = _round(api, office)
    path = f"/api/v1/rounds/{rnd['id']}"
    b.set_day(b.MATERIALS)  # a window may move at any time, also during the phase
    no_reason = api.patch(office, path, json={"materials_deadline": "2022-08-12"})
    assert no_reason.status_code == 422
    etag = api.get(office, path).headers["ETag"]
    moved = api.patch(office, path, json={"materials_deadline": "2022-08-12", "reason": "因汛期顺延材料报送截止时间"},
                      headers={"If-Match": etag})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["materials_deadline"] == "2022-08-12"
    stale = api.patch(office, path, json={"name": "新名称"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    history = api.get(office, f"{path}/history").json()["items"]
    move = next(h for h in history if h["action"] == "move_windows")
    assert move["opinion"] == "因汛期顺延材料报送截止时间"
    assert move["data"]["changes"]["materials_deadline"] == ["2022-08-10", "2022-08-12"]
    rec = b.person(session, ["recommender"], "hefei")
    assert api.patch(rec, path, json={"name": "x"}).status_code == 403


def test_quota_rules_change_only_before_the_application_window_opens(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    rnd = _round(api, office)
    board = api.get(office, f"/api/v1/rounds/{rnd['id']}/quotas").json()["items"]
    edu = next(q for q in board if q["recommender_code"] == "edu")
    path = f"/api/v1/rounds/{rnd['id']}/quotas/{edu['id']}"
    changed = api.patch(
        office, path, json={"limit": 12, "eligibility": {"kinds": ["university_unit"]}}
    )
    assert changed.status_code == 200 and changed.json()["limit"] == 12
    assert changed.json()["eligibility"] == {
        "scope": "any",
        "kinds": ["university_unit"],
        "exclude": [],
    }
    bad = api.patch(office, path, json={"eligibility": {"kinds": ["castle"]}})
    assert bad.status_code == 422
    civil = session.query(Organization).filter_by(code="civil").one()
    not_rec = api.post(office, f"/api/v1/rounds/{rnd['id']}/quotas",
                       json={"recommender_id": civil.id, "field": "community", "limit": 2, "eligibility": {}})  # fmt: skip
    assert not_rec.status_code == 422
    b.set_day(b.APPLYING)
    locked = api.patch(office, path, json={"limit": 20})
    assert locked.status_code == 409 and locked.json()["code"] == "outside_phase"
    assert api.get(office, f"/api/v1/rounds/{rnd['id']}").json()["quota_rules_editable"] is False


def test_eligibility_rules_read_as_the_notice(session: Session) -> None:
    hefei = session.query(Organization).filter_by(code="hefei").one()
    city_school = {"scope": "own_city", "kinds": ["primary_school", "university_unit"],
                   "exclude": ["provincial_university", "provincial_soe"]}  # fmt: skip

    def unit(**kw: object) -> ApplicantUnit:
        return ApplicantUnit(
            organization_id=0, name="u", created_at=b.clock.now(), **{"city": "合肥", **kw}
        )  # type: ignore[arg-type]

    assert service.admits(city_school, unit(kind="primary_school", field="school"), hefei)
    assert not service.admits(
        city_school, unit(kind="primary_school", field="school", city="芜湖"), hefei
    )
    assert service.admits(
        city_school,
        unit(kind="university_unit", field="school", provincial_university=False),
        hefei,
    )
    assert not service.admits(
        city_school, unit(kind="university_unit", field="school", provincial_university=True), hefei
    )
    fic = {"kinds": ["enterprise"], "ownership": ["private"]}
    assert service.admits(
        fic, unit(kind="enterprise", field="enterprise", ownership="private", city="芜湖"), hefei
    )
    assert not service.admits(
        fic, unit(kind="enterprise", field="enterprise", ownership="provincial_soe"), hefei
    )


def test_meetings_are_recorded_by_the_office_and_read_by_the_meetings(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    rnd = _round(api, office)
    path = f"/api/v1/rounds/{rnd['id']}/meetings"
    m = api.post(office, path, json={"kind": "review", "held_on": "2022-10-20", "reference": "评审会",
                                     "attendees": ["省委网信办 张三", " "]})  # fmt: skip
    assert m.status_code == 201 and m.json()["attendees"] == ["省委网信办 张三"]
    committee = b.person(session, ["committee"], "union")
    assert api.get(committee, path).json()["total"] == 1
    assert (
        api.post(
            committee, path, json={"kind": "review", "held_on": "2022-10-20", "reference": "x"}
        ).status_code
        == 403
    )
    assert (
        api.post(
            office, path, json={"kind": "party", "held_on": "2022-10-20", "reference": "x"}
        ).status_code
        == 422
    )
    assert (
        api.post(
            office, path, json={"kind": "review", "held_on": "2022-10-20", "reference": "a\x00b"}
        ).status_code
        == 422
    )
    rec = b.person(session, ["recommender"], "hefei")
    assert api.get(rec, path).status_code == 403
    assert api.get(office, "/api/v1/rounds/999999/meetings").status_code == 404


def test_stats_count_by_status_city_and_field(api: Api, session: Session) -> None:
    office = b.person(session, ["office"], "office")
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    hefei, wuhu = b.org(session, "hefei"), b.org(session, "wuhu")
    b.application(session, r, b.unit(session, "community", "合肥"), hefei, "submitted")  # type: ignore[arg-type]
    b.application(session, r, b.unit(session, "village", "芜湖"), wuhu, "recommended")  # type: ignore[arg-type]
    stats = api.get(office, f"/api/v1/rounds/{r.id}/stats").json()
    assert stats["total"] == 2
    assert {c["key"]: c["count"] for c in stats["by_city"]} == {"合肥": 1, "芜湖": 1}
    assert {c["key"] for c in stats["by_field"]} == {"community", "rural"}
    assert (
        api.get(
            b.person(session, ["recommender"], hefei), f"/api/v1/rounds/{r.id}/stats"
        ).status_code
        == 403
    )

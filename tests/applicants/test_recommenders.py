"""推荐单位 offered to an applicant unit: the rounds service's eligibility, asked through the API."""

from __future__ import annotations

from sqlmodel import Session

from tests.applications import builders as b
from tests.applications.builders import Api


def _path(unit_id: int) -> str:
    return f"/api/v1/applicants/{unit_id}/recommenders"


def test_a_city_school_is_offered_its_own_city_and_no_other(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    school = b.unit(session, "primary_school", "合肥")
    applicant = b.person(session, ["applicant"], b.org_of(session, school))
    r1 = api.get(applicant, _path(school.id or 0), params={"round_id": r.id})
    assert r1.status_code == 200, r1.text
    codes = [q["recommender_code"] for q in r1.json()["items"]]
    assert "hefei" in codes and "wuhu" not in codes
    assert r1.json()["total"] == len(codes)
    for q in r1.json()["items"]:
        assert q["field"] == "school" and q["left"] == q["limit"] - q["used"]


def test_enterprises_are_offered_by_ownership(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    office = b.person(session, ["office"], "office")
    soe = b.unit(session, "enterprise", "芜湖", ownership="provincial_soe")
    private = b.unit(session, "enterprise", "芜湖", ownership="private")

    def codes(unit_id: int) -> set[str]:
        page = api.get(office, _path(unit_id), params={"round_id": r.id}).json()
        return {q["recommender_code"] for q in page["items"]}

    assert "sasac" in codes(soe.id or 0) and "fic" not in codes(soe.id or 0)
    assert "fic" in codes(private.id or 0) and "sasac" not in codes(private.id or 0)


def test_a_foreign_unit_or_round_is_not_found(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    mine = b.unit(session, "primary_school", "合肥")
    other = b.unit(session, "primary_school", "合肥")
    applicant = b.person(session, ["applicant"], b.org_of(session, mine))
    foreign = api.get(applicant, _path(other.id or 0), params={"round_id": r.id})
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    no_round = api.get(applicant, _path(mine.id or 0), params={"round_id": 2**31 - 1})
    assert no_round.status_code == 404
    assert api.get(applicant, _path(mine.id or 0)).status_code == 422  # round_id is required

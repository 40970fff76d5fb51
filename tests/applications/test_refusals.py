"""Every refusal of the stage machine answers its stable code through HTTP; batches are atomic."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from demosites.applications.models import Application, AssessmentAssignment, Status
from demosites.audit.models import HistoryEntry
from demosites.core.clock import clock
from demosites.rounds.models import Quota
from tests.applications import builders as b
from tests.applications.builders import Api


def _code(r: Any, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return body


def _setup(session: Session) -> tuple[Any, Any, Any]:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    hefei = b.org(session, "hefei")
    rec = b.person(session, ["recommender"], hefei)
    return r, hefei, rec


def _file(api: Api, who: Any, round_id: int, unit_id: int | None = None, **extra: Any) -> Any:
    body = {
        "round_id": round_id,
        "name": "思政示范点",
        "summary": "简要事迹",
        "deeds": "事迹",
        **extra,
    }
    if unit_id is not None:
        body["applicant_id"] = unit_id
    return api.post(who, "/api/v1/applications", json=body)


def test_wrong_role_is_forbidden(api: Api, session: Session) -> None:
    r, hefei, _rec = _setup(session)
    u = b.unit(session, "primary_school", "合肥")
    applicant = b.person(session, ["applicant"], str(b.org_of(session, u).code))
    app = b.application(session, r, u, hefei, Status.submitted)
    _code(api.act(applicant, app.id, "recommend", opinion="自荐"), 403, "forbidden")
    _code(api.act(applicant, app.id, "pass_preliminary", opinion="x"), 403, "forbidden")


def test_wrong_state_is_an_invalid_transition(api: Api, session: Session) -> None:
    r, hefei, rec = _setup(session)
    u = b.unit(session, "primary_school", "合肥")
    app = _file(api, rec, r.id, u.id).json()
    assert app["allowed_actions"] == ["submit"]
    _code(api.act(rec, app["id"], "recommend", opinion="同意"), 409, "invalid_transition")
    _code(api.act(rec, app["id"], "withdraw"), 409, "invalid_transition")


def test_a_closed_phase_is_refused_until_the_office_records_an_exception(
    api: Api, session: Session
) -> None:
    r, hefei, rec = _setup(session)
    u = b.unit(session, "primary_school", "合肥")
    app = b.application(session, r, u, hefei, Status.submitted)
    b.set_day(b.GAP)  # after the materials deadline
    got = api.get(rec, f"/api/v1/applications/{app.id}").json()
    assert got["allowed_actions"] == []
    _code(api.act(rec, app.id, "recommend", opinion="同意"), 409, "outside_phase")
    office = b.person(session, ["office"], "office")
    exc = api.post(office, f"/api/v1/rounds/{r.id}/exceptions",
                   json={"action": "recommend", "application_id": app.id, "on_date": str(b.GAP), "reason": "系统故障顺延"})  # fmt: skip
    assert exc.status_code == 201, exc.text
    assert "recommend" in api.get(rec, f"/api/v1/applications/{app.id}").json()["allowed_actions"]
    assert api.act(rec, app.id, "recommend", opinion="同意").status_code == 200
    history = api.get(office, f"/api/v1/rounds/{r.id}/history").json()["items"]
    assert any(h["action"] == "phase_exception" and h["opinion"] == "系统故障顺延" for h in history)
    # An exception is for its date only.
    b.set_day(b.ASSESSING)
    other = b.application(session, r, b.unit(session, "community", "合肥"), hefei, Status.submitted)
    _code(api.act(rec, other.id, "recommend", opinion="同意"), 409, "outside_phase")


def test_no_quota_left_is_quota_exceeded_and_withdraw_frees_it(api: Api, session: Session) -> None:
    r, hefei, rec = _setup(session)
    first = b.application(
        session, r, b.unit(session, "primary_school", "合肥"), hefei, Status.submitted
    )
    second = b.application(
        session, r, b.unit(session, "university_unit", "合肥"), hefei, Status.submitted
    )
    assert api.act(rec, first.id, "recommend", opinion="同意").status_code == 200
    _code(api.act(rec, second.id, "recommend", opinion="同意"), 409, "quota_exceeded")
    assert api.act(rec, first.id, "withdraw").status_code == 200
    assert api.act(rec, second.id, "recommend", opinion="同意").status_code == 200
    school = session.exec(select(Quota).where(Quota.round_id == r.id, Quota.recommender_id == hefei.id,
                                              Quota.field == "school")).one()  # fmt: skip
    session.refresh(school)
    assert school.used == 1


def test_units_outside_a_rule_are_not_eligible(api: Api, session: Session) -> None:
    r, hefei, rec = _setup(session)
    soe = b.unit(session, "enterprise", "合肥", ownership="provincial_soe")
    _code(_file(api, rec, r.id, soe.id), 409, "not_eligible")  # provincial SOEs belong to 省国资委
    pu = b.unit(session, "university_unit", "合肥", provincial_university=True)
    _code(_file(api, rec, r.id, pu.id), 409, "not_eligible")  # and 省属高校 to 省委教育工委
    fic = b.person(session, ["recommender"], "fic")
    other = b.unit(session, "enterprise", "合肥", ownership="other")
    _code(
        _file(api, fic, r.id, other.id), 409, "not_eligible"
    )  # 省工商联 recommends private firms only
    wuhu = b.unit(session, "community", "芜湖")
    assert (
        api.post(
            rec,
            "/api/v1/applicants",
            json={"name": "芜湖社区", "kind": "community", "city": "芜湖"},
        ).status_code
        == 403
    )
    got = _file(api, rec, r.id, wuhu.id)
    assert got.status_code == 404  # another city's unit is not even visible to 合肥


def test_a_second_live_application_is_a_duplicate_also_through_another_recommender(
    api: Api, session: Session
) -> None:
    r, hefei, rec = _setup(session)
    private = b.unit(session, "enterprise", "合肥", ownership="private")
    assert _file(api, rec, r.id, private.id).status_code == 201
    _code(_file(api, rec, r.id, private.id), 409, "duplicate_application")
    fic = b.person(session, ["recommender"], "fic")
    _code(_file(api, fic, r.id, private.id), 409, "duplicate_application")
    # Once the city declines it, the firm may come through 省工商联 instead.
    app = session.exec(select(Application).where(Application.applicant_id == private.id)).one()
    assert api.act(rec, app.id, "submit").status_code == 200
    assert api.act(rec, app.id, "decline", opinion="建议通过省工商联申报").status_code == 200
    assert _file(api, fic, r.id, private.id).status_code == 201


def test_an_assessor_from_the_recommending_body_has_a_conflict_of_interest(
    api: Api, session: Session
) -> None:
    r, _hefei, _rec = _setup(session)
    edu = b.org(session, "edu")
    app = b.application(session, r, b.unit(session, "university_unit", "合肥", provincial_university=True), edu,
                        Status.preliminary_passed)  # fmt: skip
    office = b.person(session, ["office"], "office")
    edu_staff = b.person(session, ["assessor", "recommender"], edu)
    b.set_day(b.ASSESSING)
    _code(api.put(office, f"/api/v1/applications/{app.id}/assessors", json={"user_ids": [edu_staff.id]}),
          409, "conflict_of_interest")  # fmt: skip
    # Even if an assignment exists (assigned before a move), recording is refused.
    session.add(
        AssessmentAssignment(application_id=app.id, user_id=edu_staff.id, assigned_at=clock.now())
    )
    session.flush()
    body = b.payload_for("record_assessment", r, session)
    _code(
        api.post(edu_staff, f"/api/v1/applications/{app.id}/transitions", json=body),
        409,
        "conflict_of_interest",
    )
    plain = b.person(session, ["recommender"], "hefei")
    _code(api.put(office, f"/api/v1/applications/{app.id}/assessors", json={"user_ids": [plain.id]}),
          422, "validation_error")  # fmt: skip


def test_missing_opinions_scores_and_meetings_are_validation_errors(
    api: Api, session: Session
) -> None:
    r, hefei, rec = _setup(session)
    app = b.application(
        session, r, b.unit(session, "primary_school", "合肥"), hefei, Status.submitted
    )
    _code(api.act(rec, app.id, "recommend"), 422, "validation_error")
    _code(api.act(rec, app.id, "return", opinion="   "), 422, "validation_error")
    _code(api.act(rec, app.id, "teleport"), 422, "validation_error")
    _code(
        api.act(rec, app.id, "recommend", opinion="同意", meeting_id=2**40), 422, "validation_error"
    )
    b.set_day(b.ASSESSING)
    cand = b.application(
        session, r, b.unit(session, "community", "合肥"), hefei, Status.preliminary_passed
    )
    cast = b.cast_for(session, cand)
    _code(
        api.act(cast.assessor, cand.id, "record_assessment", opinion="属实"),
        422,
        "validation_error",
    )
    prop = b.application(session, r, b.unit(session, "village", "合肥"), hefei, Status.proposed)
    _code(api.act(cast.committee, prop.id, "adopt"), 422, "validation_error")
    wrong_kind = b.meeting(session, r, "approval")
    _code(api.act(cast.committee, prop.id, "adopt", meeting_id=wrong_kind.id), 404, "not_found")


def test_an_incomplete_form_cannot_be_submitted(api: Api, session: Session) -> None:
    r, hefei, rec = _setup(session)
    u = b.unit(session, "primary_school", "合肥")
    app = _file(
        api,
        rec,
        r.id,
        u.id,
        summary="",
        priority_claims=[{"kind": "media_report", "description": "省报报道"}],
    ).json()
    assert app["priority"] is True
    body = _code(api.act(rec, app["id"], "submit"), 422, "validation_error")
    assert "summary" in body["detail"] and "media_report" in body["detail"]


def test_a_batch_with_one_bad_member_changes_nothing(api: Api, session: Session) -> None:
    r, hefei, _rec = _setup(session)
    good = [b.application(session, r, b.unit(session, k, "合肥"), hefei, Status.recommended)
            for k in ("primary_school", "community", "village")]  # fmt: skip
    bad = b.application(session, r, b.unit(session, "enterprise", "合肥"), hefei, Status.submitted)
    office = b.person(session, ["office"], "office")
    b.set_day(b.ASSESSING)
    history_before = session.exec(select(func.count()).select_from(HistoryEntry)).one()
    ids = [good[0].id, bad.id, good[1].id, good[2].id]
    body = _code(api.post(office, "/api/v1/applications/transitions",
                          json={"action": "pass_preliminary", "application_ids": ids, "opinion": "符合"}),
                 409, "invalid_transition")  # fmt: skip
    assert body["application_id"] == bad.id
    statuses = session.exec(select(Application.status).where(col(Application.id).in_(ids))).all()
    assert sorted(statuses) == ["recommended"] * 3 + ["submitted"]
    assert session.exec(select(func.count()).select_from(HistoryEntry)).one() == history_before
    # A foreign id in a batch is simply not found, and also undoes the rest.
    committee = b.person(session, ["committee"], "union")
    _code(api.post(committee, "/api/v1/applications/transitions",
                   json={"action": "adopt", "application_ids": [good[0].id], "meeting_id": 1}), 404, "not_found")  # fmt: skip
    ok = api.post(office, "/api/v1/applications/transitions",
                  json={"action": "pass_preliminary", "application_ids": [g.id for g in good], "opinion": "符合"})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["total"] == 3

"""The application list shows what the database holds now — a change through the API or behind its
back shows at the next request — and each caller sees only their own scope and actions.

The list is made anew on every request (its page cache went in issue 17, see
applications/service.list_page_json); these tests guard whoever puts a cache back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from demosites.applications.models import Application, AssessmentAssignment, Status
from demosites.core.clock import clock
from tests.applications import builders as b
from tests.applications.builders import Api

LIST = "/api/v1/applications"


def _round_with_submitted(session: Session, n: int = 3) -> tuple[Any, list[Application]]:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    hefei = b.org(session, "hefei")
    apps = [
        b.application(session, r, b.unit(session, "community", "合肥"), hefei, Status.submitted)
        for _ in range(n)
    ]
    return r, apps


def test_a_transition_shows_in_the_next_list_at_once(api: Api, session: Session) -> None:
    r, apps = _round_with_submitted(session)
    cast = b.cast_for(session, apps[0], assign=False)
    before = {
        i["id"]: i
        for i in api.get(cast.recommender, LIST, params={"round_id": r.id}).json()["items"]
    }
    assert before[apps[0].id]["status"] == "submitted"
    assert "recommend" in before[apps[0].id]["allowed_actions"]

    done = api.act(cast.recommender, apps[0].id or 0, "recommend", opinion="同意推荐。")
    assert done.status_code == 200, done.text
    after = {
        i["id"]: i
        for i in api.get(cast.recommender, LIST, params={"round_id": r.id}).json()["items"]
    }
    assert after[apps[0].id]["status"] == "recommended"
    assert "recommend" not in after[apps[0].id]["allowed_actions"]
    assert after[apps[1].id] == before[apps[1].id]


def test_a_change_made_outside_the_api_shows_at_once(api: Api, session: Session) -> None:
    r, apps = _round_with_submitted(session, 1)
    office = b.person(session, ["office"], "office")
    assert (
        api.get(office, LIST, params={"round_id": r.id}).json()["items"][0]["applicant"]["name"]
        != "改名后的社区"
    )
    # A script or a DBA renames the unit and the recommender in SQL: the triggers see it.
    session.execute(
        text("UPDATE applicant_unit SET name = '改名后的社区' WHERE id = :id"),
        {"id": apps[0].applicant_id},
    )
    session.execute(
        text("UPDATE organization SET name = '合肥市委宣传部（新）' WHERE id = :id"),
        {"id": apps[0].recommender_id},
    )
    session.commit()
    item = api.get(office, LIST, params={"round_id": r.id}).json()["items"][0]
    assert item["applicant"]["name"] == "改名后的社区"
    assert item["recommender"]["name"] == "合肥市委宣传部（新）"


def test_callers_never_share_a_page(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    hefei, wuhu = b.org(session, "hefei"), b.org(session, "wuhu")
    mine = b.application(session, r, b.unit(session, "community", "合肥"), hefei, Status.submitted)
    theirs = b.application(session, r, b.unit(session, "community", "芜湖"), wuhu, Status.submitted)
    hefei_rec = b.person(session, ["recommender"], hefei)
    wuhu_rec = b.person(session, ["recommender"], wuhu)
    office = b.person(session, ["office"], "office")
    for _ in range(2):  # asked twice: a second answer is never another caller's
        seen = {
            who: {
                i["id"]: i["allowed_actions"]
                for i in api.get(u, LIST, params={"round_id": r.id}).json()["items"]
            }
            for who, u in (("hefei", hefei_rec), ("wuhu", wuhu_rec), ("office", office))
        }
        assert set(seen["hefei"]) == {mine.id} and "recommend" in seen["hefei"][mine.id]
        assert set(seen["wuhu"]) == {theirs.id} and "recommend" in seen["wuhu"][theirs.id]
        assert set(seen["office"]) == {mine.id, theirs.id}
        assert "recommend" not in seen["office"][mine.id]


def test_an_assessor_sees_only_their_own_assignments_every_time(api: Api, session: Session) -> None:
    r, apps = _round_with_submitted(session, 2)
    for a in apps:
        a.status = Status.preliminary_passed
        session.add(a)
    first = b.cast_for(session, apps[0])
    second = b.person(session, ["assessor"], "cac")  # same organisation, same roles
    session.add(
        AssessmentAssignment(
            application_id=apps[1].id or 0, user_id=second.id or 0, assigned_at=clock.now()
        )
    )
    session.flush()
    b.set_day(b.ASSESSING)
    for _ in range(2):
        assert [
            i["id"]
            for i in api.get(first.assessor, LIST, params={"round_id": r.id}).json()["items"]
        ] == [apps[0].id]
        assert [
            i["id"] for i in api.get(second, LIST, params={"round_id": r.id}).json()["items"]
        ] == [apps[1].id]


def test_the_next_day_is_a_new_page(api: Api, session: Session) -> None:
    r, apps = _round_with_submitted(session, 1)
    cast = b.cast_for(session, apps[0], assign=False)
    today = api.get(cast.recommender, LIST, params={"round_id": r.id}).json()["items"][0]
    assert "recommend" in today["allowed_actions"]
    b.set_day(b.GAP)  # the application window has closed overnight; nothing was written
    later = api.get(cast.recommender, LIST, params={"round_id": r.id}).json()["items"][0]
    assert "recommend" not in later["allowed_actions"]

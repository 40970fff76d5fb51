"""The application list's page cache: a page is served again only while nothing it is made from
has changed — through the API or behind its back — and never to a caller it was not made for."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from demosites.applications.models import Application, AssessmentAssignment, PhaseException, Status
from demosites.core import pagecache
from demosites.core.clock import clock
from demosites.core.config import get_settings
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.statements import counting

LIST = "/api/v1/applications"


def stamp(session: Session) -> int:
    value = pagecache.stamp(session, pagecache.APPLICATIONS)
    assert value is not None
    return value


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


def test_an_unchanged_page_is_served_again_without_reading_it_again(
    api: Api, session: Session
) -> None:
    r, _ = _round_with_submitted(session)
    office = b.person(session, ["office"], "office")
    api.headers(office)  # log in (and commit the setup) before counting
    engine = session.get_bind().engine  # type: ignore[union-attr]
    with counting(engine) as first:
        one = api.get(office, LIST, params={"round_id": r.id})
    with counting(engine) as second:
        two = api.get(office, LIST, params={"round_id": r.id})
    assert one.status_code == two.status_code == 200
    assert one.content == two.content and len(one.json()["items"]) == 3
    # The second answer cost authentication and the stamp only: no page, no facts.
    assert len(second) < len(first)
    assert not any("FROM application" in s for s in second), second


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


@pytest.mark.parametrize("table", pagecache.STAMPED_TABLES[pagecache.APPLICATIONS])
def test_every_write_to_a_table_the_list_is_made_from_moves_the_stamp(
    table: str, session: Session
) -> None:
    _round_with_submitted(session, 1)
    if table == "assessment_assignment":
        app = session.query(Application).first()
        assert app is not None
        b.cast_for(session, app)
    if table == "phase_exception":
        session.add(
            PhaseException(
                round_id=session.query(Application).first().round_id,  # type: ignore[union-attr]
                action="recommend",
                on_date=b.MATERIALS,
                reason="补报",
                granted_by=1,
                created_at=clock.now(),
            )  # fmt: skip
        )
    session.commit()
    quoted = f'"{table}"'
    for sql in (
        f"UPDATE {quoted} SET id = id",  # every row, changing nothing: still a write
        f"DELETE FROM {quoted} WHERE id = (SELECT max(id) FROM {quoted}) AND 1 = 0",
    ):
        before = stamp(session)
        session.execute(text(sql))
        # An UPDATE of rows always moves it; a DELETE of none moves it on PostgreSQL only
        # (statement triggers fire for zero rows), which only costs a re-read.
        if sql.startswith("UPDATE"):
            assert stamp(session) > before, (table, sql)
    assert session.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one() >= 1


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
    for _ in range(2):  # the second round of calls is served from the cache
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


def test_an_assessor_sees_only_their_own_assignments_even_from_the_cache(
    api: Api, session: Session
) -> None:
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


def test_with_the_cache_off_the_list_answers_the_same(
    api: Api, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    r, _ = _round_with_submitted(session)
    office = b.person(session, ["office"], "office")
    cached = api.get(office, LIST, params={"round_id": r.id}).content
    monkeypatch.setattr(get_settings(), "list_cache_entries", 0)
    pagecache.pages.clear()
    assert api.get(office, LIST, params={"round_id": r.id}).content == cached
    assert len(pagecache.pages) == 0


def test_the_cache_keeps_at_most_its_number_of_pages(
    api: Api, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "list_cache_entries", 2)
    r, _ = _round_with_submitted(session)
    office = b.person(session, ["office"], "office")
    for offset in range(4):
        assert (
            api.get(
                office, LIST, params={"round_id": r.id, "limit": 1, "offset": offset}
            ).status_code
            == 200
        )
    assert len(pagecache.pages) == 2


def test_the_cache_holds_at_most_its_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagecache, "MAX_TOTAL_BYTES", 2_500)
    cache = pagecache.PageCache()
    for i in range(5):
        cache.put(("page", i), b"x" * 1_000)
    assert len(cache) == 2 and cache.size == 2_000
    assert cache.get(("page", 0)) is None and cache.get(("page", 4)) == b"x" * 1_000
    cache.put(("page", 4), b"y" * 10)  # replacing a page counts its new size only
    assert cache.size == 1_010
    cache.put(("too big",), b"z" * (pagecache.MAX_PAGE_BYTES + 1))
    assert cache.get(("too big",)) is None

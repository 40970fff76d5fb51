"""公示: the office opens a notice of N working days; an objection blocks the award; an upheld
objection ends the application (approval_rejected, reason in its history); objections are
rate-limited per client address."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from demosites.audit.models import HistoryEntry
from demosites.events.models import OutboxEvent
from demosites.sites.models import Site
from demosites.sites.notices import OBJECTIONS_PER_HOUR, add_working_days
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.sites.builders import approved_application


def test_working_days_skip_saturdays_and_sundays() -> None:
    assert add_working_days(date(2022, 9, 16), 5) == date(2022, 9, 22)  # Fri → next Thu
    assert add_working_days(date(2022, 9, 17), 5) == date(2022, 9, 23)  # Sat → starts counting Mon
    assert add_working_days(date(2022, 9, 19), 1) == date(2022, 9, 19)


def _objection(client: TestClient, notice_id: int, app_id: int, **extra: str) -> object:
    body = {
        "application_id": app_id,
        "name": "张三",
        "contact": "13800000000",
        "content": "事迹材料中的获奖情况不属实。",
    }
    return client.post(f"/api/v1/public/notices/{notice_id}/objections", json={**body, **extra})


def test_an_objection_blocks_the_award_and_an_upheld_one_ends_the_application(
    api: Api, session: Session, client: TestClient
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    contested = approved_application(session, rnd, "合肥")
    cleared = approved_application(session, rnd, "芜湖")
    b.set_day(date(2022, 9, 16))  # a Friday
    r = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={})
    assert r.status_code == 201, r.text
    notice = r.json()
    assert notice["ends_on"] == "2022-09-22" and notice["working_days"] == 5 and notice["running"]
    assert {e["application_id"] for e in notice["entries"]} == {contested.id, cleared.id}
    again = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={})
    assert again.status_code == 409 and again.json()["code"] == "notice_exists"

    # The public sees the running notice and objects, without login.
    listed = client.get("/api/v1/public/notices").json()
    assert [n["id"] for n in listed["items"]] == [notice["id"]]
    assert {e["name"] for e in listed["items"][0]["entries"]} == {"合肥示范点", "芜湖示范点"}
    first = _objection(client, notice["id"], contested.id or 0)
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]
    second = _objection(client, notice["id"], cleared.id or 0, content="该单位存在形式主义问题。")
    assert second.status_code == 201  # type: ignore[attr-defined]

    # While objections are open neither can be awarded.
    b.set_day(b.AWARDING)
    for app in (contested, cleared):
        r = api.act(office, app.id or 0, "award")
        assert r.status_code == 409 and r.json()["code"] == "objection_open", r.text

    # The office investigates: the first is upheld (ends the application), the second dismissed.
    objections = api.get(office, f"/api/v1/rounds/{rnd.id}/public-notice/objections").json()[
        "items"
    ]
    by_app = {o["application_id"]: o["id"] for o in objections}
    r = api.post(office, f"/api/v1/objections/{by_app[contested.id]}/result",
                 json={"result": "upheld", "investigation": "经核实，获奖情况不属实，取消其资格。"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "upheld"
    app = api.get(office, f"/api/v1/applications/{contested.id}").json()
    assert app["status"] == "approval_rejected"
    last = api.get(office, f"/api/v1/applications/{contested.id}/history").json()["items"][-1]
    assert last["action"] == "uphold_objection" and last["to_state"] == "approval_rejected"
    assert last["opinion"] == "经核实，获奖情况不属实，取消其资格。"
    assert last["data"]["objection"] == "事迹材料中的获奖情况不属实。"
    decided = api.post(office, f"/api/v1/objections/{by_app[contested.id]}/result",
                       json={"result": "dismissed", "investigation": "再议"})  # fmt: skip
    assert decided.status_code == 409 and decided.json()["code"] == "objection_decided"

    r = api.post(office, f"/api/v1/objections/{by_app[cleared.id]}/result",
                 json={"result": "dismissed", "investigation": "经核实，反映问题不属实。"})  # fmt: skip
    assert r.status_code == 200
    r = api.act(office, cleared.id or 0, "award")
    assert r.status_code == 200, r.text
    assert (
        session.exec(select(Site).where(Site.application_id == cleared.id)).one().status == "active"
    )
    assert api.act(office, contested.id or 0, "award").json()["code"] == "invalid_transition"


def test_the_office_finding_on_an_objection_is_one_history_row_and_one_event(
    api: Api, session: Session, client: TestClient
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    app = approved_application(session, rnd, "合肥")
    b.set_day(date(2022, 9, 16))
    notice = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={}).json()
    objection_id = _objection(client, notice["id"], app.id or 0).json()["id"]  # type: ignore[attr-defined]
    r = api.post(office, f"/api/v1/objections/{objection_id}/result",
                 json={"result": "dismissed", "investigation": "经核实，反映问题不属实。"})  # fmt: skip
    assert r.status_code == 200, r.text
    history = session.exec(
        select(HistoryEntry).where(HistoryEntry.object_type == "objection", HistoryEntry.object_id == objection_id)
        .order_by(HistoryEntry.id)  # type: ignore[arg-type]
    ).all()  # fmt: skip
    assert [(h.action, h.from_state, h.to_state) for h in history] == [
        ("file", None, "open"),
        ("dismiss", "open", "dismissed"),
    ]
    assert history[-1].opinion == "经核实，反映问题不属实。" and history[-1].actor_role == "office"
    events = session.exec(
        select(OutboxEvent.event_type).where(OutboxEvent.object_type == "objection", OutboxEvent.object_id == objection_id)
        .order_by(OutboxEvent.id)  # type: ignore[arg-type]
    ).all()  # fmt: skip
    assert list(events) == ["objection.filed", "objection.dismissed"]


def test_the_award_waits_for_the_notice_to_end_and_needs_the_application_on_it(
    api: Api, session: Session
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    listed = approved_application(session, rnd, "合肥")
    b.set_day(date(2022, 11, 24))  # Thursday: 24, 25, 28, 29, 30
    r = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={"working_days": 5})
    assert r.json()["ends_on"] == "2022-11-30"
    late = approved_application(session, rnd, "芜湖")  # approved after the list was published
    b.set_day(date(2022, 11, 25))
    r = api.act(office, listed.id or 0, "award")
    assert r.status_code == 409 and r.json()["code"] == "public_notice_running"
    r = api.act(office, late.id or 0, "award")
    assert r.status_code == 409 and r.json()["code"] == "not_in_public_notice"
    # Switching the notice off for the round (with a reason) lifts the notice's own conditions.
    etag = api.get(office, f"/api/v1/rounds/{rnd.id}/public-notice").headers["ETag"]
    stale = api.patch(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={"enabled": False, "reason": "部务会决定"},
                      headers={"If-Match": 'W/"99"'})  # fmt: skip
    assert stale.status_code == 412
    off = api.patch(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={"enabled": False, "reason": "部务会决定"},
                    headers={"If-Match": etag})  # fmt: skip
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert api.act(office, late.id or 0, "award").status_code == 200
    history = api.get(office, f"/api/v1/rounds/{rnd.id}/history").json()["items"]
    assert [h["action"] for h in history][-2:] == ["open_public_notice", "disable_public_notice"]


def test_objections_are_refused_outside_the_notice_and_rate_limited_per_address(
    api: Api, session: Session, client: TestClient
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    app = approved_application(session, rnd, "合肥")
    b.set_day(date(2022, 9, 16))
    notice = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={}).json()
    for _ in range(OBJECTIONS_PER_HOUR):
        assert _objection(client, notice["id"], app.id or 0).status_code == 201  # type: ignore[attr-defined]
    r = _objection(client, notice["id"], app.id or 0)
    assert r.status_code == 429 and r.json()["code"] == "objection_rate_limited"  # type: ignore[attr-defined]
    assert r.headers["Retry-After"] == "3600"  # type: ignore[attr-defined]
    b.set_day(date(2022, 9, 17))  # an hour later the address may object again
    assert _objection(client, notice["id"], app.id or 0).status_code == 201  # type: ignore[attr-defined]
    other = _objection(client, notice["id"], 999999)
    assert other.status_code == 422  # type: ignore[attr-defined]
    b.set_day(date(2022, 9, 23))  # the notice has ended
    closed = _objection(client, notice["id"], app.id or 0)
    assert closed.status_code == 409 and closed.json()["code"] == "notice_closed"  # type: ignore[attr-defined]
    assert client.get("/api/v1/public/notices").json()["total"] == 0
    assert _objection(client, 999999, app.id or 0).status_code == 404  # type: ignore[attr-defined]


def test_uphold_objection_without_an_upheld_objection_is_refused(
    api: Api, session: Session
) -> None:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    app = approved_application(session, rnd, "合肥")
    b.set_day(b.AWARDING)
    r = api.act(office, app.id or 0, "uphold_objection", opinion="异议成立")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = api.post(office, f"/api/v1/rounds/{rnd.id}/public-notice", json={})
    assert r.status_code == 201
    nothing = b.make_round(session, year=2025)
    r = api.post(office, f"/api/v1/rounds/{nothing.id}/public-notice", json={})
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_notify"

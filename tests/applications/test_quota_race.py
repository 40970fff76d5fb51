"""Quotas under concurrency: many recommend requests at once through a real server never push a
recommender over its limit; idempotent POSTs racing with one key create exactly one object;
concurrent awards number their plaques one after the other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from demosites.applications.models import Application, Status
from demosites.rounds.models import Quota
from tests import factories
from tests.applications import builders as b


def _fire(client: TestClient, calls: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[Any]:
    """Sends every call at the same moment from its own thread."""
    start = threading.Barrier(len(calls))

    def one(call: tuple[str, dict[str, Any], dict[str, str]]) -> Any:
        path, body, headers = call
        start.wait()
        return client.post(path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def _submitted_apps(
    fresh_engine: Engine, recommender: str, units: list[dict[str, Any]]
) -> tuple[list[int], dict[str, str], int]:
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        rec_org = b.org(s, recommender)
        ids = [
            b.application(s, r, b.unit(s, **u), rec_org, Status.submitted).id or 0 for u in units
        ]
        b.set_day(b.APPLYING)
        headers = factories.bearer(s, factories.user(s, ["recommender"], rec_org))
        s.commit()
        return ids, headers, r.id or 0


def _board_matches(
    fresh_engine: Engine, round_id: int, recommender: str, field: str, limit: int
) -> None:
    with Session(fresh_engine) as s:
        rec_org = b.org(s, recommender)
        quota = s.exec(select(Quota).where(Quota.round_id == round_id, Quota.recommender_id == rec_org.id,
                                           Quota.field == field)).one()  # fmt: skip
        recommended = s.exec(select(Application).where(Application.round_id == round_id,
                                                       Application.status == Status.recommended)).all()  # fmt: skip
        assert quota.used == limit == len(recommended)
        assert all(a.quota_id == quota.id for a in recommended)


def test_25_concurrent_recommendations_at_a_quota_of_10(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    units = [
        {"kind": "university_unit", "city": "合肥", "provincial_university": True}
        for _ in range(25)
    ]
    ids, headers, round_id = _submitted_apps(fresh_engine, "edu", units)
    answers = _fire(live_client, [(f"/api/v1/applications/{i}/transitions",
                                   {"action": "recommend", "opinion": "同意推荐"}, headers) for i in ids])  # fmt: skip
    codes = sorted((a.status_code, a.json().get("code")) for a in answers)
    assert codes == [(200, None)] * 10 + [(409, "quota_exceeded")] * 15, codes
    _board_matches(fresh_engine, round_id, "edu", "school", 10)
    board = live_client.get(f"/api/v1/rounds/{round_id}/quotas", headers=headers).json()["items"]
    edu = next(q for q in board if q["recommender_code"] == "edu")
    assert (edu["used"], edu["left"]) == (10, 0)


def test_5_concurrent_recommendations_at_a_city_field_quota_of_1(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    units = [{"kind": "community", "city": "合肥"} for _ in range(5)]
    ids, headers, round_id = _submitted_apps(fresh_engine, "hefei", units)
    answers = _fire(live_client, [(f"/api/v1/applications/{i}/transitions",
                                   {"action": "recommend", "opinion": "同意推荐"}, headers) for i in ids])  # fmt: skip
    codes = sorted((a.status_code, a.json().get("code")) for a in answers)
    assert codes == [(200, None)] + [(409, "quota_exceeded")] * 4, codes
    _board_matches(fresh_engine, round_id, "hefei", "community", 1)


def test_20_parallel_posts_with_one_idempotency_key_create_one_object(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        u = b.unit(s, "village", "安庆")
        b.set_day(b.APPLYING)
        headers = factories.bearer(s, factories.user(s, ["recommender"], "anqing"))
        s.commit()
        body = {
            "round_id": r.id,
            "applicant_id": u.id,
            "name": "石关村村民议事厅",
            "summary": "事迹",
        }
    answers = _fire(
        live_client,
        [("/api/v1/applications", body, {**headers, "Idempotency-Key": "same-key-1"})] * 20,
    )
    assert {a.status_code for a in answers} == {201}, [
        a.text for a in answers if a.status_code != 201
    ]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    with Session(fresh_engine) as s:
        assert len(s.exec(select(Application).where(Application.applicant_id == u.id)).all()) == 1


def test_5_concurrent_awards_in_one_round_get_consecutive_plaque_numbers(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        ids = [
            b.application(s, r, b.unit(s, "community", city), b.org(s, code), Status.approved).id
            or 0
            for city, code in (("合肥", "hefei"), ("芜湖", "wuhu"), ("蚌埠", "bengbu"),
                               ("安庆", "anqing"), ("黄山", "huangshan"))
        ]  # fmt: skip
        b.set_day(b.AWARDING)
        headers = factories.bearer(s, factories.user(s, ["office"], "office"))
        s.commit()
    answers = _fire(live_client, [(f"/api/v1/applications/{i}/transitions", {"action": "award"},
                                   headers) for i in ids])  # fmt: skip
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    plaques = sorted(a.json()["plaque_no"] for a in answers)
    assert plaques == [f"皖思政示范〔2022〕{i:03d}号" for i in range(1, 6)]

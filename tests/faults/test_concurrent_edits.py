"""Two officials editing the same application: whoever saves second with the ETag both read is
refused (412) — also when both saves arrive at the same instant — and nothing is lost: the
first change stays, and the second, re-applied on the fresh ETag, joins it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from demosites.applications.models import Status
from demosites.audit.models import HistoryEntry
from tests import factories
from tests.applications import builders as b


def _two_officials(engine: Engine) -> tuple[int, dict[str, str], dict[str, str]]:
    """A submitted application and two people of its recommender (both may edit it now)."""
    with Session(engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        wuhu = b.org(s, "wuhu")
        app = b.application(s, r, b.unit(s, "community", "芜湖"), wuhu, Status.submitted)
        b.set_day(b.APPLYING)
        first = factories.bearer(s, factories.user(s, ["recommender"], wuhu))
        second = factories.bearer(s, factories.user(s, ["recommender"], wuhu))
        s.commit()
        return app.id or 0, first, second


def _edits(engine: Engine, app_id: int) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.object_type == "application", HistoryEntry.object_id == app_id,
            HistoryEntry.action == "edit")).one())  # fmt: skip


def test_the_second_save_on_a_stale_etag_is_refused_and_nothing_is_lost(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    app_id, first, second = _two_officials(fresh_engine)
    path = f"/api/v1/applications/{app_id}"
    etag_1 = live_client.get(path, headers=first).headers["ETag"]
    etag_2 = live_client.get(path, headers=second).headers["ETag"]
    assert etag_1 == etag_2

    saved = live_client.patch(
        path, json={"summary": "甲修改的简要事迹"}, headers={**first, "If-Match": etag_1}
    )
    assert saved.status_code == 200
    stale = live_client.patch(
        path, json={"deeds": "乙补充的事迹材料"}, headers={**second, "If-Match": etag_2}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert stale.json()["current_etag"] == saved.headers["ETag"]

    fresh = live_client.get(path, headers=second)
    # The second official sees the first one's work before saving again.
    assert fresh.json()["summary"] == "甲修改的简要事迹"
    redo = live_client.patch(
        path,
        json={"deeds": "乙补充的事迹材料"},
        headers={**second, "If-Match": fresh.headers["ETag"]},
    )
    assert redo.status_code == 200
    final = live_client.get(path, headers=first).json()
    assert (final["summary"], final["deeds"]) == ("甲修改的简要事迹", "乙补充的事迹材料")
    assert _edits(fresh_engine, app_id) == 2


def test_two_saves_at_the_same_instant_with_one_etag_make_one_200_and_one_412(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    app_id, first, second = _two_officials(fresh_engine)
    path = f"/api/v1/applications/{app_id}"
    etag = live_client.get(path, headers=first).headers["ETag"]
    for round_ in range(3):  # several rounds: the race is decided differently each time
        start = threading.Barrier(2)
        bodies = [
            ({"summary": f"甲 第{round_}版"}, first),
            ({"summary": f"乙 第{round_}版"}, second),
        ]

        def save(
            arg: tuple[dict[str, str], dict[str, str]],
            etag: str = etag,
            start: threading.Barrier = start,
        ) -> httpx.Response:
            body, headers = arg
            start.wait()
            return live_client.patch(path, json=body, headers={**headers, "If-Match": etag})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(save, bodies))
        assert sorted(a.status_code for a in answers) == [200, 412], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200)
        stored = live_client.get(path, headers=first)
        assert stored.json()["summary"] == winner.json()["summary"]
        assert stored.headers["ETag"] == winner.headers["ETag"]
        etag = winner.headers["ETag"]
    assert _edits(fresh_engine, app_id) == 3

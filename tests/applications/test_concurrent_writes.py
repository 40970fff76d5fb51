"""Deadline day: creations (applicant units, applications) and transitions (submit, recommend,
withdraw, return) sent at once by several people through the app, each request in its own session
on its own connection. None may fail, none may deadlock, and every write lands exactly once."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from demosites import cli
from demosites.applicants.models import ApplicantUnit
from demosites.applications.models import Application, Status
from demosites.applications.transitions import plaque_number
from demosites.audit.models import HistoryEntry
from demosites.events.models import OutboxEvent
from demosites.rounds.models import Quota
from demosites.sites.models import Site
from tests import factories
from tests.applications import builders as b

MOVERS = 3  # people moving applications through submit → recommend → withdraw → return
CREATORS = 3  # people registering units and filing applications for them
APPS_PER_MOVER = 2
CYCLES = 3  # each application goes round the cycle this many times
CREATIONS = 6  # units (each with one application) per creator
CYCLE = (
    ("submit", Status.draft, Status.submitted),
    ("recommend", Status.submitted, Status.recommended),
    ("withdraw", Status.recommended, Status.submitted),
    ("return", Status.submitted, Status.draft),
)
BOUND_SECONDS = 300  # a worker still busy after this is stuck, not slow


def _deadlocks(url: str) -> int:
    """Deadlocks PostgreSQL has counted in this database (read from a connection of its own)."""
    eng = create_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(
                conn.execute(
                    text(
                        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                    )
                ).scalar_one()
            )
    finally:
        eng.dispose()


_OTHERS = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


def _settle_statistics(engine: Engine, url: str) -> None:
    """Closes the pool's connections and waits until their backends are gone: a backend flushes
    its pending statistics (deadlocks among them) when it exits."""
    # A request's answer can reach the client just before its session hands the connection back.
    for _ in range(600):
        if engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        time.sleep(0.05)
    engine.dispose()
    # Autocommit: inside one transaction pg_stat_activity is a snapshot taken at its first read,
    # and backends that have left would seem to stay for ever.
    eng = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            for attempt in range(800):
                if conn.execute(text("SELECT count(*) " + _OTHERS)).scalar_one() == 0:
                    return
                if attempt >= 100 and attempt % 40 == 0:
                    # Connections the app opened or handed back after the pool was disposed
                    # keep their backends: end them (again, if more come). A backend flushes
                    # its statistics on the way out, terminated or not.
                    conn.execute(text("SELECT pg_terminate_backend(pid) " + _OTHERS))
                conn.execute(text("SELECT pg_sleep(0.05)"))
            left = conn.execute(text("SELECT state, left(query, 120) " + _OTHERS)).all()
        raise AssertionError(f"the database's other backends did not exit within 40 s: {left}")
    finally:
        eng.dispose()


def _setup(fresh_engine: Engine) -> dict[str, Any]:
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        hefei = b.org(s, "hefei")
        # Quotas are not what this test is about: room for every recommend of the cycle.
        s.execute(update(Quota).where(col(Quota.round_id) == r.id).values(limit=1000))
        b.set_day(b.APPLYING)  # sessions opened now stay valid while the clock stands here
        movers = []
        for _ in range(MOVERS):
            apps = []
            for _ in range(APPS_PER_MOVER):
                app = b.application(s, r, b.unit(s, "community", "合肥"), hefei, Status.draft)
                app.created_by_org_id = hefei.id or 0  # filed by 合肥: its drafts are its to see
                s.add(app)
                apps.append(app.id or 0)
            who = factories.user(s, ["recommender"], hefei)
            movers.append((factories.bearer(s, who), apps))
        creators = [
            factories.bearer(s, factories.user(s, ["recommender"], hefei)) for _ in range(CREATORS)
        ]
        s.commit()
        return {"round_id": r.id, "movers": movers, "creators": creators}


def _move(client: TestClient, headers: dict[str, str], apps: list[int]) -> list[Any]:
    """Goes round the cycle CYCLES times on each application, alternating between them."""
    out = []
    for _ in range(CYCLES):
        for action, _source, _target in CYCLE:
            for app_id in apps:
                r = client.post(
                    f"/api/v1/applications/{app_id}/transitions",
                    json={"action": action, "opinion": f"{action} 意见"},
                    headers=headers,
                )
                out.append(("transition", app_id, action, r.status_code, r.json()))
    return out


def _create(client: TestClient, headers: dict[str, str], round_id: int, n: int) -> list[Any]:
    out = []
    for k in range(CREATIONS):
        r = client.post(
            "/api/v1/applicants",
            json={"name": f"并发登记单位{n}-{k}", "kind": "community", "city": "合肥"},
            headers=headers,
        )
        out.append(("applicant", None, "create", r.status_code, r.json()))
        if r.status_code != 201:
            continue
        r = client.post(
            "/api/v1/applications",
            json={"round_id": round_id, "applicant_id": r.json()["id"], "name": f"并发申报{n}-{k}",
                  "summary": "简要事迹", "deeds": "先进事迹材料"},
            headers=headers,
        )  # fmt: skip
        out.append(("application", None, "create", r.status_code, r.json()))
    return out


def test_creations_and_transitions_at_once_neither_deadlock_nor_fail_nor_lose_a_write(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    postgresql = fresh_engine.dialect.name == "postgresql"
    world = _setup(fresh_engine)
    url = fresh_engine.url.render_as_string(hide_password=False)
    deadlocks_before = _deadlocks(url) if postgresql else 0

    start = threading.Barrier(MOVERS + CREATORS)

    def mover(headers: dict[str, str], apps: list[int]) -> list[Any]:
        start.wait()
        return _move(live_client, headers, apps)

    def creator(n: int, headers: dict[str, str]) -> list[Any]:
        start.wait()
        return _create(live_client, headers, world["round_id"], n)

    with ThreadPoolExecutor(max_workers=MOVERS + CREATORS) as pool:
        futures = [pool.submit(mover, h, apps) for h, apps in world["movers"]]
        futures += [pool.submit(creator, n, h) for n, h in enumerate(world["creators"])]
        answers = [a for f in futures for a in f.result(timeout=BOUND_SECONDS)]

    failed = [(kind, obj, action, status, body.get("code"), body.get("detail"))
              for kind, obj, action, status, body in answers if status not in (200, 201)]  # fmt: skip
    assert failed == [], f"{len(failed)} of {len(answers)} writes failed: {failed[:10]}"
    if postgresql:
        _settle_statistics(fresh_engine, url)
        assert _deadlocks(url) - deadlocks_before == 0, "PostgreSQL detected deadlocks"

    with Session(fresh_engine) as s:
        # every transition once in its application's history, in the order each mover sent them
        for _headers, apps in world["movers"]:
            for app_id in apps:
                rows = s.exec(
                    select(HistoryEntry)
                    .where(
                        HistoryEntry.object_type == "application", HistoryEntry.object_id == app_id
                    )
                    .order_by(col(HistoryEntry.id))
                ).all()
                assert [(h.action, h.from_state, h.to_state) for h in rows] == [
                    (action, str(source), str(target)) for action, source, target in CYCLE
                ] * CYCLES, app_id
                app = s.get(Application, app_id)
                assert app is not None
                # a new row is version 1; each transition adds one
                assert (app.status, app.version) == (Status.draft, 1 + len(CYCLE) * CYCLES)
        assert (
            s.exec(select(func.sum(Quota.used)).where(Quota.round_id == world["round_id"])).one()
            == 0
        )

        # every creation once: its row, one history entry and one outbox event
        made = Counter(kind for kind, *_ in answers if kind != "transition")
        assert made == {"applicant": CREATORS * CREATIONS, "application": CREATORS * CREATIONS}
        unit_ids = [body["id"] for kind, _o, _a, _s, body in answers if kind == "applicant"]
        app_ids = [body["id"] for kind, _o, _a, _s, body in answers if kind == "application"]
        for object_type, ids, model in (
            ("applicant_unit", unit_ids, ApplicantUnit),
            ("application", app_ids, Application),
        ):
            assert len(set(ids)) == len(ids)
            rows = s.exec(select(model).where(col(model.id).in_(ids))).all()  # type: ignore[attr-defined]
            assert len(rows) == len(ids)
            entries = Counter(
                s.exec(
                    select(HistoryEntry.object_id).where(
                        HistoryEntry.object_type == object_type,
                        col(HistoryEntry.object_id).in_(ids),
                    )
                ).all()
            )
            assert entries == dict.fromkeys(ids, 1), object_type
            events = Counter(
                s.exec(
                    select(OutboxEvent.object_id).where(
                        OutboxEvent.object_type == object_type, col(OutboxEvent.object_id).in_(ids)
                    )
                ).all()
            )
            assert events == dict.fromkeys(ids, 1), object_type
        transitions_sent = MOVERS * APPS_PER_MOVER * CYCLES * len(CYCLE)
        assert (
            s.exec(
                select(func.count())
                .select_from(OutboxEvent)
                .where(
                    OutboxEvent.object_type == "application",
                    col(OutboxEvent.object_id).not_in(app_ids),
                )
            ).one()
            == transitions_sent
        )

    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["verify-history"]) == 0, out.getvalue()


def _at_once(calls: list[Any]) -> list[Any]:
    """Runs every call from its own thread, started together; each must end within the bound."""
    start = threading.Barrier(len(calls))

    def one(call: Any) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(one, c) for c in calls]
        return [f.result(timeout=BOUND_SECONDS) for f in futures]


def test_awards_at_once_draw_consecutive_plaque_numbers_and_none_fails(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    """Awards of one round draw their numbers one after the other (the round's row lock, no
    longer a lock every history writer took): all succeed, numbers 001… without a gap."""
    n = 6
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        hefei = b.org(s, "hefei")
        apps = [
            b.application(s, r, b.unit(s, "community", "合肥"), hefei, Status.approved).id or 0
            for _ in range(n)
        ]
        b.set_day(b.AWARDING)
        offices = [factories.bearer(s, factories.user(s, ["office"], "office")) for _ in apps]
        s.commit()
    url = fresh_engine.url.render_as_string(hide_password=False)
    postgresql = fresh_engine.dialect.name == "postgresql"
    before = _deadlocks(url) if postgresql else 0

    def award(app_id: int, headers: dict[str, str]) -> Any:
        return lambda: live_client.post(
            f"/api/v1/applications/{app_id}/transitions", json={"action": "award"}, headers=headers
        )

    answers = _at_once([award(a, h) for a, h in zip(apps, offices, strict=True)])
    assert [a.status_code for a in answers] == [200] * n, [a.json() for a in answers]
    assert sorted(a.json()["plaque_no"] for a in answers) == [
        plaque_number(2022, k) for k in range(1, n + 1)
    ]
    if postgresql:
        _settle_statistics(fresh_engine, url)
        assert _deadlocks(url) - before == 0, "PostgreSQL detected deadlocks"
    with Session(fresh_engine) as s:
        assert len(s.exec(select(Site).where(col(Site.application_id).in_(apps))).all()) == n


def test_batches_crossing_two_quotas_at_once_neither_deadlock_nor_fail(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    """Two people of one recommender recommend and withdraw in batches whose applications take
    the school and the community quota in opposite orders (ids interleaved): each batch locks
    its quotas in one order before its first effect, so neither waits for the other in a ring."""
    rounds_each = 8
    with Session(fresh_engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        hefei = b.org(s, "hefei")
        s.execute(update(Quota).where(col(Quota.round_id) == r.id).values(limit=1000))
        kinds = ["primary_school", "community", "community", "primary_school"]  # ids ascending
        ids = [
            b.application(s, r, b.unit(s, k, "合肥"), hefei, Status.submitted).id or 0
            for k in kinds
        ]
        b.set_day(b.APPLYING)
        people = [factories.bearer(s, factories.user(s, ["recommender"], hefei)) for _ in range(2)]
        round_id = r.id
        s.commit()
    # in ascending id: school then community / community then school
    batches = [[ids[0], ids[2]], [ids[1], ids[3]]]
    url = fresh_engine.url.render_as_string(hide_password=False)
    postgresql = fresh_engine.dialect.name == "postgresql"
    before = _deadlocks(url) if postgresql else 0

    def person(headers: dict[str, str], app_ids: list[int]) -> Any:
        def go() -> list[Any]:
            out = []
            for _ in range(rounds_each):
                for action in ("recommend", "withdraw"):
                    resp = live_client.post(
                        "/api/v1/applications/transitions",
                        json={"action": action, "opinion": "同意", "application_ids": app_ids},
                        headers=headers,
                    )
                    out.append((action, resp.status_code, resp.json().get("code")))
            return out

        return go

    answers = _at_once([person(h, a) for h, a in zip(people, batches, strict=True)])
    failed = [a for per in answers for a in per if a[1] != 200]
    assert failed == [], failed
    if postgresql:
        _settle_statistics(fresh_engine, url)
        assert _deadlocks(url) - before == 0, "PostgreSQL detected deadlocks"
    with Session(fresh_engine) as s:
        assert s.exec(select(func.sum(Quota.used)).where(Quota.round_id == round_id)).one() == 0
        statuses = s.exec(select(Application.status).where(col(Application.id).in_(ids))).all()
        assert set(statuses) == {Status.submitted}

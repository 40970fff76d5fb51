"""Idempotency keys last 24 hours: within them a key replays, after them it is a new key, and
records past that age are purged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantUnit
from demosites.core import idempotency
from demosites.core.clock import clock
from demosites.core.idempotency import IdempotencyRecord
from demosites.organizations.models import User
from tests import factories as f

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
UNIT = {"name": "芜湖新社区", "kind": "community", "city": "芜湖"}


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    idempotency._purge.again()
    clock.set(T0)
    yield
    clock.set(None)


def _post(client: TestClient, session: Session, key: str, body: dict[str, Any]) -> Any:
    # A fresh session at the clock's time: moving a day ends the earlier ones.
    user = session.exec(select(User).where(col(User.username) == "idem-office")).first()
    user = user or f.user(session, ["office"], "office", username="idem-office")
    headers = {**f.bearer(session, user), "Idempotency-Key": key}
    return client.post("/api/v1/applicants", json=body, headers=headers)


def _units(session: Session) -> list[ApplicantUnit]:
    return list(session.exec(select(ApplicantUnit).where(ApplicantUnit.name == UNIT["name"])).all())


def _record(session: Session, caller_key: str, at: datetime) -> IdempotencyRecord:
    row = IdempotencyRecord(caller="user:0", key=caller_key, fingerprint="x" * 64, method="POST",
                            path="/api/v1/applicants", status_code=201, created_at=at)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _keys(session: Session) -> set[str]:
    session.expire_all()
    return set(session.exec(select(IdempotencyRecord.key)).all())


def test_a_key_within_24_hours_still_replays(session: Session, client: TestClient) -> None:
    first = _post(client, session, "unit-1", UNIT)
    clock.set(T0 + timedelta(hours=23, minutes=59))
    again = _post(client, session, "unit-1", UNIT)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    other = _post(client, session, "unit-1", {**UNIT, "name": "另一个社区"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(_units(session)) == 1


def test_a_key_reused_after_24_hours_creates_a_new_object(
    session: Session, client: TestClient
) -> None:
    first = _post(client, session, "unit-1", UNIT)
    clock.set(T0 + timedelta(hours=24, seconds=1))
    second = _post(client, session, "unit-1", UNIT)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert len(_units(session)) == 2
    # The expired record was replaced by the new answer, which the key now replays for a day.
    clock.set(T0 + timedelta(hours=30))
    third = _post(client, session, "unit-1", UNIT)
    assert third.headers["Idempotent-Replayed"] == "true" and third.content == second.content
    rows = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "unit-1")).all()
    assert len(rows) == 1 and rows[0].created_at == T0 + timedelta(hours=24, seconds=1)


def test_an_expired_key_takes_another_body(session: Session, client: TestClient) -> None:
    assert _post(client, session, "unit-1", UNIT).status_code == 201
    clock.set(T0 + timedelta(days=2))
    other = _post(client, session, "unit-1", {**UNIT, "name": "另一个社区"})
    assert other.status_code == 201 and other.json()["name"] == "另一个社区"


def test_records_older_than_24_hours_are_purged_at_most_once_a_minute(
    session: Session, client: TestClient
) -> None:
    _record(session, "old", T0 - timedelta(hours=24, seconds=1))
    _record(session, "young", T0 - timedelta(hours=23))
    assert _post(client, session, "new-1", UNIT).status_code == 201
    assert _keys(session) == {"young", "new-1"}
    # Within the minute a new claim does not purge again; after it, it does.
    _record(session, "old-2", T0 - timedelta(hours=25))
    clock.set(T0 + timedelta(seconds=30))
    assert _post(client, session, "new-2", {**UNIT, "name": "芜湖第二社区"}).status_code == 201
    assert "old-2" in _keys(session)
    clock.set(T0 + timedelta(seconds=61))
    assert _post(client, session, "new-3", {**UNIT, "name": "芜湖第三社区"}).status_code == 201
    assert _keys(session) == {"young", "new-1", "new-2", "new-3"}


def test_a_purge_deletes_in_batches(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        _record(session, f"old-{i}", T0 - timedelta(days=2, minutes=i))
    _record(session, "young", T0)
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 3)
    assert idempotency.purge_expired(session, T0) == 3
    assert idempotency.purge_expired(session, T0) == 2
    assert _keys(session) == {"young"}


def test_parallel_retries_of_an_expired_key_create_one_new_object(
    fresh_engine: Engine, live_client: TestClient
) -> None:
    def bearer() -> dict[str, str]:
        with Session(fresh_engine) as s:
            user = s.exec(select(User).where(col(User.username) == "idem-office")).first()
            headers = f.bearer(s, user or f.user(s, ["office"], "office", username="idem-office"))
            s.commit()
        return {**headers, "Idempotency-Key": "unit-race"}

    assert live_client.post("/api/v1/applicants", json=UNIT, headers=bearer()).status_code == 201
    clock.set(T0 + timedelta(hours=25))
    headers = bearer()
    start = threading.Barrier(10)

    def one(_: int) -> Any:
        start.wait()
        return live_client.post("/api/v1/applicants", json=UNIT, headers=headers)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(one, range(10)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 9
    with Session(fresh_engine) as s:
        assert len(_units(s)) == 2

"""Per-person rate limits counted in batches: a busy caller costs one shared-count write per
batch, the limit still holds, and a new minute starts afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from demosites.core import ratelimit
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.ratelimit import RateBucket
from tests import factories as f


def shared_count(session: Session, user_id: int) -> int:
    session.expire_all()
    rows = session.exec(select(RateBucket).where(RateBucket.key == f"user:{user_id}")).all()
    return sum(r.count for r in rows)


def test_a_busy_caller_is_counted_in_batches_and_still_stopped_at_the_limit(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 100)  # batches of 5
    clock.set(clock.now().replace(second=1))
    u = f.user(session, ["office"], "office")
    headers = f.bearer(session, u)
    session.commit()
    codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(7)]
    assert codes == [200] * 7
    # The first request learnt the shared count (1), the next five were sent as one batch (6);
    # the seventh waits in this process.
    assert shared_count(session, u.id or 0) == 6
    codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(100)]
    assert codes.count(200) == 93 and codes[93:] == [429] * 7
    clock.set(clock.now() + timedelta(minutes=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_requests_counted_by_another_process_count_here_too(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 100)
    clock.set(clock.now().replace(second=1))
    u = f.user(session, ["office"], "office")
    headers = f.bearer(session, u)
    session.commit()
    # Another API process has already counted 98 requests of this person in this minute (as it
    # would: on PostgreSQL in a transaction of its own, on SQLite in its request's transaction).
    start = int(clock.now().timestamp() // 60 * 60)
    assert ratelimit._add(session, f"user:{u.id}", start, 98) == 98
    codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]

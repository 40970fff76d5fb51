"""Request rate limits per user and per service account, counted in the database so that every
API worker process shares them (fixed one-minute windows).

Each process adds its requests to the shared count in batches of a twentieth of the limit
(every request when the limit is under 40), so a busy caller costs one upsert per batch rather
than one per request. The caller is refused once the shared count plus this process's unsent
requests passes the limit; with N processes the limit can be passed by at most N × (batch − 1)
requests in a minute (5 % per process)."""

from __future__ import annotations

import math
import threading

from sqlalchemy import Integer, String, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.core.errors import TooManyRequests

WINDOW = 60
BATCH_SHARE = 20  # a batch is limit // BATCH_SHARE requests

# (key, window start) → [shared count when last sent, requests of this process not yet sent]
_local: dict[tuple[str, int], list[int]] = {}
_local_lock = threading.Lock()


class RateBucket(SQLModel, table=True):
    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, max_length=80, sa_type=String(80))
    window_start: int = Field(primary_key=True, sa_type=Integer)
    count: int = 0


class RateLimited(TooManyRequests):
    code, title = "rate_limited", "Too many requests; slow down / 请求过于频繁，请稍后再试"


def _upsert(dialect: str, key: str, start: int, n: int):  # type: ignore[no-untyped-def]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(RateBucket).values(key=key, window_start=start, count=n)
    return stmt.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateBucket.count + n}
    ).returning(col(RateBucket.count))


def limit_for(actor: Actor) -> tuple[str, int]:
    s = get_settings()
    if actor.kind == "service":
        return f"sa:{actor.service_account_id}", s.rate_limit_service_per_minute
    return f"user:{actor.user_id}", s.rate_limit_user_per_minute


def reset_local() -> None:
    """Forgets this process's unsent counts (tests: the database was rolled back)."""
    with _local_lock:
        _local.clear()


def _take(key: str, start: int, batch: int) -> tuple[int, int]:
    """Counts one request locally: (requests to send now — 0 while the batch fills, estimate)."""
    with _local_lock:
        entry = _local.get((key, start))
        if entry is None:
            for old in [k for k in _local if k[1] < start]:
                del _local[old]
            entry = _local[(key, start)] = [0, 0]
        entry[1] += 1
        # The first request of a window in this process learns the shared count at once.
        if entry[1] >= batch or entry[0] == 0:
            send, entry[1] = entry[1], 0
            return send, entry[0]
        return 0, entry[0] + entry[1]


def _learn(key: str, start: int, shared: int) -> int:
    with _local_lock:
        entry = _local.setdefault((key, start), [0, 0])
        entry[0] = shared
        return entry[0] + entry[1]


def enforce(session: Session, actor: Actor) -> None:
    """Counts one request of `actor`; raises RateLimited (429, Retry-After) over the limit."""
    key, limit = limit_for(actor)
    if limit <= 0:
        return
    now = clock.now().timestamp()
    start = int(now // WINDOW * WINDOW)
    send, estimate = _take(key, start, max(1, limit // BATCH_SHARE))
    if send:
        estimate = _learn(key, start, _add(session, key, start, send))
    if estimate > limit:
        raise RateLimited(retry_after=max(1, math.ceil(start + WINDOW - now)))


def _add(session: Session, key: str, start: int, n: int) -> int:
    """Adds `n` requests to the shared count of (key, window); returns the new count."""
    dialect = session.get_bind().dialect.name
    stmt = _upsert(dialect, key, start, n)
    if dialect == "postgresql":
        # Its own short autocommit transaction: the request's transaction must not hold the
        # bucket's row lock (that would serialise every request of one caller).
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            count = int(conn.execute(stmt).scalar_one())
            if count == n:
                conn.execute(delete(RateBucket).where(col(RateBucket.window_start) < start - 3600))
    else:
        # SQLite already serialises writers (BEGIN IMMEDIATE): count in the request's transaction.
        count = int(session.execute(stmt).scalar_one())
        if count == n:
            session.execute(delete(RateBucket).where(col(RateBucket.window_start) < start - 3600))
    return count

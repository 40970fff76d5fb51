"""Request rate limits per user and per service account, counted in the database so that every
API worker process shares them (fixed one-minute windows)."""

from __future__ import annotations

import math

from sqlalchemy import Integer, String, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.core.errors import TooManyRequests

WINDOW = 60


class RateBucket(SQLModel, table=True):
    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, max_length=80, sa_type=String(80))
    window_start: int = Field(primary_key=True, sa_type=Integer)
    count: int = 0


class RateLimited(TooManyRequests):
    code, title = "rate_limited", "Too many requests; slow down / 请求过于频繁，请稍后再试"


def _upsert(dialect: str, key: str, start: int):  # type: ignore[no-untyped-def]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(RateBucket).values(key=key, window_start=start, count=1)
    return stmt.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateBucket.count + 1}
    ).returning(RateBucket.count)


def limit_for(actor: Actor) -> tuple[str, int]:
    s = get_settings()
    if actor.kind == "service":
        return f"sa:{actor.service_account_id}", s.rate_limit_service_per_minute
    return f"user:{actor.user_id}", s.rate_limit_user_per_minute


def enforce(session: Session, actor: Actor) -> None:
    """Counts one request of `actor`; raises RateLimited (429, Retry-After) over the limit."""
    key, limit = limit_for(actor)
    if limit <= 0:
        return
    now = clock.now().timestamp()
    start = int(now // WINDOW * WINDOW)
    dialect = session.get_bind().dialect.name
    stmt = _upsert(dialect, key, start)
    if dialect == "postgresql":
        # Its own short autocommit transaction: the request's transaction must not hold the
        # bucket's row lock (that would serialise every request of one caller).
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            count = int(conn.execute(stmt).scalar_one())
            if count == 1:
                conn.execute(delete(RateBucket).where(RateBucket.window_start < start - 3600))
    else:
        # SQLite already serialises writers (BEGIN IMMEDIATE): count in the request's transaction.
        count = int(session.execute(stmt).scalar_one())
        if count == 1:
            session.execute(delete(RateBucket).where(RateBucket.window_start < start - 3600))
    if count > limit:
        raise RateLimited(retry_after=max(1, math.ceil(start + WINDOW - now)))


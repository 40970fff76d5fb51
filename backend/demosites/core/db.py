"""Engine and the per-request session: the request commits, services never do."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

import demosites.core.types  # noqa: F401  (sets the naming convention)
from demosites.core.config import get_settings

metadata: MetaData = SQLModel.metadata


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN IMMEDIATE can be sent:
            # a read-then-write (quota check, state change) must hold the write lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Connections marked readonly (health checks, reports) read a snapshot instead.
            if conn.get_execution_options().get("readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        # No server-side prepared statements: after 5 runs psycopg prepares, and PostgreSQL may
        # switch a report to a generic plan that takes minutes (measured on the ledger).
        connect_args={"connect_timeout": 3, "prepare_threshold": None},
        **kwargs,
    )


_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings().database_url)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Tests and scripts point the app at another database."""
    global _engine
    _engine = engine


# Called after an error rolled a request back, with the session still usable: what they write
# is committed (the security audit of refused requests registers here).
AFTER_ROLLBACK: list[Callable[[Session, BaseException], None]] = []


def _after_rollback(session: Session, exc: BaseException) -> None:
    for hook in AFTER_ROLLBACK:
        try:
            hook(session, exc)
            session.commit()
        except Exception:
            # Never let a failing hook hide the request's own error.
            logging.getLogger("demosites").exception("after-rollback hook failed")
            session.rollback()


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit when the block ends; roll back on error, unless the error is itself a fact to
    keep (an error with `keep_changes`, e.g. a failed login that must count toward a lock)."""
    session.info.pop("actor", None)  # set by auth.deps for this request only
    try:
        yield session
        session.commit()
    except BaseException as exc:
        if getattr(exc, "keep_changes", False):
            session.commit()
        else:
            session.rollback()
            if AFTER_ROLLBACK:
                _after_rollback(session, exc)
        raise


def end_transaction(session: Session) -> None:
    """Commits what the request wrote so far and leaves no transaction open, so that slow work
    which needs no database (parsing an uploaded workbook) holds no lock — on SQLite every
    transaction takes the write lock (BEGIN IMMEDIATE). Only for a dependency that runs after
    authentication (whose bookkeeping — last seen, rate-limit counts — is worth keeping anyway)
    and before the request changes anything, and before the Idempotency-Key claim, which must
    commit with the result. The next statement begins a new transaction."""
    session.commit()


def get_session() -> Iterator[Session]:
    """One session per request; committed when the handler returns, rolled back on error."""
    with Session(get_engine(), expire_on_commit=False) as session, unit_of_work(session):
        yield session

"""Engine and the per-request session: the request commits, services never do."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

import demosites.core.types  # noqa: F401  (sets the naming convention)
from demosites.core.config import get_settings

metadata: MetaData = SQLModel.metadata


def make_engine(url: str, *, long_statements: bool = False, **kwargs: Any) -> Engine:
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
    return _postgresql_engine(url, long_statements=long_statements, **kwargs)


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_timeout` seconds for any one answer of
    the server (a statement, COMMIT, the pool's ping), then closes itself and raises
    OperationalError: the pool then sees a dead connection (503 service_unavailable).

    The server's own statement_timeout ends slow statements earlier with an answer; this bounds
    the case where no answer comes at all — a pooler or server that accepts bytes and goes
    silent, where TCP keepalives and tcp_user_timeout see a live peer and never fire."""

    answer_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = timeout if timeout is not None else self.answer_timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except psycopg.errors._WaitTimeout as exc:
            if timeout is not None:
                raise  # the caller's own limit (psycopg's notifies, cancel): theirs to handle
            # Mid-exchange, the protocol state is unknown: the connection cannot be reused.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the database within {limit:g} s / 数据库在 {limit:g} 秒内无应答"
            ) from exc


def _postgresql_engine(url: str, *, long_statements: bool, **kwargs: Any) -> Engine:
    """PostgreSQL with time limits on both sides (README, settings DATABASE_*):

    - client side, as libpq connection parameters: connect_timeout, TCP keepalives and
      tcp_user_timeout, so a connection over a network that went silent fails instead of
      waiting forever, and `DeadlineConnection` for a peer that is there but never answers;
    - server side, statement_timeout, lock_timeout and idle_in_transaction_session_timeout, set
      once when the pool opens a connection (one round trip per connection, none per request).
      Not sent as the `options` startup parameter: PgBouncer refuses unknown startup parameters
      ("unsupported startup parameter in options") unless configured to track or ignore them.
      Behind a pooler in transaction mode a session SET does not follow the client from one
      server connection to the next: turn DATABASE_SESSION_TIMEOUTS off there and set the three
      on the role (ALTER ROLE … SET statement_timeout = '30s', …), which every server
      connection then starts with.

    `long_statements` (migrations, maintenance commands) lifts the statement timeout and the
    answer deadline, keeping the others."""
    s = get_settings()
    answer_timeout = None if long_statements else s.database_answer_deadline
    session_limits = {
        "statement_timeout": 0 if long_statements else s.database_statement_timeout_seconds,
        "lock_timeout": s.database_lock_timeout_seconds,
        "idle_in_transaction_session_timeout": s.database_idle_in_transaction_timeout_seconds,
    }
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        connect_args={
            "connect_timeout": s.database_connect_timeout_seconds,
            "keepalives": 1,
            "keepalives_idle": s.database_keepalives_idle_seconds,
            "keepalives_interval": s.database_keepalives_interval_seconds,
            "keepalives_count": s.database_keepalives_count,
            "tcp_user_timeout": int(s.database_tcp_user_timeout_seconds * 1000),
            # No server-side prepared statements: after 5 runs psycopg prepares, and PostgreSQL
            # may switch a report to a generic plan that takes minutes (measured on the ledger).
            "prepare_threshold": None,
        },
        **kwargs,
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        conn = DeadlineConnection.connect(*cargs, **cparams)
        conn.answer_timeout = answer_timeout
        return conn

    if s.database_session_timeouts:

        @event.listens_for(engine, "connect")
        def _set_session_limits(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(
                    "SELECT set_config('statement_timeout', %s, false),"
                    " set_config('lock_timeout', %s, false),"
                    " set_config('idle_in_transaction_session_timeout', %s, false)",
                    [f"{int(v * 1000)}ms" for v in session_limits.values()],
                )
            dbapi_conn.commit()  # a SET rolled back with its transaction would be undone

    return engine


_engine: Engine | None = None


_long_statements = False


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings().database_url, long_statements=_long_statements)
    return _engine


def long_statements_for_this_process() -> None:
    """Maintenance commands: the engine this process opens has no statement timeout (an engine
    already set, e.g. by a test, is kept)."""
    global _long_statements
    _long_statements = True


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

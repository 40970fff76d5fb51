"""Database errors are told apart before they are answered: a deadlock or a serialisation failure
is a lost race (503 retry_later, Retry-After), a lock or statement timeout too, a lost connection
is an outage (503 service_unavailable), refused data is bad input (422). Checked on the drivers'
real exception classes, and on PostgreSQL and SQLite raising them for real."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from demosites.core.dbfailures import DbFailure, classify, is_retryable
from demosites.core.errors import database_problem


def _wrapped(orig: Exception) -> DBAPIError:
    """What SQLAlchemy raises for a driver error (the same wrapping it does on execute)."""
    base = psycopg.Error if isinstance(orig, psycopg.Error) else sqlite3.Error
    return DBAPIError.instance("SELECT 1", {}, orig, base)


def _answer(exc: BaseException) -> tuple[int, dict[str, object], dict[str, str]]:
    response = database_problem(exc)
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


@pytest.mark.parametrize(
    ("orig", "kind"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), DbFailure.deadlock),
        (psycopg.errors.SerializationFailure("could not serialize access"), DbFailure.serialization),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), DbFailure.lock_timeout),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), DbFailure.statement_timeout),
        (psycopg.errors.IdleInTransactionSessionTimeout("terminating connection"), DbFailure.transaction_timeout),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), DbFailure.connection_lost),
        (psycopg.errors.ConnectionFailure("connection failure"), DbFailure.connection_lost),
        (psycopg.OperationalError("server closed the connection unexpectedly"), DbFailure.connection_lost),
        (psycopg.errors.ConnectionTimeout("connection timeout expired"), DbFailure.connection_lost),
        (psycopg.errors.TooManyConnections("too many clients already"), DbFailure.unavailable),
        (psycopg.errors.NumericValueOutOfRange("integer out of range"), DbFailure.other),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), DbFailure.other),
        (psycopg.errors.UniqueViolation("duplicate key"), DbFailure.other),
    ],
)  # fmt: skip
def test_psycopg_errors_are_classified_by_what_they_mean(orig: Exception, kind: DbFailure) -> None:
    assert classify(orig) is kind
    assert classify(_wrapped(orig)) is kind


def test_only_deadlocks_and_serialisation_failures_are_retried() -> None:
    assert is_retryable(_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert is_retryable(_wrapped(psycopg.errors.SerializationFailure("could not serialize")))
    for orig in (
        psycopg.errors.LockNotAvailable("lock timeout"),
        psycopg.errors.QueryCanceled("statement timeout"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.UniqueViolation("duplicate key"),
    ):
        assert not is_retryable(_wrapped(orig)), orig


def test_an_invalidated_connection_is_lost_whatever_the_error_says() -> None:
    exc = _wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))
    exc.connection_invalidated = True
    assert classify(exc) is DbFailure.connection_lost


@pytest.mark.parametrize(
    ("orig", "retry_after"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), "1"),
        (psycopg.errors.SerializationFailure("could not serialize access"), "1"),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), "2"),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), "5"),
    ],
)
def test_a_lost_race_or_timeout_answers_503_retry_later_never_unreachable(
    orig: Exception, retry_after: str
) -> None:
    status, body, headers = _answer(_wrapped(orig))
    assert status == 503 and body["code"] == "retry_later", body
    assert headers["retry-after"] == retry_after
    assert headers["content-type"].startswith("application/problem+json")
    for text_ in (str(body["title"]), str(body["detail"])):
        assert " / " in text_ and any("\u4e00" <= ch <= "\u9fff" for ch in text_), text_
    assert "unreachable" not in json.dumps(body)


def test_a_lost_connection_answers_503_service_unavailable() -> None:
    status, body, headers = _answer(
        _wrapped(psycopg.OperationalError("server closed the connection"))
    )
    assert (status, body["code"]) == (503, "service_unavailable")
    assert "unreachable" in str(body["detail"]) and headers["retry-after"]


def test_data_the_database_refuses_is_still_422() -> None:
    status, body, _ = _answer(
        _wrapped(psycopg.errors.NumericValueOutOfRange("integer out of range"))
    )
    assert (status, body["code"]) == (422, "validation_error")


# -- raised for real -----------------------------------------------------------------------------


def _pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL raises these (TEST_DATABASE_URL)")
    return engine


def _raised_by(engine: Engine, *statements: str) -> DBAPIError:
    with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
        for statement in statements:
            conn.execute(text(statement))
    return caught.value


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [("deadlock_detected", DbFailure.deadlock), ("serialization_failure", DbFailure.serialization)],
)
def test_postgresql_raises_lost_races_as_operational_errors_we_recognise(
    engine: Engine, errcode: str, kind: DbFailure
) -> None:
    exc = _raised_by(
        _pg(engine), f"DO $$ BEGIN RAISE EXCEPTION 'provoked' USING ERRCODE = '{errcode}'; END $$"
    )
    assert type(exc).__name__ == "OperationalError"
    assert classify(exc) is kind and is_retryable(exc)


def test_a_real_statement_timeout_is_recognised(engine: Engine) -> None:
    exc = _raised_by(_pg(engine), "SET LOCAL statement_timeout = '50ms'", "SELECT pg_sleep(5)")
    assert isinstance(exc.orig, psycopg.errors.QueryCanceled)
    assert classify(exc) is DbFailure.statement_timeout and not is_retryable(exc)


def _pair_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE race_pair (id int PRIMARY KEY)"))
        conn.execute(text("INSERT INTO race_pair VALUES (1), (2)"))


def test_a_real_lock_timeout_is_recognised(fresh_engine: Engine) -> None:
    engine = _pg(fresh_engine)
    _pair_table(engine)
    with engine.connect() as holder:
        holder.execute(text("SELECT * FROM race_pair WHERE id = 1 FOR UPDATE"))
        exc = _raised_by(
            engine,
            "SET LOCAL lock_timeout = '50ms'",
            "SELECT * FROM race_pair WHERE id = 1 FOR UPDATE",
        )
        holder.rollback()
    assert isinstance(exc.orig, psycopg.errors.LockNotAvailable)
    assert classify(exc) is DbFailure.lock_timeout


def test_a_real_deadlock_between_two_connections_is_recognised(fresh_engine: Engine) -> None:
    engine = _pg(fresh_engine)
    _pair_table(engine)
    both_hold_one = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []

    def lock(first: int, second: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text(f"SELECT * FROM race_pair WHERE id = {first} FOR UPDATE"))
                both_hold_one.wait()
                conn.execute(text(f"SELECT * FROM race_pair WHERE id = {second} FOR UPDATE"))
        except DBAPIError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=lock, args=pair) for pair in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(failures) == 1, "PostgreSQL rolls back exactly one of the two"
    assert isinstance(failures[0], DBAPIError)
    assert classify(failures[0]) is DbFailure.deadlock and is_retryable(failures[0])
    status, body, _ = _answer(failures[0])
    assert (status, body["code"]) == (503, "retry_later")


def test_a_connection_terminated_by_the_server_is_lost(fresh_engine: Engine) -> None:
    engine = _pg(fresh_engine)
    with engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as caught:
            victim.execute(text("SELECT 1"))
    assert classify(caught.value) is DbFailure.connection_lost
    status, body, _ = _answer(caught.value)
    assert (status, body["code"]) == (503, "service_unavailable")


def test_a_locked_sqlite_database_is_a_lock_timeout_not_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        holder.rollback()
        holder.close()
        waiter.close()
    assert classify(caught.value) is DbFailure.lock_timeout
    status, body, _ = _answer(_wrapped(caught.value))
    assert (status, body["code"]) == (503, "retry_later")

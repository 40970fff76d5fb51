"""What a database error means for the caller: run the unit of work again, come back shortly, or
the database is gone. Decided once here, for the request retry (core/retry.py) and the problem
answers (core/errors.py) alike.

PostgreSQL names its errors by SQLSTATE (psycopg puts it on `sqlstate`); SQLite by a result code
(`sqlite_errorname`). SQLAlchemy wraps both in `DBAPIError` subclasses with the driver's error
as `orig`, and sets `connection_invalidated` when it found the connection dead."""

from __future__ import annotations

import sqlite3
from enum import StrEnum

import psycopg
from sqlalchemy.exc import OperationalError


class DbFailure(StrEnum):
    # 40P01: two transactions waited for each other; PostgreSQL rolled this one back.
    deadlock = "deadlock"
    # 40001: a concurrent change made this transaction's view impossible to keep.
    serialization = "serialization"
    # 55P03 lock_not_available (lock_timeout); SQLite "database is locked" after busy_timeout.
    lock_timeout = "lock_timeout"
    # 57014 query_canceled: statement_timeout (or an operator cancelling the query).
    statement_timeout = "statement_timeout"
    # 25P03 idle_in_transaction_session_timeout, 25P04 transaction_timeout: the server ended a
    # transaction that stayed open too long (the connection goes with it).
    transaction_timeout = "transaction_timeout"
    # Nothing answers: connection refused, reset or closed, no answer within the client's
    # deadline, the server shutting down (class 08, 57P01-57P03, libpq errors without SQLSTATE).
    connection_lost = "connection_lost"
    # The server answered but cannot serve now (too many connections, disk full: class 53 …).
    unavailable = "unavailable"
    # Anything else: data the database refused (out of range, NUL bytes), constraint errors.
    other = "other"


# Nothing was applied and running the same unit of work again is expected to succeed.
RETRYABLE = frozenset({DbFailure.deadlock, DbFailure.serialization})
# The database is reachable but this request lost a race or ran out of time: the caller should
# send it again shortly (503 retry_later, never "the database is unreachable").
RETRY_LATER = RETRYABLE | {
    DbFailure.lock_timeout,
    DbFailure.statement_timeout,
    DbFailure.transaction_timeout,
}

_BY_SQLSTATE = {
    "40P01": DbFailure.deadlock,
    "40001": DbFailure.serialization,
    "55P03": DbFailure.lock_timeout,
    "57014": DbFailure.statement_timeout,
    "25P03": DbFailure.transaction_timeout,
    "25P04": DbFailure.transaction_timeout,
    "57P01": DbFailure.connection_lost,  # admin_shutdown (the backend was terminated)
    "57P02": DbFailure.connection_lost,  # crash_shutdown
    "57P03": DbFailure.connection_lost,  # cannot_connect_now (starting up, shutting down)
}


def classify(exc: BaseException) -> DbFailure:
    """The kind of failure `exc` is: a SQLAlchemy error or the driver's own."""
    if getattr(exc, "connection_invalidated", False):
        return DbFailure.connection_lost
    orig = getattr(exc, "orig", None) or exc
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate in _BY_SQLSTATE:
            return _BY_SQLSTATE[sqlstate]
        if sqlstate.startswith("08"):
            return DbFailure.connection_lost
        if isinstance(orig, psycopg.OperationalError):
            return DbFailure.unavailable
        return DbFailure.other
    if isinstance(orig, sqlite3.OperationalError):
        name = getattr(orig, "sqlite_errorname", "") or ""
        if name == "SQLITE_BUSY_SNAPSHOT":
            return DbFailure.serialization
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(orig):
            return DbFailure.lock_timeout
        return DbFailure.connection_lost  # unable to open the file, disk I/O error
    if isinstance(orig, psycopg.OperationalError) or isinstance(exc, OperationalError):
        # libpq's own errors carry no SQLSTATE: the server never answered.
        return DbFailure.connection_lost
    return DbFailure.other


def is_retryable(exc: BaseException) -> bool:
    """True when the whole unit of work may simply run again (deadlock, serialisation failure)."""
    return classify(exc) in RETRYABLE

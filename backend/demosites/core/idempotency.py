"""Idempotency-Key for POST: a key is claimed by a unique row in the request's own transaction.

How it works, and why it is safe under concurrency on both databases:
- `IdempotentRouteBase` adds its `claim` dependency to every POST route. Keys are per caller, and
  core knows no callers: `auth.deps.IdempotentRoute` (give it to an APIRouter as `route_class=`)
  is the route class to use, its dependency names the authenticated caller and calls `claim_key`.
  When the request carries `Idempotency-Key`, the claim inserts (caller, key, fingerprint) with
  INSERT … ON CONFLICT DO NOTHING before the handler runs.
  On PostgreSQL a second request with the same key blocks on the unique index until the first
  transaction ends; on SQLite every writing transaction is BEGIN IMMEDIATE, so they queue.
- After the handler answers 2xx, the route stores status, body and a few headers in the same
  row, still inside the request's transaction: the object, the claim and the answer commit
  together. A later request with the same key and the same body replays that answer byte for
  byte (header `Idempotent-Replayed: true`); with another body it answers 422
  `idempotency_key_reused`.
- An error answer rolls the whole transaction back, claim included: nothing happened, so a retry
  with the same key simply runs again.
- A key lasts 24 hours (`KEPT_FOR`): a claim of an older record takes it over as a new key, and a
  claim that inserts purges the records past that age, at most once a minute per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, ClassVar

from fastapi import Depends, Request, Response
from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint, delete, null, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.errors import Problem, ValidationFailed
from demosites.core.retry import RetryRoute
from demosites.core.types import UTCDateTime

HEADER = "Idempotency-Key"
HEADER_DESCRIPTION = (
    "Makes a POST safe to retry: the same key with the same body replays the first "
    "answer for 24 hours; with another body it answers 422 idempotency_key_reused. "
    "After 24 hours the key is new again."
)
REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "etag", "location")
_STATE_CLAIM = "idempotency_claim"
_STATE_FINGERPRINT = "idempotency_fingerprint"
KEPT_FOR = timedelta(hours=24)
PURGE_EVERY = timedelta(minutes=1)
PURGE_BATCH = 1000


class IdempotencyKeyReused(ValidationFailed):
    code, title = (
        "idempotency_key_reused",
        "This Idempotency-Key was already used with another request / 该幂等键已用于另一个请求",
    )


class IdempotencyRecord(SQLModel, table=True):
    """One claimed Idempotency-Key of one caller, with the answer it got."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    caller: str = Field(max_length=80)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=300)
    status_code: int | None = None
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class _Replay(Exception):
    """Raised by the claim to short-circuit the handler with the stored answer."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record


def caller_of(actor: Actor) -> str:
    who = actor.user_id if actor.user_id is not None else actor.service_account_id
    return f"{actor.kind}:{who}"


class _Purge:
    """When this process last purged expired records (a claim that inserts asks it)."""

    def __init__(self) -> None:
        self.last: datetime | None = None
        self.lock = threading.Lock()

    def due(self, now: datetime) -> bool:
        with self.lock:
            # A clock moved back (tests) counts as due too.
            if self.last is None or not self.last <= now < self.last + PURGE_EVERY:
                self.last = now
                return True
            return False

    def again(self) -> None:
        with self.lock:
            self.last = None


_purge = _Purge()


def purge_expired(session: Session, now: datetime) -> int:
    """Deletes up to PURGE_BATCH records older than KEPT_FOR; returns how many. On PostgreSQL
    rows another transaction holds are skipped, so the purge never waits or deadlocks."""
    old = select(IdempotencyRecord.id).where(col(IdempotencyRecord.created_at) < now - KEPT_FOR)
    old = old.order_by(col(IdempotencyRecord.created_at)).limit(PURGE_BATCH)
    if session.get_bind().dialect.name == "postgresql":
        old = old.with_for_update(skip_locked=True)
    gone = session.connection().execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.id).in_(old.scalar_subquery()))
    )
    return int(gone.rowcount or 0)


def _take_over_expired(session: Session, record_id: int, values: dict[str, Any]) -> bool:
    """Makes an expired record the claim of this request, as if new. Conditional, so that of two
    requests taking over the same key one wins and the other finds it fresh (and replays it)."""
    taken = session.connection().execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.id) == record_id,
            col(IdempotencyRecord.created_at) <= values["created_at"] - KEPT_FOR,
        )
        .values(**values, status_code=None, headers=null(), body=None)
    )
    return bool(taken.rowcount)


def _claim(
    session: Session, caller: str, key: str, fingerprint: str, method: str, path: str
) -> int:
    """Inserts the claim or, when it exists, replays it / refuses another body. Returns its id."""
    now = clock.now()
    values = {
        "caller": caller,
        "key": key,
        "fingerprint": fingerprint,
        "method": method,
        "path": path[:300],
        "created_at": now,
    }
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        maker(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["caller", "key"])
        .returning(table.c.id)
    )
    # Through the connection: an ORM-level execute reports no rowcount for this statement.
    claimed = session.connection().execute(stmt).first()
    if claimed is not None:
        if _purge.due(now) and purge_expired(session, now) == PURGE_BATCH:
            _purge.again()  # more are left: the next claim goes on
        return int(claimed[0])
    row = _record(session, caller, key)
    if row.created_at <= now - KEPT_FOR:
        record_id = int(row.id or 0)
        if _take_over_expired(session, record_id, values):
            session.expire(row)  # written past the ORM: `_store` must not trust what it holds
            return record_id
        row = _record(session, caller, key)  # another request took it over first
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Key “{key}” was first used for {row.method} {row.path} with another body / "
            "该幂等键已用于内容不同的请求，请换一个新键"
        )
    if row.status_code is None:
        # Claimed in this very transaction (a test session) by a request that did not answer.
        raise IdempotencyKeyReused(
            "The first request with this key did not finish / 首次请求未完成"
        )
    raise _Replay(row)


def _record(session: Session, caller: str, key: str) -> IdempotencyRecord:
    return session.exec(
        select(IdempotencyRecord)
        .where(col(IdempotencyRecord.caller) == caller, col(IdempotencyRecord.key) == key)
        .execution_options(populate_existing=True)
    ).one()


async def claim_key(request: Request, session: Session, caller: str, key: str) -> None:
    """Claims `key` for `caller` in the request's transaction, or replays / refuses (what the
    route class's `claim` dependency calls once it knows the caller)."""
    fingerprint = getattr(request.state, _STATE_FINGERPRINT, None)
    if fingerprint is None:
        return
    record_id = await run_in_threadpool(
        _claim, session, caller, key, fingerprint, request.method, request.url.path
    )
    setattr(request.state, _STATE_CLAIM, (session, record_id))


async def _fingerprint(request: Request) -> str:
    """sha256 of what the request asks for: method, path, query and the body as meant (JSON
    canonicalised, multipart by fields and file contents, since boundaries differ per try)."""
    digest = hashlib.sha256()
    digest.update(
        f"{request.method} {request.url.path}?{sorted(request.query_params.multi_items())}".encode()
    )
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        for name, value in sorted(form.multi_items(), key=lambda kv: kv[0]):
            digest.update(name.encode() + b"\0")
            if isinstance(value, UploadFile):
                data = await value.read()
                await value.seek(0)
                digest.update(hashlib.sha256(data).digest())
                digest.update((value.filename or "").encode())
            else:
                digest.update(str(value).encode())
        return digest.hexdigest()
    body = await request.body()
    if ctype.startswith("application/json") and body:
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode()
    digest.update(body)
    return digest.hexdigest()


def _store(session: Session, record_id: int, response: Response) -> None:
    row = session.get(IdempotencyRecord, record_id)
    if row is None:
        return
    row.status_code = response.status_code
    row.body = bytes(response.body)
    row.headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    session.add(row)
    session.flush()


def _forget(session: Session, record_id: int) -> None:
    row = session.get(IdempotencyRecord, record_id)
    if row is not None:
        session.delete(row)
        session.flush()


def _replayed(record: IdempotencyRecord) -> Response:
    headers = dict(record.headers or {})
    media_type = headers.pop("content-type", None)
    response = Response(
        content=record.body or b"", status_code=record.status_code or 200, media_type=media_type
    )
    for k, v in headers.items():
        response.headers[k] = v
    response.headers[REPLAYED_HEADER] = "true"
    return response


class IdempotentRouteBase(RetryRoute):
    """Route class that honours Idempotency-Key on POST (see the module docstring); a subclass
    supplies `claim`, the FastAPI dependency that finds the caller and calls `claim_key`. The
    claim, the handler and the stored answer are one unit of work, retried whole (core/retry.py)."""

    claim: ClassVar[Callable[..., Any]]

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in (kwargs.get("methods") or [])}
        if "POST" in methods:
            deps = list(kwargs.get("dependencies") or [])
            if not any(getattr(d, "dependency", None) is self.claim for d in deps):
                deps.append(Depends(self.claim))
            kwargs["dependencies"] = deps
            kwargs["responses"] = _with_reuse_documented(dict(kwargs.get("responses") or {}))
        super().__init__(path, endpoint, **kwargs)

    def unit_of_work_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().unit_of_work_handler()

        async def idempotent_handler(request: Request) -> Response:
            if request.method != "POST" or HEADER.lower() not in request.headers:
                return await handler(request)
            setattr(request.state, _STATE_FINGERPRINT, await _fingerprint(request))
            try:
                response = await handler(request)
            except _Replay as replay:
                return _replayed(replay.record)
            claim = getattr(request.state, _STATE_CLAIM, None)
            if claim is not None:
                session, record_id = claim
                if 200 <= response.status_code < 300 and hasattr(response, "body"):
                    await run_in_threadpool(_store, session, record_id, response)
                else:
                    await run_in_threadpool(_forget, session, record_id)
            return response

        return idempotent_handler


def _with_reuse_documented(responses: dict[int | str, Any]) -> dict[int | str, Any]:
    entry = dict(
        responses.get(422)
        or {"model": Problem, "description": "problem+json; code: validation_error"}
    )
    description = entry.get("description") or "problem+json"
    if IdempotencyKeyReused.code not in description:
        sep = ", " if "code:" in description else "; code: "
        entry["description"] = description + sep + IdempotencyKeyReused.code
    responses[422] = entry
    return responses

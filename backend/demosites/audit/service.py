"""Writes and verifies the history: one row per state change, chained by sha256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, func, select

from demosites.audit.models import HistoryEntry
from demosites.core.actor import Actor
from demosites.core.clock import clock

GENESIS = "0" * 64


_CHAINED = (
    "prev_hash", "object_type", "object_id", "action", "from_state", "to_state", "actor_user_id",
    "actor_name", "actor_role", "actor_org_id", "at", "opinion", "data",
)  # fmt: skip


def _digest(entry: HistoryEntry | Mapping[str, Any]) -> str:
    """sha256 of the chained fields of an entry (a row object, or the values of one to insert)."""
    values = entry if isinstance(entry, Mapping) else {k: getattr(entry, k) for k in _CHAINED}
    at = values["at"]
    payload = json.dumps(
        [
            *(values[k] for k in _CHAINED[:10]),
            at.isoformat(timespec="microseconds") if at else None,
            values["opinion"],
            values["data"],
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    object_type: str,
    object_id: int,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    role: str | None = None,
    opinion: str | None = None,
    data: dict[str, Any] | None = None,
) -> HistoryEntry:
    """Appends one history row in the caller's transaction (never commits)."""
    _serialise_writers(session)
    prev = session.exec(
        select(HistoryEntry.hash).order_by(col(HistoryEntry.id).desc()).limit(1)
    ).first()
    now = clock.now()
    entry = HistoryEntry(
        object_type=object_type,
        object_id=object_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_user_id=actor.user_id,
        actor_name=actor.display_name,
        actor_role=role,
        actor_org_id=actor.organization_id or None,
        actor_org_name=actor.organization_name,
        at=now,
        opinion=opinion,
        data=data,
        prev_hash=prev or GENESIS,
        hash="",
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


def _serialise_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # The chain needs the previous row: serialise writers for the rest of this transaction.
        # (SQLite: every writing transaction already holds the write lock, BEGIN IMMEDIATE.)
        session.execute(text("SELECT pg_advisory_xact_lock(7424001)"))


def record_many(
    session: Session,
    actor: Actor,
    object_type: str,
    action: str,
    objects: Sequence[tuple[int, dict[str, Any] | None]],
    *,
    role: str | None = None,
) -> list[str]:
    """Appends one history row per (object id, data), as `record` would one after the other,
    but chained here and written in one batch of INSERTs (an import of thousands of objects).
    Returns the rows' hashes in order. Never commits."""
    if not objects:
        return []
    session.flush()  # rows pending in the session (and their history) come first
    _serialise_writers(session)
    last = session.execute(
        select(HistoryEntry.id, HistoryEntry.hash).order_by(col(HistoryEntry.id).desc()).limit(1)
    ).first()
    last_id, prev = (last[0], last[1]) if last else (0, GENESIS)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for object_id, data in objects:
        row = {
            "object_type": object_type, "object_id": object_id, "action": action,
            "from_state": None, "to_state": None, "actor_user_id": actor.user_id,
            "actor_name": actor.display_name, "actor_role": role,
            "actor_org_id": actor.organization_id or None,
            "actor_org_name": actor.organization_name, "at": now, "opinion": None, "data": data,
            "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = _digest(row)
        rows.append(row)
    session.execute(insert(HistoryEntry.__table__), rows)  # type: ignore[attr-defined]
    # The chain follows the ids: the rows must have got their ids in the order they were chained.
    # Checked before the commit, because an append-only row cannot be mended afterwards.
    written = session.exec(
        select(HistoryEntry.hash)
        .where(col(HistoryEntry.id) > last_id)
        .order_by(col(HistoryEntry.id))
    ).all()
    hashes = [r["hash"] for r in rows]
    if list(written) != hashes:
        raise RuntimeError("history rows were not written in chain order; nothing is kept")
    return hashes


def history_of(session: Session, object_type: str, object_id: int) -> list[HistoryEntry]:
    return list(
        session.exec(
            select(HistoryEntry)
            .where(HistoryEntry.object_type == object_type, HistoryEntry.object_id == object_id)
            .order_by(col(HistoryEntry.id))
        )
    )


def verify_chain(session: Session) -> list[int]:
    """Ids of rows whose hash or link does not match: empty when the chain is intact."""
    bad: list[int] = []
    prev = GENESIS
    for entry in session.exec(select(HistoryEntry).order_by(col(HistoryEntry.id))):
        if entry.prev_hash != prev or _digest(entry) != entry.hash:
            bad.append(entry.id or 0)
        prev = entry.hash
    return bad


def search(
    session: Session,
    object_type: str,
    *,
    actions: list[str] | None = None,
    actor: str | None = None,
    object_id: int | None = None,
    result: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[HistoryEntry], int]:
    """Entries of one object type, newest first; `result` matches `to_state`, `actor` the name."""
    stmt = select(HistoryEntry).where(HistoryEntry.object_type == object_type)
    if actions:
        stmt = stmt.where(col(HistoryEntry.action).in_(actions))
    if actor:
        stmt = stmt.where(col(HistoryEntry.actor_name).contains(actor))
    if object_id is not None:
        stmt = stmt.where(HistoryEntry.object_id == object_id)
    if result:
        stmt = stmt.where(HistoryEntry.to_state == result)
    if since:
        stmt = stmt.where(HistoryEntry.at >= since)
    if until:
        stmt = stmt.where(HistoryEntry.at < until)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(HistoryEntry.id).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def entries_between(
    session: Session, object_type: str, after_id: int, before: datetime
) -> list[HistoryEntry]:
    """Entries of one type with id > after_id and older than `before`, oldest first (archiving)."""
    return list(
        session.exec(
            select(HistoryEntry)
            .where(
                HistoryEntry.object_type == object_type,
                HistoryEntry.id > after_id,  # type: ignore[operator]
                HistoryEntry.at < before,
            )
            .order_by(col(HistoryEntry.id))
        )
    )

"""Checkpoints of the history (履历检查点): every stream's head at one moment, folded into one digest.

A chain proves the order of each object's rows, but deleting the last rows of a stream leaves a
shorter chain that is still valid. A checkpoint records, at a moment, the number of rows, the
number of streams and each stream's head (seq, hash); `verify_chain` then requires the history to
extend the latest checkpoint: no stream shorter, each recorded head still the same row, no fewer
rows. Only the heads of streams that moved since the checkpoint before are stored (a checkpoint's
full state is the latest head of every stream up to it); `head` is the digest of that full state,
so changing the stored heads is seen too.

Take one periodically: `python -m demosites.cli checkpoint-history`, or `run()` from a job.
Writers are never blocked: a checkpoint reads the heads in one statement (one snapshot) and only
other checkpoints wait for it. A later issue signs `statement(checkpoint)` and keeps the signed
statements outside the database, where whoever can rewrite the database cannot follow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, and_, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from demosites.audit import digest
from demosites.audit.models import HistoryCheckpoint, HistoryCheckpointHead, HistoryEntry
from demosites.core.clock import clock
from demosites.core.errors import Conflict

Stream = tuple[str, int]  # (object_type, object_id)
State = dict[Stream, tuple[int, str]]  # stream → (seq, hash) of its head

HISTORY: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
HEADS: Table = HistoryCheckpointHead.__table__  # type: ignore[attr-defined]


class HistoryRegressed(Conflict):
    code, title = (
        "history_regressed",
        "The history no longer extends the last checkpoint; run verify-history / "
        "履历与最近的检查点不符，请运行 verify-history 核查",
    )


def fold(state: Mapping[Stream, tuple[int, str]], key_id: str = digest.CURRENT_KEY_ID) -> str:
    """The digest of a full state: its streams' (type, id, seq, hash) sorted, one JSON line each."""
    h = digest.hasher(key_id)
    for (object_type, object_id), (seq, hash_) in sorted(state.items()):
        h.update(json.dumps([object_type, object_id, seq, hash_]).encode() + b"\n")
    return h.hexdigest()


def statement(checkpoint: HistoryCheckpoint) -> bytes:
    """The canonical text of a checkpoint: what a later issue signs and keeps outside the database."""
    return json.dumps(
        {
            "id": checkpoint.id,
            "at": checkpoint.at.isoformat(timespec="microseconds"),
            "total": checkpoint.total,
            "streams": checkpoint.streams,
            "key_id": checkpoint.key_id,
            "head": checkpoint.head,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def latest(session: Session) -> HistoryCheckpoint | None:
    return session.exec(
        select(HistoryCheckpoint).order_by(col(HistoryCheckpoint.id).desc()).limit(1)
    ).first()


def state_at(session: Session, checkpoint_id: int) -> State:
    """The full state of a checkpoint: the latest recorded head of each stream up to it."""
    out: State = {}
    rows = session.execute(
        sa_select(HEADS.c.object_type, HEADS.c.object_id, HEADS.c.seq, HEADS.c.hash)
        .where(HEADS.c.checkpoint_id <= checkpoint_id)
        .order_by(HEADS.c.checkpoint_id)
    )
    for object_type, object_id, seq, hash_ in rows:
        out[(object_type, object_id)] = (seq, hash_)
    return out


def latest_state(session: Session) -> tuple[HistoryCheckpoint | None, State, bool]:
    """(latest checkpoint, its full state, whether that state still folds to its head)."""
    cp = latest(session)
    if cp is None:
        return None, {}, True
    state = state_at(session, cp.id or 0)
    sound = digest.known(cp.key_id) and fold(state, cp.key_id) == cp.head
    return cp, state, sound


def current_state(session: Session) -> tuple[State, int]:
    """Every stream's head now and the number of rows, in one statement (one snapshot)."""
    per_stream = (
        sa_select(
            HISTORY.c.object_type,
            HISTORY.c.object_id,
            func.max(HISTORY.c.seq).label("seq"),
            func.count().label("n"),
        )
        .group_by(HISTORY.c.object_type, HISTORY.c.object_id)
        .subquery()
    )
    rows = session.execute(
        sa_select(
            HISTORY.c.object_type, HISTORY.c.object_id, HISTORY.c.seq, HISTORY.c.hash,
            per_stream.c.n,
        ).join(
            per_stream,
            and_(
                HISTORY.c.object_type == per_stream.c.object_type,
                HISTORY.c.object_id == per_stream.c.object_id,
                HISTORY.c.seq == per_stream.c.seq,
            ),
        )
    )  # fmt: skip
    state: State = {}
    total = 0
    for object_type, object_id, seq, hash_, n in rows:
        state[(object_type, object_id)] = (seq, hash_)
        total += n
    return state, total


def take(session: Session) -> HistoryCheckpoint:
    """Records a checkpoint of the history as it is now, in the caller's transaction (never
    commits). Refuses (409 history_regressed) when a stream is shorter than, or its head differs
    from, the latest checkpoint: a checkpoint must never bless a deleted or rewritten tail."""
    if session.get_bind().dialect.name == "postgresql":
        # One checkpoint at a time (each builds on the one before); writers of the history never
        # take this lock. (SQLite: the transaction already holds the write lock.)
        session.execute(text("LOCK TABLE history_checkpoint IN EXCLUSIVE MODE"))
    before, previous, sound = latest_state(session)
    if not sound:
        raise HistoryRegressed(
            f"Checkpoint {before.id if before else '?'} does not match its recorded heads / "
            f"检查点 {before.id if before else '?'} 与其记录不符"
        )
    now, total = current_state(session)
    regressed = sorted(
        stream
        for stream, (seq, hash_) in previous.items()
        if stream not in now
        or now[stream][0] < seq
        or (now[stream][0] == seq and now[stream][1] != hash_)
    )
    if regressed:
        names = ", ".join(f"{t} {i}" for t, i in regressed[:5])
        raise HistoryRegressed(
            f"{len(regressed)} streams are shorter than or differ from the last checkpoint: {names} / "
            f"{len(regressed)} 个对象的履历短于或不同于最近的检查点：{names}"
        )
    cp = HistoryCheckpoint(
        at=clock.now(), total=total, streams=len(now), key_id=digest.CURRENT_KEY_ID, head=fold(now)
    )
    session.add(cp)
    session.flush()
    moved: list[dict[str, Any]] = [
        {"checkpoint_id": cp.id, "object_type": t, "object_id": i, "seq": seq, "hash": hash_}
        for (t, i), (seq, hash_) in sorted(now.items())
        if previous.get((t, i)) != (seq, hash_)
    ]
    if moved:
        session.execute(insert(HEADS), moved)
    return cp


def run() -> HistoryCheckpoint:
    """A checkpoint in a transaction of its own, committed: what the CLI and a periodic job call."""
    from demosites.core.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        cp = take(session)
        session.commit()
        return cp

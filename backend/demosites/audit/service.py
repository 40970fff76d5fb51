"""Writes and verifies the history: one row per state change, one hash chain per object.

Each object (object_type, object_id) is a stream of its own: its rows are numbered by `seq` from 1
and each row's `prev_hash` is the hash of the row before it in the same stream (GENESIS for the
first). Appending reads only the stream's head, so writers of different objects never wait for
one another; writers of one object are already one after the other (the object's row lock), and
should two ever append at the same place, the unique (object_type, object_id, seq) refuses the
second: the chain never forks. Digests go through audit/digest.py; checkpoints.py fixes the
heads of all streams at a moment so that a deleted tail is seen too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, func, select

from demosites.audit import checkpoints, digest
from demosites.audit.digest import CURRENT_KEY_ID, GENESIS
from demosites.audit.errors import HistoryBusy
from demosites.audit.models import HistoryEntry
from demosites.core.actor import Actor
from demosites.core.clock import clock

# The fields a row's hash covers, in this order. `actor_org_name` is printed on documents.
CHAINED = (
    "key_id", "object_type", "object_id", "seq", "prev_hash", "action", "from_state", "to_state",
    "actor_user_id", "actor_name", "actor_role", "actor_org_id", "actor_org_name", "at", "opinion",
    "data",
)  # fmt: skip
APPEND_ATTEMPTS = 20  # appends to one stream lost to other writers before giving up (503)
CHUNK = 500  # object ids per IN (…) list
TABLE: Table = HistoryEntry.__table__  # type: ignore[attr-defined]
STREAM = (TABLE.c.object_type, TABLE.c.object_id)


def payload(values: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a row's chained fields (a row mapping, or the values to insert)."""
    at: datetime | None = values["at"]
    return json.dumps(
        [
            (at.astimezone(UTC).isoformat(timespec="microseconds") if at else None)
            if k == "at"
            else values[k]
            for k in CHAINED
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def entry_digest(values: Mapping[str, Any]) -> str:
    """The hash of a row under its own key id (KeyError for a key id this installation lacks)."""
    return digest.digest(payload(values), values["key_id"])


_HEAD = (
    sa_select(TABLE.c.seq, TABLE.c.hash)
    .where(TABLE.c.object_type == bindparam("t"), TABLE.c.object_id == bindparam("i"))
    .order_by(TABLE.c.seq.desc())
    .limit(1)
)


@functools.cache
def _append(dialect: str) -> Any:
    """INSERT of one row that does nothing (and returns no id) when its place in the stream is
    taken. On PostgreSQL it first waits for a writer that took the place and has not committed."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert_(TABLE)
        .on_conflict_do_nothing(index_elements=["object_type", "object_id", "seq"])
        .returning(TABLE.c.id)
    )


def _row(
    actor: Actor, object_type: str, object_id: int, action: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    return {
        "key_id": CURRENT_KEY_ID, "object_type": object_type, "object_id": object_id,
        "action": action, "from_state": fields.get("from_state"), "to_state": fields.get("to_state"),
        "actor_user_id": actor.user_id, "actor_name": actor.display_name,
        "actor_role": fields.get("role"), "actor_org_id": actor.organization_id or None,
        "actor_org_name": actor.organization_name, "at": at, "opinion": fields.get("opinion"),
        "data": fields.get("data"),
    }  # fmt: skip


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
    """Appends one row to the object's stream in the caller's transaction (never commits).

    Takes no lock of its own beyond the new row: the caller holds the object's row lock where
    the object exists. Should another writer have appended at the same place meanwhile (an
    object without a row lock, e.g. security events), the head is read again and the append
    retried; after APPEND_ATTEMPTS such losses the request fails (503) with nothing written."""
    session.flush()  # rows pending in the session come first
    row = _row(actor, object_type, object_id, action, clock.now(), from_state=from_state,
               to_state=to_state, role=role, opinion=opinion, data=data)  # fmt: skip
    append = _append(session.get_bind().dialect.name)
    for _ in range(APPEND_ATTEMPTS):
        head = session.execute(_HEAD, {"t": object_type, "i": object_id}).first()
        row["seq"], row["prev_hash"] = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row["hash"] = entry_digest(row)
        new_id = session.execute(append, row).scalar_one_or_none()
        if new_id is not None:
            entry = HistoryEntry(id=new_id, **row)
            make_transient_to_detached(entry)
            session.add(entry)  # as if read back: no second INSERT
            return entry
    raise HistoryBusy()


def heads(
    session: Session, object_type: str, object_ids: Iterable[int]
) -> dict[int, tuple[int, str]]:
    """object id → (seq, hash) of its stream's last row, for those with any (read by chunks)."""
    wanted = sorted(set(object_ids))
    out: dict[int, tuple[int, str]] = {}
    for n in range(0, len(wanted), CHUNK):
        last = (
            sa_select(TABLE.c.object_id, func.max(TABLE.c.seq).label("seq"))
            .where(TABLE.c.object_type == object_type, TABLE.c.object_id.in_(wanted[n : n + CHUNK]))
            .group_by(TABLE.c.object_id)
            .subquery()
        )
        rows = session.execute(
            sa_select(TABLE.c.object_id, TABLE.c.seq, TABLE.c.hash)
            .join(last, and_(TABLE.c.object_id == last.c.object_id, TABLE.c.seq == last.c.seq))
            .where(TABLE.c.object_type == object_type)
        )
        out.update({oid: (seq, h) for oid, seq, h in rows})
    return out


def record_many(
    session: Session,
    actor: Actor,
    object_type: str,
    action: str,
    objects: Sequence[tuple[int, dict[str, Any] | None]],
    *,
    role: str | None = None,
) -> list[str]:
    """Appends one row per (object id, data), as `record` would one after the other, in one
    batch of INSERTs (an import of thousands of new objects: each starts its own stream).
    Returns the rows' hashes in order. Never commits. A concurrent append to one of these
    streams makes the whole batch fail (unique violation) rather than fork a chain."""
    if not objects:
        return []
    session.flush()  # rows pending in the session (and their history) come first
    last = heads(session, object_type, (object_id for object_id, _ in objects))
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for object_id, data in objects:
        row = _row(actor, object_type, object_id, action, now, role=role, data=data)
        seq, prev = last.get(object_id, (0, GENESIS))
        row["seq"], row["prev_hash"] = seq + 1, prev
        row["hash"] = entry_digest(row)
        last[object_id] = (row["seq"], row["hash"])  # the same object twice chains on
        rows.append(row)
    session.execute(insert(TABLE), rows)
    return [r["hash"] for r in rows]


def history_of(session: Session, object_type: str, object_id: int) -> list[HistoryEntry]:
    return list(
        session.exec(
            select(HistoryEntry)
            .where(HistoryEntry.object_type == object_type, HistoryEntry.object_id == object_id)
            .order_by(col(HistoryEntry.seq))
        )
    )


# ---- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the history. `entry_id` names the row found wrong, when there is one
    (a deleted tail leaves none: it is known only from a checkpoint)."""

    kind: str  # edited | broken_link | missing_rows | out_of_order | unknown_key | truncated
    #            | checkpoint_changed | checkpoint_forged | fewer_rows
    object_type: str | None
    object_id: int | None
    seq: int | None
    entry_id: int | None
    detail: str  # bilingual


@dataclass
class HistoryVerification:
    checked: int = 0  # rows
    streams: int = 0
    checkpoint_id: int | None = None  # the latest checkpoint the history was checked against
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def tampered_ids(self) -> list[int]:
        """Ids of the rows named by a finding, ascending."""
        return sorted({f.entry_id for f in self.findings if f.entry_id is not None})


def _stream_findings(
    rows: list[Mapping[str, Any]], at_checkpoint: tuple[int, str] | None
) -> Iterable[Finding]:
    """Findings of one stream (its rows in seq order) and of its head at the latest checkpoint."""
    t, i = rows[0]["object_type"], rows[0]["object_id"]
    name = f"{t} {i}"
    prev, expected = GENESIS, 1
    for r in rows:
        seq, rid = r["seq"], r["id"]
        if seq > expected:
            yield Finding("missing_rows", t, i, seq, rid,
                          f"{name}: rows {expected}–{seq - 1} are missing before row {rid} / "
                          f"{name} 的第 {expected}–{seq - 1} 条履历缺失")  # fmt: skip
        elif seq < expected:
            yield Finding("out_of_order", t, i, seq, rid,
                          f"{name}: row {rid} repeats place {seq} / {name} 的第 {seq} 条履历重复")  # fmt: skip
        elif r["prev_hash"] != prev:
            yield Finding("broken_link", t, i, seq, rid,
                          f"{name}: row {rid} does not follow the row before it / "
                          f"{name} 的履历 {rid} 与前一条不相连")  # fmt: skip
        if not digest.known(r["key_id"]):
            yield Finding("unknown_key", t, i, seq, rid,
                          f"{name}: row {rid} was hashed under an unknown key {r['key_id']} / "
                          f"履历 {rid} 的密钥 {r['key_id']} 未知")  # fmt: skip
        elif entry_digest(r) != r["hash"]:
            yield Finding("edited", t, i, seq, rid,
                          f"{name}: row {rid} was changed after it was written / "
                          f"{name} 的履历 {rid} 写入后被修改")  # fmt: skip
        if at_checkpoint is not None and seq == at_checkpoint[0] and r["hash"] != at_checkpoint[1]:
            yield Finding("checkpoint_changed", t, i, seq, rid,
                          f"{name}: row {rid} is not the row the last checkpoint recorded / "
                          f"{name} 的履历 {rid} 与最近检查点记录的不同")  # fmt: skip
        prev, expected = r["hash"], max(expected, seq + 1)
    if at_checkpoint is not None and rows[-1]["seq"] < at_checkpoint[0]:
        last = rows[-1]["seq"]
        yield Finding("truncated", t, i, last + 1, None,
                      f"{name}: rows {last + 1}–{at_checkpoint[0]} recorded by the last checkpoint "
                      f"are gone / {name} 的第 {last + 1}–{at_checkpoint[0]} 条履历（检查点已记录）被删除")  # fmt: skip


def verify_chain(session: Session) -> HistoryVerification:
    """Checks every stream (links, seq from 1 without gaps, digests) and that the history extends
    the latest checkpoint (no stream shorter, each checkpointed head unchanged, no fewer rows).
    Reads the history once, stream by stream; holds the latest checkpoint's heads in memory."""
    report = HistoryVerification()
    latest, state, sound = checkpoints.latest_state(session)
    report.checkpoint_id = latest.id if latest else None
    if latest is not None and not sound:
        report.findings.append(
            Finding(
                "checkpoint_forged",
                None,
                None,
                None,
                None,
                f"checkpoint {latest.id} does not match the heads it recorded / "
                f"检查点 {latest.id} 与其记录的各对象履历末条不符",
            )
        )
    unseen = dict(state)
    rows_of_stream: list[Any] = []  # RowMappings of one stream
    result = session.execute(
        sa_select(TABLE).order_by(*STREAM, TABLE.c.seq).execution_options(yield_per=2000)
    )

    def close_stream() -> None:
        key = (rows_of_stream[0]["object_type"], rows_of_stream[0]["object_id"])
        report.findings.extend(_stream_findings(rows_of_stream, unseen.pop(key, None)))
        report.streams += 1

    for row in result.mappings():
        if rows_of_stream and (row["object_type"], row["object_id"]) != (
            rows_of_stream[0]["object_type"], rows_of_stream[0]["object_id"]
        ):  # fmt: skip
            close_stream()
            rows_of_stream = []
        rows_of_stream.append(row)
        report.checked += 1
    if rows_of_stream:
        close_stream()
    for (t, i), (seq, _hash) in sorted(unseen.items()):
        report.findings.append(
            Finding(
                "truncated",
                t,
                i,
                1,
                None,
                f"{t} {i}: all {seq} rows recorded by the last checkpoint are gone / "
                f"{t} {i} 的全部 {seq} 条履历（检查点已记录）被删除",
            )
        )
    if latest is not None and report.checked < latest.total:
        report.findings.append(
            Finding(
                "fewer_rows",
                None,
                None,
                None,
                None,
                f"{report.checked} rows, fewer than the {latest.total} of checkpoint {latest.id} / "
                f"履历共 {report.checked} 条，少于检查点 {latest.id} 记录的 {latest.total} 条",
            )
        )
    return report


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
    session: Session, object_type: str, since: datetime | None, before: datetime
) -> list[HistoryEntry]:
    """Entries of one type written at `since` or later (None: from the start) and before
    `before`, oldest first (archiving). By time, not by id: without a lock across streams, ids
    are not handed out in the order rows are dated or committed."""
    stmt = select(HistoryEntry).where(
        HistoryEntry.object_type == object_type, HistoryEntry.at < before
    )
    if since is not None:
        stmt = stmt.where(HistoryEntry.at >= since)
    return list(session.exec(stmt.order_by(col(HistoryEntry.at), col(HistoryEntry.id))))

"""Entry counts per (unit, target, month) (台账计数), kept in the writer's transaction.

Compliance reads these rows instead of scanning the entries. Every entry write adds its
entries (+1) or takes them away (-1) here in the same transaction — one upsert per batch, keys
in a fixed order so that concurrent writers lock them in the same order — and an item whose
targets are replaced is recounted from its entries. A count is kept per target rather than per
item because `on_time` (due day) and `breaches` (response time) depend on the target's
thresholds. `recount` rebuilds them from the entries (migrations, bulk loads done in SQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, case, cast, delete, extract, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from demosites.ledger.models import LedgerEntry, LedgerEntryCount, PlanTarget, table_of

C = table_of(LedgerEntryCount)
E = table_of(LedgerEntry)
T = table_of(PlanTarget)


class Counted(NamedTuple):
    """The fields of an entry that its counts depend on."""

    unit_id: int
    item_id: int
    entry_date: date
    response_minutes: int | None


def counted(entry: Any) -> Counted:
    return Counted(entry.unit_id, entry.item_id, entry.entry_date, entry.response_minutes)


def month_key(d: date) -> int:
    return d.year * 100 + d.month


def _on_time(day: int, due_day: int | None) -> int:
    return int(due_day is not None and day <= due_day)


def _breach(minutes: int | None, max_minutes: int | None) -> int:
    return int(minutes is None or (max_minutes is not None and minutes > max_minutes))


def add(session: Session, entries: Iterable[Counted], sign: int = 1) -> None:
    """Counts `entries` in (sign 1) or out (sign -1): one query for the items' targets, one
    upsert for all the keys they touch, and (when counting out) one delete of emptied rows."""
    rows = list(entries)
    if not rows:
        return
    targets = session.execute(
        select(T.c.id, T.c.item_id, T.c.due_day, T.c.max_minutes).where(
            T.c.item_id.in_(sorted({r.item_id for r in rows}))
        )
    ).all()
    by_item: dict[int, list[Any]] = defaultdict(list)
    for t in targets:
        by_item[t.item_id].append(t)
    deltas: dict[tuple[int, int, int], list[int]] = {}
    for r in rows:
        for t in by_item.get(r.item_id, ()):
            d = deltas.setdefault((r.unit_id, month_key(r.entry_date), t.id), [0, 0, 0])
            d[0] += sign
            d[1] += sign * _on_time(r.entry_date.day, t.due_day)
            d[2] += sign * _breach(r.response_minutes, t.max_minutes)
    if not deltas:
        return
    keys = sorted(deltas)
    values = [
        {"unit_id": u, "month_key": m, "target_id": t, "done": d[0], "on_time": d[1],
         "breaches": d[2]}
        for (u, m, t), d in ((k, deltas[k]) for k in keys)
    ]  # fmt: skip
    for start in range(0, len(values), 1000):  # bound the statement's parameters
        session.execute(_upsert(session, values[start : start + 1000]))
    if sign < 0:
        session.execute(
            delete(C).where(
                C.c.done == 0,
                or_(
                    *(
                        and_(C.c.unit_id == u, C.c.month_key == m, C.c.target_id == t)
                        for u, m, t in keys
                    )
                ),
            )
        )


def _upsert(session: Session, values: list[dict[str, int]]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding the deltas (PostgreSQL and SQLite alike)."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(C).values(values)
    return ins.on_conflict_do_update(
        index_elements=[C.c.unit_id, C.c.month_key, C.c.target_id],
        set_={name: C.c[name] + ins.excluded[name] for name in ("done", "on_time", "breaches")},
    )


def replace_entry(session: Session, before: Counted, after: Counted) -> None:
    """An entry corrected: out with its old counts, in with the new (only if they differ)."""
    if before != after:
        add(session, [before], -1)
        add(session, [after], +1)


def forget_targets(session: Session, item_id: int) -> None:
    """Before an item's targets are deleted: their counts go with them."""
    session.execute(
        delete(C).where(C.c.target_id.in_(select(T.c.id).where(T.c.item_id == item_id)))
    )


def _recount_select(where: Sequence[Any]) -> Any:
    """The counts as the entries give them, grouped like the table's key."""
    key = cast(extract("year", E.c.entry_date), Integer) * 100 + cast(
        extract("month", E.c.entry_date), Integer
    )
    day = cast(extract("day", E.c.entry_date), Integer)
    breach = or_(E.c.response_minutes.is_(None), E.c.response_minutes > T.c.max_minutes)
    return (
        select(
            E.c.unit_id,
            key.label("month_key"),
            T.c.id.label("target_id"),
            func.count().label("done"),
            func.coalesce(func.sum(case((day <= T.c.due_day, 1), else_=0)), 0).label("on_time"),
            func.coalesce(func.sum(case((breach, 1), else_=0)), 0).label("breaches"),
        )
        .select_from(E.join(T, T.c.item_id == E.c.item_id))
        .where(*where)
        .group_by(E.c.unit_id, key, T.c.id)
    )


def recount_item(session: Session, item_id: int) -> None:
    """After an item's targets were (re)written: its counts from its entries."""
    _insert_recount(session, [E.c.item_id == item_id])


def recount(session: Session, unit_ids: Sequence[int] | None = None) -> None:
    """Rebuilds the counts of these units (None: all) from their entries."""
    stmt = delete(C)
    where: list[Any] = []
    if unit_ids is not None:
        stmt = stmt.where(C.c.unit_id.in_(list(unit_ids)))
        where.append(E.c.unit_id.in_(list(unit_ids)))
    session.execute(stmt)
    _insert_recount(session, where)


def _insert_recount(session: Session, where: list[Any]) -> None:
    cols = ["unit_id", "month_key", "target_id", "done", "on_time", "breaches"]
    session.execute(insert(C).from_select(cols, _recount_select(where)))


def differences(session: Session) -> list[tuple[Any, ...]]:
    """Rows where the kept counts and a recount from the entries disagree (empty: in step)."""
    fresh = _recount_select([]).subquery("fresh")
    key = [C.c.unit_id, C.c.month_key, C.c.target_id]
    kept = select(*key, C.c.done, C.c.on_time, C.c.breaches).where(C.c.done != 0)
    redo = select(fresh.c.unit_id, fresh.c.month_key, fresh.c.target_id, fresh.c.done,
                  fresh.c.on_time, fresh.c.breaches)  # fmt: skip
    only_kept = session.execute(kept.except_(redo)).all()
    only_fresh = session.execute(redo.except_(kept)).all()
    return [("kept", *r) for r in only_kept] + [("recount", *r) for r in only_fresh]

"""Compliance (完成情况) of every (unit, target, period), computed in the database.

One statement answers each report: the obligations (who must do what, from the plans' targets
and the unit tree's closure rows) LEFT JOIN the entry counts (one GROUP BY unit, target, period
over the indexed (unit_id, entry_date) range), with the state decided by a CASE. Python never
loops over entries; it only shapes the rows the database returns.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.sql import Subquery
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.ledger.access import LedgerScope
from demosites.ledger.errors import LedgerInvalid
from demosites.ledger.models import (
    LedgerEntry,
    LedgerPlan,
    LedgerUnit,
    LedgerUnitAncestor,
    PlanItem,
    PlanTarget,
)
from demosites.ledger.schemas import (
    ComplianceRow,
    GridCell,
    GridRow,
    RollupRow,
    StateCounts,
    TrendPoint,
)
from demosites.ledger.units import _top_of, get_unit

U = LedgerUnit.__table__  # type: ignore[attr-defined]
A = LedgerUnitAncestor.__table__  # type: ignore[attr-defined]
P = LedgerPlan.__table__  # type: ignore[attr-defined]
I = PlanItem.__table__  # type: ignore[attr-defined]  # noqa: E741
T = PlanTarget.__table__  # type: ignore[attr-defined]
E = LedgerEntry.__table__  # type: ignore[attr-defined]

STATES = ("met", "late", "missed", "not_yet")


def _lit(value: str | int) -> ColumnElement[Any]:
    """Constants rendered inline (ours, never user input), so that GROUP BY expressions are
    textually identical and the planner sees them."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    assert value.isidentifier(), value
    return literal_column(f"'{value}'")


def _key(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _from_key(k: int) -> date:
    y, m, d = k // 10000, k // 100 % 100, k % 100
    return date(y, m, min(d, calendar.monthrange(y, m)[1]))


@dataclass(frozen=True)
class Period:
    kind: str
    no: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return _label(self.kind, self.start.year, self.no)


def _label(kind: str, year: int, no: int) -> str:
    return {"month": f"{year}-{no:02d}", "quarter": f"{year}-Q{no}"}.get(kind, str(year))


def periods_for(
    year: int, month: int | None = None, quarter: int | None = None, period_kind: str | None = None
) -> list[Period]:
    """The periods a report covers: one month, one quarter, the year period, all months, or
    everything of the year (17 periods)."""

    def m(n: int) -> Period:
        return Period("month", n, date(year, n, 1), date(year, n, calendar.monthrange(year, n)[1]))

    def q(n: int) -> Period:
        end = 3 * n
        return Period(
            "quarter", n, date(year, end - 2, 1), date(year, end, calendar.monthrange(year, end)[1])
        )

    if month is not None:
        return [m(month)]
    if quarter is not None:
        return [q(quarter)]
    months = [m(n) for n in range(1, 13)]
    quarters = [q(n) for n in range(1, 5)]
    whole = [Period("year", 1, date(year, 1, 1), date(year, 12, 31))]
    return {"month": months, "quarter": quarters, "year": whole}.get(
        period_kind or "", months + quarters + whole
    )


def _periods_table(periods: list[Period]) -> Subquery:
    rows = [
        select(
            _lit(p.kind).label("kind"),
            _lit(p.no).label("no"),
            _lit(_key(p.start)).label("start_key"),
            _lit(_key(p.end)).label("end_key"),
        )
        for p in periods
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("per")


def _subtree(root_id: int) -> Select:  # type: ignore[type-arg]
    return select(A.c.unit_id).where(A.c.ancestor_id == root_id)


def _target_filter(periods: list[Period]) -> ColumnElement[bool]:
    """Only targets measured in the report's periods (a monthly report skips yearly targets,
    and a September-only target outside September)."""
    kinds = sorted({p.kind for p in periods})
    months = sorted({p.no for p in periods if p.kind == "month"})
    month_ok = (
        or_(T.c.month.is_(None), T.c.month.in_([_lit(m) for m in months]))
        if months
        else T.c.month.is_(None)
    )
    return and_(T.c.period.in_([_lit(k) for k in kinds]), month_ok)


def _obligations(
    year: int, periods: list[Period], root_id: int | None, units: Select | None
) -> Subquery:  # type: ignore[type-arg]
    """(target_id, unit_id): who owes each target of the year's plans, within `units`."""
    base = T.join(P, P.c.id == T.c.plan_id)
    own = (
        select(T.c.id.label("target_id"), P.c.unit_id.label("unit_id"))
        .select_from(base)
        .where(P.c.year == year, T.c.scope == _lit("self"))
    )
    child = (
        select(T.c.id.label("target_id"), A.c.unit_id.label("unit_id"))
        .select_from(base.join(A, A.c.ancestor_id == P.c.unit_id).join(U, U.c.id == A.c.unit_id))
        .where(
            P.c.year == year,
            T.c.scope == _lit("each_child"),
            A.c.depth > 0,
            or_(U.c.level == T.c.child_level, and_(T.c.child_level.is_(None), A.c.depth == 1)),
        )
    )
    own, child = own.where(_target_filter(periods)), child.where(_target_filter(periods))
    if root_id is not None:
        # Only plans of the root's subtree or of its ancestors can oblige a unit beneath it.
        relevant = union(_subtree(root_id), select(A.c.ancestor_id).where(A.c.unit_id == root_id))
        own = own.where(P.c.unit_id.in_(_subtree(root_id)))
        child = child.where(P.c.unit_id.in_(relevant), A.c.unit_id.in_(_subtree(root_id)))
    elif units is not None:
        own = own.where(P.c.unit_id.in_(units))
        child = child.where(A.c.unit_id.in_(units))
    return union_all(own, child).subquery("obl")


def _counts(periods: list[Period], units: Select | None) -> Subquery:  # type: ignore[type-arg]
    """Entries per (unit, target, period number) in the report's date range: the one pass
    over ledger_entry, through ix_ledger_entry_unit_date."""
    month = cast(extract("month", E.c.entry_date), Integer)
    day = cast(extract("day", E.c.entry_date), Integer)
    period_no = case(
        (T.c.period == _lit("month"), month),
        (T.c.period == _lit("quarter"), (month + _lit(2)) // _lit(3)),
        else_=_lit(1),
    )
    stmt = (
        select(
            E.c.unit_id,
            T.c.id.label("target_id"),
            period_no.label("period_no"),
            func.count().label("done"),
            func.sum(case((day <= T.c.due_day, _lit(1)), else_=_lit(0))).label("on_time"),
            func.sum(
                case(
                    (
                        or_(E.c.response_minutes.is_(None), E.c.response_minutes > T.c.max_minutes),
                        _lit(1),
                    ),
                    else_=_lit(0),
                )
            ).label("breaches"),
        )
        .select_from(E.join(T, T.c.item_id == E.c.item_id))
        .where(
            _target_filter(periods),
            E.c.entry_date >= min(p.start for p in periods),
            E.c.entry_date <= max(p.end for p in periods),
        )
        .group_by(E.c.unit_id, T.c.id, period_no)
    )
    if units is not None:
        stmt = stmt.where(E.c.unit_id.in_(units))
    return stmt.subquery("cnt")


def state_rows(
    year: int,
    periods: list[Period],
    root_id: int | None,
    units: Select | None,
    today: date,  # type: ignore[type-arg]
) -> Subquery:
    """One row per (unit, target, period) with done, target, deadline and state."""
    if root_id is not None:
        units = _subtree(root_id)
    obl = _obligations(year, periods, root_id, units)
    per = _periods_table(periods)
    cnt = _counts(periods, units)
    done = func.coalesce(cnt.c.done, 0)
    on_time = func.coalesce(cnt.c.on_time, 0)
    breaches = func.coalesce(cnt.c.breaches, 0)
    today_key = _lit(_key(today))
    is_due = T.c.kind == _lit("due_day")
    deadline = case((is_due, per.c.start_key - _lit(1) + T.c.due_day), else_=per.c.end_key)
    state = case(
        (
            T.c.kind == _lit("response_time"),
            case(
                (breaches > 0, _lit("missed")),
                (per.c.start_key > today_key, _lit("not_yet")),
                else_=_lit("met"),
            ),
        ),
        (and_(is_due, on_time >= T.c.count), _lit("met")),
        (and_(is_due, done >= T.c.count), _lit("late")),
        (and_(~is_due, done >= T.c.count), _lit("met")),
        (deadline < today_key, _lit("missed")),
        else_=_lit("not_yet"),
    )
    target = case((T.c.kind == _lit("response_time"), _lit(0)), else_=T.c.count)
    return (
        select(
            obl.c.unit_id,
            obl.c.target_id,
            T.c.item_id,
            T.c.kind.label("target_kind"),
            T.c.label.label("target_label"),
            per.c.kind.label("period_kind"),
            per.c.no.label("period_no"),
            deadline.label("deadline_key"),
            target.label("target"),
            done.label("done"),
            on_time.label("on_time"),
            breaches.label("breaches"),
            state.label("state"),
        )
        .select_from(
            obl.join(T, T.c.id == obl.c.target_id)
            .join(
                per, and_(per.c.kind == T.c.period, or_(T.c.month.is_(None), per.c.no == T.c.month))
            )
            .outerjoin(
                cnt,
                and_(
                    cnt.c.unit_id == obl.c.unit_id,
                    cnt.c.target_id == obl.c.target_id,
                    cnt.c.period_no == per.c.no,
                ),
            )
        )
        .subquery("st")
    )


def _state_sums(st: Subquery, over: bool = False) -> list[Any]:
    cols = []
    for name in STATES:
        expr = func.sum(case((st.c.state == _lit(name), _lit(1)), else_=_lit(0)))
        cols.append((expr.over() if over else expr).label(f"n_{name}"))
    cols.append((func.count().over() if over else func.count()).label("n_total"))
    return cols


def _counts_of(row: Any) -> dict[str, Any]:
    total = int(row.n_total or 0)
    out: dict[str, Any] = {name: int(getattr(row, f"n_{name}") or 0) for name in STATES}
    out["total"] = total
    out["rate"] = round((out["met"] + out["late"]) / total, 4) if total else 0.0
    return out


@dataclass(frozen=True)
class Report:
    root: LedgerUnit | None
    units: Select | None  # type: ignore[type-arg]
    year: int
    periods: list[Period]


def report(
    session: Session,
    scope: LedgerScope,
    unit_id: int | None,
    year: int | None,
    month: int | None = None,
    quarter: int | None = None,
    period_kind: str | None = None,
) -> Report:
    if month is not None and quarter is not None:
        raise LedgerInvalid("Give month or quarter, not both / 月份与季度只能选其一")
    root = get_unit(session, scope, unit_id) if unit_id is not None else None
    y = year or clock.today().year
    return Report(
        root, None if root else scope.unit_ids(), y, periods_for(y, month, quarter, period_kind)
    )


def _st(r: Report) -> Subquery:
    return state_rows(r.year, r.periods, r.root.id if r.root else None, r.units, clock.today())


def _row(r: Any) -> ComplianceRow:
    return ComplianceRow(
        unit_id=r.unit_id,
        unit_name=r.unit_name,
        unit_level=r.unit_level,
        item_id=r.item_id,
        item_code=r.item_code,
        item_title=r.item_title,
        target_id=r.target_id,
        target_kind=r.target_kind,
        target_label=r.target_label,
        period_kind=r.period_kind,
        period_no=r.period_no,
        period_label=_label(r.period_kind, r.year, r.period_no),
        deadline=_from_key(int(r.deadline_key)),
        target=r.target,
        done=r.done,
        on_time=r.on_time,
        breaches=r.breaches,
        state=r.state,
    )


def _table_page(
    session: Session,
    r: Report,
    where: list[ColumnElement[bool]],
    order: list[Any],
    limit: int,
    offset: int,
) -> tuple[list[ComplianceRow], int, StateCounts]:
    st = _st(r)
    conds = [*where]
    stmt = (
        select(
            st,
            _lit(r.year).label("year"),
            U.c.name.label("unit_name"),
            U.c.level.label("unit_level"),
            I.c.code.label("item_code"),
            I.c.title.label("item_title"),
            *_state_sums(st, over=True),
        )
        .select_from(st.join(U, U.c.id == st.c.unit_id).join(I, I.c.id == st.c.item_id))
        .where(*[c(st) if callable(c) else c for c in conds])
        .order_by(*[o(st) if callable(o) else o for o in order])
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    if rows:
        counts = _counts_of(rows[0])
    else:
        agg = (
            select(*_state_sums(st))
            .select_from(st)
            .where(*[c(st) if callable(c) else c for c in conds])
        )
        counts = _counts_of(session.execute(agg).one())
    return [_row(x) for x in rows], counts["total"], StateCounts(**counts)


def compliance_table(
    session: Session,
    r: Report,
    state: str | None,
    item_id: int | None,
    unit_level: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ComplianceRow], int, StateCounts]:
    where: list[Any] = []
    if state:
        where.append(lambda st: st.c.state == state)
    if item_id is not None:
        where.append(lambda st: st.c.item_id == item_id)
    if unit_level:
        where.append(U.c.level == unit_level)
    order = [U.c.path, I.c.position, I.c.id, lambda st: st.c.target_id, lambda st: st.c.period_kind,
             lambda st: st.c.period_no]  # fmt: skip
    return _table_page(session, r, where, order, limit, offset)


def due_list(
    session: Session, r: Report, which: str, within_days: int, limit: int, offset: int
) -> tuple[list[ComplianceRow], int, StateCounts]:
    """`due_soon`: open duties whose deadline falls within `within_days`; `overdue`: duties
    whose deadline passed unmet; `all`: both. Earliest deadline first."""
    today = clock.today()
    soon = _lit(_key(date.fromordinal(today.toordinal() + within_days)))
    today_key = _lit(_key(today))

    def due_soon(st: Subquery) -> ColumnElement[bool]:
        return and_(
            st.c.state == _lit("not_yet"), st.c.deadline_key >= today_key, st.c.deadline_key <= soon
        )

    def overdue(st: Subquery) -> ColumnElement[bool]:
        return st.c.state == _lit("missed")

    cond = {"due_soon": due_soon, "overdue": overdue}.get(which) or (
        lambda st: or_(due_soon(st), overdue(st))
    )
    order = [lambda st: st.c.deadline_key, U.c.path, I.c.position, lambda st: st.c.target_id]
    return _table_page(session, r, [cond], order, limit, offset)


def _group_ids(scope: LedgerScope, root: LedgerUnit | None, level: str | None) -> Select:  # type: ignore[type-arg]
    """The units a roll-up groups by: the root's children (no root: the caller's top units),
    or every visible unit of `level`."""
    if level:
        stmt = select(U.c.id).where(U.c.level == level)
        if root is not None:
            return stmt.where(U.c.id.in_(_subtree(root.id or 0)))
        return stmt.where(scope.unit_filter(U.c.id))
    if root is not None:
        return select(U.c.id).where(U.c.parent_id == root.id)
    return select(U.c.id).where(_top_of(scope))


def _grouped(
    session: Session,
    scope: LedgerScope,
    r: Report,
    level: str | None,
    by_month: bool,
    by_unit: bool = True,
) -> list[Any]:
    """State counts per group unit (and month). The states are first summed per obligated unit,
    then each unit's group (its ancestor one level below the root, or of `level`) is found by
    an equality join on the closure rows, and the sums are added up per group."""
    st = _st(r)
    period = [st.c.period_no.label("month")] if by_month else []
    if not by_unit:
        agg = select(*period, *_state_sums(st)).select_from(st).group_by(*period).subquery("agg")
        return list(session.execute(select(agg).order_by(agg.c.month)).all())
    pre = (
        select(st.c.unit_id, *period, *_state_sums(st))
        .group_by(st.c.unit_id, *period)
        .subquery("pre")
    )
    g = A.alias("g")
    if level is None and (r.root is not None or scope.everything or scope.city):
        depth = (r.root.depth + 1) if r.root is not None else 0
        on = and_(g.c.unit_id == pre.c.unit_id, g.c.ancestor_depth == _lit(depth))
    else:
        on = and_(
            g.c.unit_id == pre.c.unit_id, g.c.ancestor_id.in_(_group_ids(scope, r.root, level))
        )
    month = [pre.c.month] if by_month else []
    sums = [func.sum(pre.c[f"n_{name}"]).label(f"n_{name}") for name in (*STATES, "total")]
    agg = (
        select(g.c.ancestor_id.label("group_id"), *month, *sums)
        .select_from(pre.outerjoin(g, on))
        .group_by(g.c.ancestor_id, *month)
        .subquery("agg")
    )
    stmt = (
        select(agg, U.c.name.label("unit_name"), U.c.level.label("unit_level"))
        .select_from(agg.outerjoin(U, U.c.id == agg.c.group_id))
        .order_by(U.c.path.is_(None), U.c.path, *([agg.c.month] if by_month else []))
    )
    return list(session.execute(stmt).all())


def _own_name(r: Report) -> str:
    return f"{r.root.name}（本级）" if r.root else "本级 / own duties"


def rollup(
    session: Session, scope: LedgerScope, r: Report, level: str | None
) -> tuple[StateCounts, list[RollupRow]]:
    rows = _grouped(session, scope, r, level, by_month=False)
    groups = [
        RollupRow(
            unit_id=x.group_id,
            unit_name=x.unit_name if x.group_id is not None else _own_name(r),
            unit_level=x.unit_level
            if x.group_id is not None
            else (r.root.level if r.root else None),
            **_counts_of(x),
        )
        for x in rows
    ]
    total = {k: sum(getattr(g, k) for g in groups) for k in (*STATES, "total")}
    total["rate"] = (
        round((total["met"] + total["late"]) / total["total"], 4) if total["total"] else 0.0
    )
    return StateCounts(**total), groups


def grid(session: Session, scope: LedgerScope, r: Report, level: str | None) -> list[GridRow]:
    rows = _grouped(session, scope, r, level, by_month=True)
    out: dict[Any, GridRow] = {}
    for x in rows:
        key = x.group_id
        if key not in out:
            out[key] = GridRow(
                unit_id=key,
                unit_name=x.unit_name if key is not None else _own_name(r),
                unit_level=x.unit_level if key is not None else (r.root.level if r.root else None),
                months=[GridCell(month=m) for m in range(1, 13)],
            )
        out[key].months[int(x.month) - 1] = GridCell(month=int(x.month), **_counts_of(x))
    return list(out.values())


def trend(session: Session, scope: LedgerScope, r: Report) -> list[TrendPoint]:
    rows = {
        int(x.month): x for x in _grouped(session, scope, r, None, by_month=True, by_unit=False)
    }
    return [
        TrendPoint(month=m, **_counts_of(rows[m])) if m in rows else TrendPoint(month=m)
        for m in range(1, 13)
    ]

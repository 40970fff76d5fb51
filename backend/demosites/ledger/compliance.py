"""Compliance (完成情况) of every (unit, target, period), computed in the database.

One statement answers each report: the obligations (who must do what, from the plans' targets
and the unit tree's closure rows) LEFT JOIN the monthly entry counts (ledger_entry_count, kept
by every entry write; summed into quarters and years when the report has them), with the state
decided by a CASE. The entries themselves are not read. Python never loops over entries; it
only shapes the rows the database returns.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.selectable import CTE, Subquery
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.ledger.access import LedgerScope, UnitIds
from demosites.ledger.errors import LedgerInvalid
from demosites.ledger.models import (
    LedgerEntryCount,
    LedgerPlan,
    LedgerUnit,
    LedgerUnitAncestor,
    PlanItem,
    PlanTarget,
    table_of,
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

U = table_of(LedgerUnit)
A = table_of(LedgerUnitAncestor)
P = table_of(LedgerPlan)
I = table_of(PlanItem)  # noqa: E741
T = table_of(PlanTarget)
C = table_of(LedgerEntryCount)

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
            _lit(p.start.year * 100 + p.no if p.kind == "month" else 0).label("month_key"),
        )
        for p in periods
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("per")


def _subtree(root_id: int) -> Select[tuple[int]]:
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


def _units(root_id: int | None, units: UnitIds | None) -> CTE:
    """The report's units (the root's subtree, the visible ones, or all), with what a row shows
    and sorts by: read once, so that neither the obligations nor the page join the unit table
    row by row."""
    stmt = select(U.c.id, U.c.name, U.c.level, U.c.path)
    if root_id is not None:
        stmt = stmt.select_from(A.join(U, U.c.id == A.c.unit_id)).where(A.c.ancestor_id == root_id)
    elif units is not None:
        stmt = stmt.where(U.c.id.in_(units))
    return stmt.cte("sub")


def _targets(year: int, periods: list[Period], root_id: int | None, sub: CTE) -> CTE:
    """The year's targets measured in the report's periods, with their item and plan unit."""
    stmt = (
        select(
            T.c.id,
            T.c.item_id,
            T.c.kind,
            T.c.count,
            T.c.period,
            T.c.month,
            T.c.scope,
            T.c.child_level,
            T.c.due_day,
            T.c.label,
            I.c.position,
            I.c.code,
            I.c.title,
            P.c.unit_id.label("plan_unit"),
        )  # fmt: skip
        .select_from(P.join(T, T.c.plan_id == P.c.id).join(I, I.c.id == T.c.item_id))
        .where(P.c.year == year, _target_filter(periods))
    )
    if root_id is not None:
        # Only plans of the root's subtree or of its ancestors can oblige a unit beneath it.
        above = select(A.c.ancestor_id).where(A.c.unit_id == root_id)
        stmt = stmt.where(P.c.unit_id.in_(union_all(select(sub.c.id), above)))
    return stmt.cte("tg")


def _obligations(sub: CTE, tg: CTE) -> Subquery:
    """Who owes each target: the plan's own unit (scope self), or every unit beneath it of the
    target's level, else its direct children (scope each_child). Each row carries what the
    report shows of its unit and target, so nothing is joined again after the UNION (whose
    row count the planner cannot estimate)."""

    def cols() -> list[Any]:
        return [
            sub.c.id.label("unit_id"), sub.c.name.label("unit_name"),
            sub.c.level.label("unit_level"), sub.c.path.label("unit_path"),
            tg.c.id.label("target_id"), tg.c.item_id, tg.c.code.label("item_code"),
            tg.c.title.label("item_title"), tg.c.position.label("item_position"),
            tg.c.kind, tg.c.count, tg.c.period, tg.c.month, tg.c.due_day, tg.c.label,
        ]  # fmt: skip

    own = select(*cols()).select_from(
        sub.join(tg, and_(tg.c.plan_unit == sub.c.id, tg.c.scope == _lit("self")))
    )
    anc = A.alias("anc")
    level_ok = or_(
        sub.c.level == tg.c.child_level, and_(tg.c.child_level.is_(None), anc.c.depth == 1)
    )
    child = select(*cols()).select_from(
        sub.join(anc, and_(anc.c.unit_id == sub.c.id, anc.c.depth > 0)).join(
            tg,
            and_(tg.c.plan_unit == anc.c.ancestor_id, tg.c.scope == _lit("each_child"), level_ok),
        )
    )
    return union_all(own, child).subquery("obl")


def _obligation_keys(
    year: int, periods: list[Period], root_id: int | None, units: UnitIds | None
) -> Subquery:
    """(target_id, unit_id): who owes each target of the year's plans, within `units`; for
    reports that only count states (roll-up, grid, trend), where no name is shown."""
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
        relevant = union_all(
            _subtree(root_id), select(A.c.ancestor_id).where(A.c.unit_id == root_id)
        )
        own = own.where(P.c.unit_id.in_(_subtree(root_id)))
        child = child.where(P.c.unit_id.in_(relevant), A.c.unit_id.in_(_subtree(root_id)))
    elif units is not None:
        own = own.where(P.c.unit_id.in_(units))
        child = child.where(A.c.unit_id.in_(units))
    return union_all(own, child).subquery("obl")


def _monthly(periods: list[Period]) -> bool:
    return all(p.kind == "month" for p in periods)


def _counts(periods: list[Period], units: UnitIds | None) -> Subquery:
    """Counts per (unit, target, period number) in the report's months: the monthly count rows
    summed into quarters and the year (reports with months only join them directly)."""
    month = C.c.month_key % _lit(100)
    period_no = case(
        (T.c.period == _lit("month"), month),
        (T.c.period == _lit("quarter"), (month + _lit(2)) // _lit(3)),
        else_=_lit(1),
    )
    first, last = min(p.start for p in periods), max(p.end for p in periods)
    stmt = (
        select(
            C.c.unit_id,
            C.c.target_id,
            period_no.label("period_no"),
            func.sum(C.c.done).label("done"),
            func.sum(C.c.on_time).label("on_time"),
            func.sum(C.c.breaches).label("breaches"),
        )
        .select_from(C.join(T, T.c.id == C.c.target_id))
        .where(
            _target_filter(periods),
            C.c.month_key >= _lit(first.year * 100 + first.month),
            C.c.month_key <= _lit(last.year * 100 + last.month),
        )
        .group_by(C.c.unit_id, C.c.target_id, period_no)
    )
    if units is not None:
        stmt = stmt.where(C.c.unit_id.in_(units))
    return stmt.subquery("cnt")


def state_rows(
    year: int,
    periods: list[Period],
    root_id: int | None,
    units: UnitIds | None,
    today: date,
    shown: bool = True,
) -> Subquery:
    """One row per (unit, target, period) with done, target, deadline and state; `shown`: with
    the unit's and item's names and sort keys (tables), else only what counting states needs
    (roll-ups, whose planner estimates stay sound without the CTEs)."""
    src: Any
    if shown:
        sub = _units(root_id, units)
        obl = _obligations(sub, _targets(year, periods, root_id, sub))
        src, t = obl, obl.c
        unit_id, target_id, label = obl.c.unit_id, obl.c.target_id, obl.c.label
        extra = [
            obl.c.unit_name, obl.c.unit_level, obl.c.unit_path, obl.c.item_id, obl.c.item_code,
            obl.c.item_title, obl.c.item_position,
        ]  # fmt: skip
    else:
        keys = _obligation_keys(year, periods, root_id, units)
        src, t = keys.join(T, T.c.id == keys.c.target_id), T.c
        unit_id, target_id, label = keys.c.unit_id, keys.c.target_id, T.c.label
        extra = [T.c.item_id]
    # The closure rows give the planner a sound estimate of the subtree (a CTE would not).
    counted = _subtree(root_id) if root_id is not None else units
    per = _periods_table(periods)
    cnt: Any
    if _monthly(periods):
        # One count row per (unit, target, month): joined by its primary key, nothing to sum.
        cnt = C
        on = and_(
            C.c.unit_id == unit_id, C.c.month_key == per.c.month_key, C.c.target_id == target_id
        )
    else:
        cnt = _counts(periods, counted)
        on = and_(
            cnt.c.unit_id == unit_id, cnt.c.target_id == target_id, cnt.c.period_no == per.c.no
        )
    done = func.coalesce(cnt.c.done, 0)
    on_time = func.coalesce(cnt.c.on_time, 0)
    breaches = func.coalesce(cnt.c.breaches, 0)
    today_key = _lit(_key(today))
    is_due = t.kind == _lit("due_day")
    deadline = case((is_due, per.c.start_key - _lit(1) + t.due_day), else_=per.c.end_key)
    state = case(
        (
            t.kind == _lit("response_time"),
            case(
                (breaches > 0, _lit("missed")),
                (per.c.start_key > today_key, _lit("not_yet")),
                else_=_lit("met"),
            ),
        ),
        (and_(is_due, on_time >= t.count), _lit("met")),
        (and_(is_due, done >= t.count), _lit("late")),
        (and_(~is_due, done >= t.count), _lit("met")),
        (deadline < today_key, _lit("missed")),
        else_=_lit("not_yet"),
    )
    target = case((t.kind == _lit("response_time"), _lit(0)), else_=t.count)
    return (
        select(
            unit_id.label("unit_id"),
            target_id.label("target_id"),
            *extra,
            t.kind.label("target_kind"),
            label.label("target_label"),
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
            src.join(
                per,
                and_(per.c.kind == t.period, or_(t.month.is_(None), per.c.no == t.month)),
            ).outerjoin(cnt, on)
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
    units: UnitIds | None
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
    _custom_plans(session)
    y = year or clock.today().year
    return Report(
        root, None if root else scope.unit_ids(), y, periods_for(y, month, quarter, period_kind)
    )


def _custom_plans(session: Session) -> None:
    """PostgreSQL plans each report statement for its own parameters. psycopg prepares a
    statement once a connection has run it five times, and PostgreSQL may then switch to a
    generic plan made without the parameters' values: for the compliance table that plan took
    minutes instead of a tenth of a second (the 11th request of the same report on a
    connection). SET LOCAL ends with the request's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _st(r: Report, shown: bool = True) -> Subquery:
    root_id = r.root.id if r.root else None
    return state_rows(r.year, r.periods, root_id, r.units, clock.today(), shown)


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


Cond = Callable[[Subquery], ColumnElement[Any]]


def _table_page(
    session: Session,
    r: Report,
    where: list[Cond],
    order: list[Cond],
    limit: int,
    offset: int,
) -> tuple[list[ComplianceRow], int, StateCounts]:
    """A page of state rows with the state counts of all of them (window sums: one pass)."""
    st = _st(r)
    conds = [c(st) for c in where]
    stmt = (
        select(st, _lit(r.year).label("year"), *_state_sums(st, over=True))
        .where(*conds)
        .order_by(*[o(st) for o in order])
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    if rows:
        counts = _counts_of(rows[0])
    else:
        agg = select(*_state_sums(st)).select_from(st).where(*conds)
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
    where: list[Cond] = []
    if state:
        where.append(lambda st: st.c.state == state)
    if item_id is not None:
        where.append(lambda st: st.c.item_id == item_id)
    if unit_level:
        where.append(lambda st: st.c.unit_level == unit_level)
    order: list[Cond] = [
        lambda st: st.c.unit_path, lambda st: st.c.item_position, lambda st: st.c.item_id,
        lambda st: st.c.target_id, lambda st: st.c.period_kind, lambda st: st.c.period_no,
    ]  # fmt: skip
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

    def both(st: Subquery) -> ColumnElement[bool]:
        return or_(due_soon(st), overdue(st))

    cond: Cond = {"due_soon": due_soon, "overdue": overdue}.get(which, both)
    order: list[Cond] = [
        lambda st: st.c.deadline_key, lambda st: st.c.unit_path, lambda st: st.c.item_position,
        lambda st: st.c.target_id,
    ]  # fmt: skip
    return _table_page(session, r, [cond], order, limit, offset)


def _group_ids(scope: LedgerScope, root: LedgerUnit | None, level: str | None) -> UnitIds:
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
    st = _st(r, shown=False)
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

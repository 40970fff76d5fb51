"""The unit tree (基层单位): create, rename, list children, breadcrumb."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlmodel import Session, col

from demosites.audit import service as audit
from demosites.ledger.access import LedgerScope, path_ids
from demosites.ledger.errors import LedgerInvalid, LedgerReadOnly, UnitNotFound
from demosites.ledger.models import LedgerUnit, LedgerUnitAncestor
from demosites.ledger.schemas import UnitCreate, UnitDetail, UnitRead, UnitUpdate
from demosites.organizations.models import CITIES, Organization


def get_unit(session: Session, scope: LedgerScope, unit_id: int) -> LedgerUnit:
    unit = session.get(LedgerUnit, unit_id)
    if unit is None or not scope.reads(unit):
        raise UnitNotFound(f"Unit {unit_id} not found / 未找到单位 {unit_id}")
    return unit


def add_unit(
    session: Session,
    parent: LedgerUnit | None,
    name: str,
    level: str,
    city: str | None = None,
    organization_id: int | None = None,
) -> LedgerUnit:
    """Inserts a unit with its path and closure rows (no permission check: callers do it)."""
    unit = LedgerUnit(
        parent_id=parent.id if parent else None,
        name=name,
        level=level,
        city=parent.city if parent else city,
        organization_id=organization_id,
        depth=parent.depth + 1 if parent else 0,
    )
    session.add(unit)
    session.flush()
    assert unit.id is not None
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    ancestors = path_ids(unit.path)
    session.add_all(
        LedgerUnitAncestor(
            ancestor_id=a, unit_id=unit.id, depth=len(ancestors) - 1 - i, ancestor_depth=i
        )
        for i, a in enumerate(ancestors)
    )
    session.flush()
    return unit


def create_unit(session: Session, scope: LedgerScope, body: UnitCreate) -> LedgerUnit:
    parent = None
    if body.parent_id is not None:
        parent = get_unit(session, scope, body.parent_id)
        if not scope.manages(parent):
            raise LedgerReadOnly()
    else:
        if body.city not in CITIES:
            raise LedgerInvalid(
                "A top-level unit needs one of the 16 cities / 顶层单位须指定16个市之一"
            )
        if not (scope.everything or scope.city == body.city):
            raise LedgerReadOnly(
                "Only the office or the city's department adds top-level units / 仅办公室或本市宣传部可添加顶层单位"
            )
    _check_org(session, body.organization_id)
    unit = add_unit(session, parent, body.name, body.level, body.city, body.organization_id)
    audit.record(
        session, scope.actor, "ledger_unit", unit.id or 0, "create",
        data={"name": unit.name, "level": unit.level, "parent_id": unit.parent_id},
    )  # fmt: skip
    return unit


def update_unit(session: Session, scope: LedgerScope, unit_id: int, body: UnitUpdate) -> LedgerUnit:
    unit = get_unit(session, scope, unit_id)
    if not scope.manages(unit):
        raise LedgerReadOnly()
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "organization_id" in changes:
        _check_org(session, changes["organization_id"])
    for key, value in changes.items():
        if key == "name" and value is None:
            continue
        setattr(unit, key, value)
    session.add(unit)
    session.flush()
    audit.record(session, scope.actor, "ledger_unit", unit.id or 0, "update", data=changes)
    return unit


def _check_org(session: Session, organization_id: int | None) -> None:
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise LedgerInvalid(
            f"Organisation {organization_id} does not exist / 组织 {organization_id} 不存在"
        )


def _child_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(LedgerUnit.parent_id), func.count())
        .where(col(LedgerUnit.parent_id).in_(ids))
        .group_by(col(LedgerUnit.parent_id))
    ).all()
    return {r[0]: r[1] for r in rows}


def _read(unit: LedgerUnit, counts: dict[int, int]) -> UnitRead:
    return UnitRead.model_validate(unit).model_copy(
        update={"child_count": counts.get(unit.id or 0, 0)}
    )


def list_units(
    session: Session,
    scope: LedgerScope,
    parent_id: int | None,
    level: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[UnitRead], int]:
    """Children of `parent_id`; without it, the caller's top units (or, with `q`/`level`,
    every visible unit that matches)."""
    stmt = select(LedgerUnit).where(scope.unit_filter(col(LedgerUnit.id)))
    if parent_id is not None:
        get_unit(session, scope, parent_id)
        stmt = stmt.where(col(LedgerUnit.parent_id) == parent_id)
    elif not q and not level:
        stmt = stmt.where(_top_of(scope))
    if level:
        stmt = stmt.where(col(LedgerUnit.level) == level)
    if q:
        stmt = stmt.where(col(LedgerUnit.name).contains(q.replace("\x00", "")))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = list(
        session.execute(stmt.order_by(col(LedgerUnit.path)).limit(limit).offset(offset)).scalars()
    )
    counts = _child_counts(session, [u.id for u in rows if u.id])
    return [_read(u, counts) for u in rows], total


def _top_of(scope: LedgerScope) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if scope.everything:
        return col(LedgerUnit.parent_id).is_(None)
    if scope.city:
        parts.append(and_(col(LedgerUnit.parent_id).is_(None), col(LedgerUnit.city) == scope.city))
    if scope.roots:
        parts.append(col(LedgerUnit.id).in_(sorted(scope.roots)))
    return or_(*parts)


def unit_detail(session: Session, scope: LedgerScope, unit_id: int) -> UnitDetail:
    unit = get_unit(session, scope, unit_id)
    ids = path_ids(unit.path)[:-1]
    ancestors = (
        list(session.execute(select(LedgerUnit).where(col(LedgerUnit.id).in_(ids))).scalars())
        if ids
        else []
    )
    ancestors = sorted((a for a in ancestors if scope.reads(a)), key=lambda a: a.depth)
    counts = _child_counts(session, [unit.id or 0])
    base = _read(unit, counts)
    return UnitDetail(**base.model_dump(), ancestors=[_read(a, {}) for a in ancestors])

"""Who sees and keeps which ledger: the caller's scope in the unit tree.

The office sees everything; a city department (市委宣传部, any role) sees its city;
people with role `unit` keep the ledger of their organisation's units and of the units beneath.
Nobody sees a sibling: a unit outside the scope is simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    false,
    or_,
    select,
    true,
)
from sqlmodel import Session, col

from demosites.core.actor import Actor
from demosites.ledger.errors import LedgerReadOnly, NoLedgerAccess
from demosites.ledger.models import LedgerUnit, LedgerUnitAncestor
from demosites.organizations.models import Organization, OrgKind

# A one-column statement of unit ids, for `column IN (...)`.
UnitIds = Select[Any] | CompoundSelect[Any]


def path_ids(path: str) -> list[int]:
    """ "/1/5/23/" → [1, 5, 23] (root first)."""
    return [int(p) for p in path.strip("/").split("/") if p]


@dataclass(frozen=True)
class LedgerScope:
    actor: Actor
    everything: bool = False
    city: str | None = None
    roots: frozenset[int] = frozenset()  # units kept by the actor's organisation (role unit)
    above_roots: frozenset[int] = field(default_factory=frozenset)  # their ancestors

    @property
    def empty(self) -> bool:
        return not (self.everything or self.city or self.roots)

    def reads(self, unit: LedgerUnit) -> bool:
        if self.everything or (self.city and unit.city == self.city):
            return True
        return bool(self.roots.intersection(path_ids(unit.path)))

    def keeps(self, unit: LedgerUnit) -> bool:
        """May record entries for this unit (role unit, own subtree)."""
        return bool(self.roots.intersection(path_ids(unit.path)))

    def require_keeper(self) -> None:
        """Entries are recorded by units' own keepers (role unit); the office and city
        departments only read them: refused up front (403), not row by row."""
        if not self.roots:
            raise LedgerReadOnly(
                "Only a unit's own keepers (role unit) record its ledger / "
                "仅本单位台账人员（unit 角色）可记台账"
            )

    def plans_for(self, unit: LedgerUnit) -> bool:
        """May write this unit's plan: its keepers, and the office."""
        return self.keeps(unit) or self.everything

    def manages(self, unit: LedgerUnit) -> bool:
        """May add units beneath this one or rename it."""
        return self.everything or bool(self.city and unit.city == self.city) or self.keeps(unit)

    def sees_plan_of(self, unit: LedgerUnit) -> bool:
        """Plans of units above one's own apply to it (a community works to its street's plan)."""
        return self.reads(unit) or (unit.id in self.above_roots)

    def unit_ids(self) -> UnitIds | None:
        """The visible unit ids as a subquery, or None for everything."""
        if self.everything:
            return None
        parts: list[Select[Any]] = []
        if self.city:
            parts.append(select(col(LedgerUnit.id)).where(col(LedgerUnit.city) == self.city))
        if self.roots:
            parts.append(
                select(col(LedgerUnitAncestor.unit_id)).where(
                    col(LedgerUnitAncestor.ancestor_id).in_(sorted(self.roots))
                )
            )
        if not parts:
            return select(col(LedgerUnit.id)).where(false())
        if len(parts) == 1:
            return parts[0]
        return parts[0].union(parts[1])

    def unit_filter(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        ids = self.unit_ids()
        return true() if ids is None else column.in_(ids)

    def plan_unit_filter(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        if not self.above_roots:
            return self.unit_filter(column)
        return or_(self.unit_filter(column), column.in_(sorted(self.above_roots)))


def scope_of(session: Session, actor: Actor) -> LedgerScope:
    """At most two small queries: the organisation's kind and the units it keeps."""
    everything = actor.has("office")
    city = None
    if not everything and actor.organization_id:
        kind = session.execute(
            select(col(Organization.kind)).where(col(Organization.id) == actor.organization_id)
        ).scalar()
        if kind == OrgKind.city_propaganda and actor.organization_city:
            city = actor.organization_city
    roots: frozenset[int] = frozenset()
    above: set[int] = set()
    if actor.has("unit") and actor.organization_id:
        rows = session.execute(
            select(col(LedgerUnit.id), col(LedgerUnit.path)).where(
                col(LedgerUnit.organization_id) == actor.organization_id
            )
        ).all()
        roots = frozenset(r[0] for r in rows)
        for _, path in rows:
            above.update(path_ids(path))
        above -= roots
    scope = LedgerScope(
        actor=actor, everything=everything, city=city, roots=roots, above_roots=frozenset(above)
    )
    if scope.empty:
        raise NoLedgerAccess(
            "Only the office, city departments and units with role `unit` use the ledger / "
            "仅办公室、市委宣传部和基层单位（unit 角色）可使用工作台账"
        )
    return scope

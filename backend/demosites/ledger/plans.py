"""Annual work plans (年度工作要点): create (blank, from a template, or copied from last year),
sections, items and their targets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlmodel import Session, col

from demosites.audit import service as audit
from demosites.ledger import counts
from demosites.ledger.access import LedgerScope
from demosites.ledger.errors import (
    ItemHasEntries,
    ItemNotFound,
    LedgerInvalid,
    LedgerReadOnly,
    PlanExists,
    PlanNotFound,
    SectionNotFound,
    TemplateNotFound,
)
from demosites.ledger.models import (
    LedgerEntry,
    LedgerPlan,
    LedgerUnit,
    LedgerUnitAncestor,
    PlanItem,
    PlanSection,
    PlanTarget,
)
from demosites.ledger.schemas import (
    ItemCreate,
    ItemRead,
    ItemUpdate,
    PlanCreate,
    PlanDetail,
    PlanRead,
    PlanUpdate,
    SectionCreate,
    SectionRead,
    SectionUpdate,
    TargetRead,
    TargetSpec,
    TemplateRead,
)
from demosites.ledger.templates import TEMPLATES
from demosites.ledger.units import get_unit


def list_templates() -> list[TemplateRead]:
    return [TemplateRead.model_validate(t) for t in TEMPLATES.values()]


def get_template(code: str) -> TemplateRead:
    if code not in TEMPLATES:
        raise TemplateNotFound(f"No template {code!r} / 没有模板 {code!r}")
    return TemplateRead.model_validate(TEMPLATES[code])


# ---------- reading ----------


def get_plan(session: Session, scope: LedgerScope, plan_id: int) -> tuple[LedgerPlan, LedgerUnit]:
    row = session.execute(
        select(LedgerPlan, LedgerUnit)
        .join(LedgerUnit, col(LedgerUnit.id) == col(LedgerPlan.unit_id))
        .where(col(LedgerPlan.id) == plan_id)
    ).first()
    if row is None or not scope.sees_plan_of(row[1]):
        raise PlanNotFound(f"Plan {plan_id} not found / 未找到工作计划 {plan_id}")
    return row[0], row[1]


def _writable_plan(session: Session, scope: LedgerScope, plan_id: int) -> LedgerPlan:
    plan, unit = get_plan(session, scope, plan_id)
    if not scope.plans_for(unit):
        raise LedgerReadOnly()
    return plan


def _plan_read(plan: LedgerPlan, unit_name: str) -> PlanRead:
    return PlanRead.model_validate(plan).model_copy(update={"unit_name": unit_name})


def list_plans(
    session: Session,
    scope: LedgerScope,
    unit_id: int | None,
    year: int | None,
    limit: int,
    offset: int,
    applicable_to: int | None = None,
) -> tuple[list[PlanRead], int]:
    """Plans the scope sees; `unit_id` the unit's own; `applicable_to` the plans a unit works
    to: its own and its ancestors' (a community works to its street's plan; a unit the caller
    cannot read is not found)."""
    stmt = (
        select(LedgerPlan, col(LedgerUnit.name))
        .join(LedgerUnit, col(LedgerUnit.id) == col(LedgerPlan.unit_id))
        .where(scope.plan_unit_filter(col(LedgerPlan.unit_id)))
    )
    if unit_id is not None:
        stmt = stmt.where(col(LedgerPlan.unit_id) == unit_id)
    if applicable_to is not None:
        unit = get_unit(session, scope, applicable_to)
        stmt = stmt.where(
            col(LedgerPlan.unit_id).in_(
                select(col(LedgerUnitAncestor.ancestor_id)).where(
                    col(LedgerUnitAncestor.unit_id) == unit.id
                )
            )
        )
    if year is not None:
        stmt = stmt.where(col(LedgerPlan.year) == year)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(col(LedgerPlan.year).desc(), col(LedgerUnit.path), col(LedgerPlan.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return [_plan_read(p, name) for p, name in rows], total


def plan_detail(session: Session, scope: LedgerScope, plan_id: int) -> PlanDetail:
    plan, unit = get_plan(session, scope, plan_id)
    return _detail(session, plan, unit.name)


def _detail(session: Session, plan: LedgerPlan, unit_name: str) -> PlanDetail:
    sections = list(
        session.execute(
            select(PlanSection)
            .where(col(PlanSection.plan_id) == plan.id)
            .order_by(col(PlanSection.position), col(PlanSection.id))
        ).scalars()
    )
    items = list(
        session.execute(select(PlanItem).where(col(PlanItem.plan_id) == plan.id)).scalars()
    )
    targets = _targets_of(session, [i.id for i in items if i.id])
    order = {s.id: n for n, s in enumerate(sections)}
    items.sort(key=lambda i: (order.get(i.section_id, len(order)), i.position, i.id or 0))
    return PlanDetail(
        **_plan_read(plan, unit_name).model_dump(),
        sections=[SectionRead.model_validate(s) for s in sections],
        items=[_item_read(i, targets) for i in items],
    )


def _targets_of(session: Session, item_ids: list[int]) -> dict[int, list[PlanTarget]]:
    out: dict[int, list[PlanTarget]] = defaultdict(list)
    if item_ids:
        for t in session.execute(
            select(PlanTarget)
            .where(col(PlanTarget.item_id).in_(item_ids))
            .order_by(col(PlanTarget.id))
        ).scalars():
            out[t.item_id].append(t)
    return out


def _item_read(item: PlanItem, targets: dict[int, list[PlanTarget]]) -> ItemRead:
    return ItemRead.model_validate(item).model_copy(
        update={"targets": [TargetRead.model_validate(t) for t in targets.get(item.id or 0, [])]}
    )


# ---------- creating ----------


def create_plan(session: Session, scope: LedgerScope, body: PlanCreate) -> PlanDetail:
    unit = get_unit(session, scope, body.unit_id)
    if not scope.plans_for(unit):
        raise LedgerReadOnly()
    if session.execute(
        select(col(LedgerPlan.id)).where(
            col(LedgerPlan.unit_id) == unit.id, col(LedgerPlan.year) == body.year
        )
    ).first():
        raise PlanExists(
            f"{unit.name} already has a {body.year} plan / {unit.name} 已有 {body.year} 年度计划"
        )
    structure: list[dict[str, Any]] = []
    source = None
    title = body.title
    if body.source == "template":
        template = get_template(body.template or "")
        structure, source = template.model_dump()["sections"], f"template:{template.code}"
        title = title or template.title.replace(str(template.year), str(body.year))
    elif body.source == "copy":
        src = _copy_source(session, scope, unit, body)
        structure, source = _structure_of(session, src), f"plan:{src.id}"
        title = title or src.title.replace(str(src.year), str(body.year))
    plan = LedgerPlan(
        unit_id=unit.id or 0,
        year=body.year,
        title=title or f"{unit.name}{body.year}年度工作要点",
        source=source,
        created_by=scope.actor.user_id,
    )
    session.add(plan)
    session.flush()
    _insert_structure(session, plan.id or 0, structure)
    audit.record(
        session,
        scope.actor,
        "ledger_plan",
        plan.id or 0,
        "create",
        data={"source": source, "year": plan.year},
    )
    return _detail(session, plan, unit.name)


def _copy_source(
    session: Session, scope: LedgerScope, unit: LedgerUnit, body: PlanCreate
) -> LedgerPlan:
    if body.copy_from_plan_id is not None:
        return get_plan(session, scope, body.copy_from_plan_id)[0]
    src = session.execute(
        select(LedgerPlan).where(
            col(LedgerPlan.unit_id) == unit.id, col(LedgerPlan.year) == body.year - 1
        )
    ).scalar()
    if src is None:
        raise LedgerInvalid(
            f"{unit.name} has no {body.year - 1} plan to copy / {unit.name} 没有 {body.year - 1} 年度计划可复制"
        )
    return src


def _structure_of(session: Session, plan: LedgerPlan) -> list[dict[str, Any]]:
    """A plan as template-shaped data (sections → items → targets); loose items come last."""
    detail = _detail(session, plan, "")
    by_section: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for item in detail.items:
        by_section[item.section_id].append(
            {
                "code": item.code,
                "title": item.title,
                "description": item.description,
                "targets": [
                    TargetSpec.model_validate(t.model_dump(exclude={"id", "item_id"})).model_dump()
                    for t in item.targets
                ],
            }
        )
    out: list[dict[str, Any]] = [
        {"title": s.title, "items": by_section.get(s.id, [])} for s in detail.sections
    ]
    if by_section.get(None):
        out.append({"title": None, "items": by_section[None]})
    return out


def _insert_structure(session: Session, plan_id: int, sections: list[dict[str, Any]]) -> None:
    for s_pos, section in enumerate(sections):
        section_id = None
        if section.get("title"):
            row = PlanSection(plan_id=plan_id, position=s_pos, title=section["title"])
            session.add(row)
            session.flush()
            section_id = row.id
        for i_pos, item in enumerate(section["items"]):
            it = PlanItem(
                plan_id=plan_id,
                section_id=section_id,
                position=i_pos,
                code=item.get("code"),
                title=item["title"],
                description=item.get("description"),
            )
            session.add(it)
            session.flush()
            targets = [TargetSpec.model_validate(t) for t in item.get("targets", [])]
            _set_targets(session, plan_id, it.id or 0, targets, new_item=True)


def _set_targets(
    session: Session, plan_id: int, item_id: int, targets: list[TargetSpec], new_item: bool = False
) -> None:
    """Replaces the item's targets; the entry counts follow them (a new item has none)."""
    if not new_item:
        counts.forget_targets(session, item_id)
    session.execute(delete(PlanTarget).where(col(PlanTarget.item_id) == item_id))
    session.add_all(PlanTarget(plan_id=plan_id, item_id=item_id, **t.model_dump()) for t in targets)
    session.flush()
    if not new_item:
        counts.recount_item(session, item_id)


def update_plan(session: Session, scope: LedgerScope, plan_id: int, body: PlanUpdate) -> PlanDetail:
    plan = _writable_plan(session, scope, plan_id)
    plan.title = body.title
    session.add(plan)
    session.flush()
    audit.record(session, scope.actor, "ledger_plan", plan_id, "update", data={"title": body.title})
    return plan_detail(session, scope, plan_id)


# ---------- sections ----------


def _section(session: Session, scope: LedgerScope, section_id: int) -> PlanSection:
    section = session.get(PlanSection, section_id)
    if section is None:
        raise SectionNotFound()
    try:
        _writable_plan(session, scope, section.plan_id)
    except PlanNotFound as exc:
        raise SectionNotFound() from exc
    return section


def add_section(
    session: Session, scope: LedgerScope, plan_id: int, body: SectionCreate
) -> SectionRead:
    _writable_plan(session, scope, plan_id)
    row = PlanSection(plan_id=plan_id, **body.model_dump())
    session.add(row)
    session.flush()
    return SectionRead.model_validate(row)


def update_section(
    session: Session, scope: LedgerScope, section_id: int, body: SectionUpdate
) -> SectionRead:
    row = _section(session, scope, section_id)
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return SectionRead.model_validate(row)


def delete_section(session: Session, scope: LedgerScope, section_id: int) -> None:
    """Its items stay in the plan, without a section."""
    row = _section(session, scope, section_id)
    session.execute(
        update(PlanItem).where(col(PlanItem.section_id) == section_id).values(section_id=None)
    )
    session.delete(row)
    session.flush()


# ---------- items ----------


def _item(session: Session, scope: LedgerScope, item_id: int) -> PlanItem:
    item = session.get(PlanItem, item_id)
    if item is None:
        raise ItemNotFound()
    try:
        _writable_plan(session, scope, item.plan_id)
    except PlanNotFound as exc:
        raise ItemNotFound() from exc
    return item


def _check_section(session: Session, plan_id: int, section_id: int | None) -> None:
    if section_id is not None:
        s = session.get(PlanSection, section_id)
        if s is None or s.plan_id != plan_id:
            raise LedgerInvalid("section_id is not a section of this plan / 板块不属于该计划")


def add_item(session: Session, scope: LedgerScope, plan_id: int, body: ItemCreate) -> ItemRead:
    _writable_plan(session, scope, plan_id)
    _check_section(session, plan_id, body.section_id)
    item = PlanItem(plan_id=plan_id, **body.model_dump(exclude={"targets"}))
    session.add(item)
    session.flush()
    _set_targets(session, plan_id, item.id or 0, body.targets, new_item=True)
    audit.record(
        session,
        scope.actor,
        "ledger_plan",
        plan_id,
        "add_item",
        data={"item_id": item.id, "title": item.title},
    )
    return _item_read(item, _targets_of(session, [item.id or 0]))


def update_item(session: Session, scope: LedgerScope, item_id: int, body: ItemUpdate) -> ItemRead:
    item = _item(session, scope, item_id)
    changes = body.model_dump(exclude_unset=True, exclude={"targets"})
    if "section_id" in changes:
        _check_section(session, item.plan_id, changes["section_id"])
    for key, value in changes.items():
        if value is None and key in ("title", "position"):
            continue
        setattr(item, key, value)
    session.add(item)
    session.flush()
    if body.targets is not None:
        _set_targets(session, item.plan_id, item_id, body.targets)
    audit.record(
        session, scope.actor, "ledger_plan", item.plan_id, "update_item",
        data={"item_id": item_id, **body.model_dump(exclude_unset=True, mode="json")},
    )  # fmt: skip
    return _item_read(item, _targets_of(session, [item_id]))


def delete_item(session: Session, scope: LedgerScope, item_id: int) -> None:
    item = _item(session, scope, item_id)
    if session.execute(select(exists().where(col(LedgerEntry.item_id) == item_id))).scalar():
        raise ItemHasEntries()
    counts.forget_targets(session, item_id)
    session.execute(delete(PlanTarget).where(col(PlanTarget.item_id) == item_id))
    session.delete(item)
    session.flush()
    audit.record(
        session, scope.actor, "ledger_plan", item.plan_id, "delete_item", data={"item_id": item_id}
    )

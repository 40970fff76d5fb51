"""Ledger entries (台账记录): one at a time, in bulk (validated whole, all-or-nothing), listed,
corrected, deleted, with photos and documents attached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from fastapi import UploadFile
from sqlalchemy import Select, delete, func, insert, select
from sqlmodel import Session, col

from demosites.audit import service as audit
from demosites.core.clock import clock
from demosites.events import service as events
from demosites.events.models import OutboxEvent
from demosites.files import service as files
from demosites.files.models import StoredFile
from demosites.ledger import counts
from demosites.ledger.access import LedgerScope, path_ids
from demosites.ledger.errors import EntryNotFound, LedgerInvalid, LedgerReadOnly, row_error
from demosites.ledger.models import LedgerEntry, LedgerPlan, LedgerUnit, PlanItem, PlanTarget
from demosites.ledger.schemas import EntryCreate, EntryRead, EntryUpdate
from demosites.ledger.units import get_unit

OWNER = "ledger_entry"
EVENT_CREATED = "ledger_entry.created"


def _event_payload(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "unit_id": e["unit_id"],
        "item_id": e["item_id"],
        "entry_date": e["entry_date"].isoformat(),
        "title": e["title"],
    }


# ---------- validation (one pass for a whole batch, a few IN queries) ----------


def validate_rows(
    session: Session,
    scope: LedgerScope,
    rows: Sequence[EntryCreate],
    row_no: Callable[[int], int] = lambda i: i,
    column: Callable[[str], str] = lambda f: f,
    loc: Callable[[int, str], list[str]] | None = None,
) -> None:
    """Raises LedgerInvalid listing every (row, column) problem; nothing is written."""
    scope.require_keeper()
    unit_ids = sorted({r.unit_id for r in rows})
    item_ids = sorted({r.item_id for r in rows})
    units = {
        u.id: u
        for u in session.execute(
            select(LedgerUnit).where(col(LedgerUnit.id).in_(unit_ids))
        ).scalars()
    }
    items = {
        i: (plan_unit, year)
        for i, plan_unit, year in session.execute(
            select(col(PlanItem.id), col(LedgerPlan.unit_id), col(LedgerPlan.year))
            .join(LedgerPlan, col(LedgerPlan.id) == col(PlanItem.plan_id))
            .where(col(PlanItem.id).in_(item_ids))
        ).all()
    }
    timed = set(
        session.execute(
            select(col(PlanTarget.item_id)).where(
                col(PlanTarget.item_id).in_(item_ids), col(PlanTarget.kind) == "response_time"
            )
        ).scalars()
    )
    plan_units = {
        u.id: u
        for u in session.execute(
            select(LedgerUnit).where(col(LedgerUnit.id).in_(sorted({v[0] for v in items.values()})))
        ).scalars()
    }
    today = clock.today()
    errors: list[dict[str, Any]] = []

    def err(i: int, field: str, message: str) -> None:
        errors.append(row_error(row_no(i), column(field), message, loc(i, field) if loc else None))

    for i, r in enumerate(rows):
        unit = units.get(r.unit_id)
        if unit is None or not scope.reads(unit):
            err(i, "unit_id", f"Unit {r.unit_id} not found / 未找到单位 {r.unit_id}")
            unit = None
        elif not scope.keeps(unit):
            err(
                i,
                "unit_id",
                f"You do not keep the ledger of {unit.name} / 无权为“{unit.name}”记台账",
            )
            unit = None
        found = items.get(r.item_id)
        plan_unit = plan_units.get(found[0]) if found else None
        if found is None or plan_unit is None or not scope.sees_plan_of(plan_unit):
            err(i, "item_id", f"Plan item {r.item_id} not found / 未找到工作事项 {r.item_id}")
            continue
        if unit is not None and found[0] not in path_ids(unit.path):
            err(
                i,
                "item_id",
                f"Item {r.item_id} is not in a plan that covers {unit.name} / 该事项不属于“{unit.name}”适用的工作计划",
            )
        if r.entry_date.year != found[1]:
            err(
                i,
                "entry_date",
                f"The item belongs to the {found[1]} plan / 该事项属于 {found[1]} 年度计划",
            )
        if r.entry_date > today:
            err(
                i,
                "entry_date",
                "An activity cannot be recorded before it happens / 不能登记未来日期的活动",
            )
        if r.item_id in timed and r.response_minutes is None:
            err(
                i,
                "response_minutes",
                "舆情 items need the response time in minutes / 舆情事项须填写回复时长（分钟）",
            )
    if errors:
        raise LedgerInvalid(
            f"{len(errors)} problem(s); nothing was saved / 共 {len(errors)} 处错误，未保存任何记录",
            errors=errors,
        )


# ---------- writing ----------


def _values(scope: LedgerScope, r: EntryCreate) -> dict[str, Any]:
    return {**r.model_dump(), "created_by": scope.actor.user_id, "created_at": clock.now()}


def create_entry(session: Session, scope: LedgerScope, body: EntryCreate) -> EntryRead:
    validate_rows(session, scope, [body], row_no=lambda i: i)
    entry = LedgerEntry(**_values(scope, body))
    session.add(entry)
    session.flush()
    counts.add(session, [counts.counted(entry)])
    events.emit(
        session,
        EVENT_CREATED,
        OWNER,
        entry.id or 0,
        _event_payload(body.model_dump()),
        _orgs(session, [body.unit_id]),
    )
    audit.record(
        session,
        scope.actor,
        OWNER,
        entry.id or 0,
        "create",
        data={"unit_id": body.unit_id, "item_id": body.item_id},
    )
    return get_entry(session, scope, entry.id or 0)


def bulk_create(
    session: Session,
    scope: LedgerScope,
    rows: Sequence[EntryCreate],
    row_no: Callable[[int], int] = lambda i: i,
    column: Callable[[str], str] = lambda f: f,
    loc: Callable[[int, str], list[str]] | None = None,
    via: str = "bulk",
) -> list[int]:
    """All rows or none: validated as a whole, then inserted with one multi-row INSERT (and one
    for their outbox events), so 1,000 rows cost a handful of statements."""
    if not rows:
        raise LedgerInvalid("Nothing to import / 没有可导入的记录")
    validate_rows(session, scope, rows, row_no, column, loc)
    values = [_values(scope, r) for r in rows]
    ids = list(
        session.execute(insert(LedgerEntry).returning(col(LedgerEntry.id)), values).scalars()
    )
    counts.add(session, [counts.counted(r) for r in rows])
    orgs = _orgs(session, sorted({r.unit_id for r in rows}), per_unit=True)
    now = clock.now()
    session.execute(
        insert(OutboxEvent),
        [
            {
                "event_type": EVENT_CREATED,
                "object_type": OWNER,
                "object_id": i,
                "audience": _audience(orgs.get(v["unit_id"])),
                "payload": _event_payload(v),
                "created_at": now,
            }
            for i, v in zip(ids, values, strict=True)
        ],
    )
    audit.record(
        session, scope.actor, OWNER, ids[0], f"{via}_create",
        data={"count": len(ids), "first_id": ids[0], "last_id": ids[-1]},
    )  # fmt: skip
    return ids


def _audience(org_ids: list[int] | None) -> str:
    """The outbox's audience column, formatted as events.service.emit formats it (",12,34,");
    bulk inserts build the rows themselves to write 1,000 events in one statement."""
    return "," + "".join(f"{i}," for i in sorted(set(org_ids or [])))


def _orgs(session: Session, unit_ids: list[int], per_unit: bool = False) -> Any:
    """Organisations that keep these units or their ancestors (who may read the event)."""
    units = session.execute(
        select(col(LedgerUnit.id), col(LedgerUnit.path)).where(col(LedgerUnit.id).in_(unit_ids))
    ).all()
    all_ids = sorted({a for _, p in units for a in path_ids(p)})
    rows = session.execute(
        select(col(LedgerUnit.id), col(LedgerUnit.organization_id)).where(
            col(LedgerUnit.id).in_(all_ids), col(LedgerUnit.organization_id).is_not(None)
        )
    ).all()
    org_of = {u: o for u, o in rows if u is not None and o is not None}
    out = {u: sorted({org_of[a] for a in path_ids(p) if a in org_of}) or None for u, p in units}
    if per_unit:
        return out
    return out.get(unit_ids[0]) if unit_ids else None


def _entry(session: Session, scope: LedgerScope, entry_id: int, write: bool = False) -> LedgerEntry:
    row = session.execute(
        select(LedgerEntry, LedgerUnit)
        .join(LedgerUnit, col(LedgerUnit.id) == col(LedgerEntry.unit_id))
        .where(col(LedgerEntry.id) == entry_id)
    ).first()
    if row is None or not scope.reads(row[1]):
        raise EntryNotFound(f"Entry {entry_id} not found / 未找到台账记录 {entry_id}")
    if write and not scope.keeps(row[1]):
        raise LedgerReadOnly()
    return row[0]


def update_entry(
    session: Session, scope: LedgerScope, entry_id: int, body: EntryUpdate
) -> EntryRead:
    entry = _entry(session, scope, entry_id, write=True)
    current = {name: getattr(entry, name) for name in EntryCreate.model_fields}
    current.update(body.model_dump(exclude_unset=True))
    for required in ("entry_date", "title"):  # null there means "unchanged"
        if current[required] is None:
            current[required] = getattr(entry, required)
    merged = EntryCreate.model_validate(current)
    validate_rows(session, scope, [merged])
    before = counts.counted(entry)
    for key, value in merged.model_dump().items():
        setattr(entry, key, value)
    session.add(entry)
    session.flush()
    counts.replace_entry(session, before, counts.counted(entry))
    audit.record(
        session,
        scope.actor,
        OWNER,
        entry_id,
        "update",
        data=body.model_dump(exclude_unset=True, mode="json"),
    )
    return get_entry(session, scope, entry_id)


def delete_entry(session: Session, scope: LedgerScope, entry_id: int) -> None:
    entry = _entry(session, scope, entry_id, write=True)
    session.execute(
        delete(StoredFile).where(
            col(StoredFile.owner_type) == OWNER, col(StoredFile.owner_id) == entry_id
        )
    )
    session.delete(entry)
    session.flush()
    counts.add(session, [counts.counted(entry)], -1)
    events.emit(
        session,
        "ledger_entry.deleted",
        OWNER,
        entry_id,
        {"unit_id": entry.unit_id, "item_id": entry.item_id},
    )
    audit.record(session, scope.actor, OWNER, entry_id, "delete", data={"title": entry.title})


# ---------- reading ----------


def _read_stmt() -> Select[Any]:
    attachments = (
        select(func.count())
        .where(col(StoredFile.owner_type) == OWNER, col(StoredFile.owner_id) == LedgerEntry.id)
        .correlate(LedgerEntry)
        .scalar_subquery()
    )
    return (
        select(
            LedgerEntry,
            col(LedgerUnit.name),
            col(PlanItem.title),
            col(PlanItem.plan_id),
            attachments.label("n_files"),
        )
        .join(LedgerUnit, col(LedgerUnit.id) == LedgerEntry.unit_id)
        .join(PlanItem, col(PlanItem.id) == LedgerEntry.item_id)
    )


def _to_read(row: Any) -> EntryRead:
    e, unit_name, item_title, plan_id, n_files = row
    return EntryRead(
        **e.model_dump(exclude={"unit_name"}),
        unit_name=unit_name,
        item_title=item_title,
        plan_id=plan_id,
        attachment_count=n_files,
    )


def get_entry(session: Session, scope: LedgerScope, entry_id: int) -> EntryRead:
    _entry(session, scope, entry_id)
    return _to_read(session.execute(_read_stmt().where(col(LedgerEntry.id) == entry_id)).one())


def list_entries(
    session: Session,
    scope: LedgerScope,
    unit_id: int | None,
    subtree: bool,
    item_id: int | None,
    plan_id: int | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    offset: int,
) -> tuple[list[EntryRead], int]:
    """Newest first; one statement for the page (names and attachment counts joined) and one
    for the total, whatever the page size."""
    conds: list[Any] = []
    if unit_id is not None:
        root = get_unit(session, scope, unit_id)
        if subtree:
            from demosites.ledger.compliance import _subtree

            conds.append(col(LedgerEntry.unit_id).in_(_subtree(root.id or 0)))
        else:
            conds.append(LedgerEntry.unit_id == unit_id)
    else:
        conds.append(scope.unit_filter(col(LedgerEntry.unit_id)))
    if item_id is not None:
        conds.append(LedgerEntry.item_id == item_id)
    if plan_id is not None:
        conds.append(
            col(LedgerEntry.item_id).in_(
                select(col(PlanItem.id)).where(col(PlanItem.plan_id) == plan_id)
            )
        )
    if date_from is not None:
        conds.append(col(LedgerEntry.entry_date) >= date_from)
    if date_to is not None:
        conds.append(col(LedgerEntry.entry_date) <= date_to)
    total = session.execute(
        select(func.count()).select_from(LedgerEntry).where(*conds)
    ).scalar_one()
    rows = session.execute(
        _read_stmt()
        .where(*conds)
        .order_by(col(LedgerEntry.entry_date).desc(), col(LedgerEntry.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_to_read(r) for r in rows], total


# ---------- attachments ----------


def add_attachment(
    session: Session, scope: LedgerScope, entry_id: int, upload: UploadFile
) -> StoredFile:
    _entry(session, scope, entry_id, write=True)
    stored = files.store_upload(session, scope.actor, upload, OWNER, entry_id, "evidence")
    audit.record(
        session,
        scope.actor,
        OWNER,
        entry_id,
        "attach",
        data={"file_id": stored.id, "filename": stored.filename},
    )
    return stored


def list_attachments(session: Session, scope: LedgerScope, entry_id: int) -> list[StoredFile]:
    _entry(session, scope, entry_id)
    return files.files_of(session, OWNER, entry_id)


def get_attachment(session: Session, scope: LedgerScope, entry_id: int, file_id: int) -> StoredFile:
    _entry(session, scope, entry_id)
    return files.get_file(session, OWNER, entry_id, file_id)

"""Excel (.xlsx) import of ledger entries and its template: the whole sheet is checked first
and saved all-or-nothing; every problem is reported with its sheet row and column."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from fastapi import UploadFile
from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from demosites.files import xlsx
from demosites.files.service import within_limit
from demosites.ledger import entries as entry_service
from demosites.ledger.access import LedgerScope
from demosites.ledger.compliance import _subtree
from demosites.ledger.errors import LedgerInvalid, row_error
from demosites.ledger.models import LedgerUnit
from demosites.ledger.plans import plan_detail
from demosites.ledger.schemas import EntryCreate, PlanDetail

MAX_ROWS = 5000
SHEET = "台账"
# (field, header as the sheet shows it, column width)
COLUMNS = (
    ("unit", "单位（ID或名称）", 22),
    ("item", "工作事项（ID、编号或名称）", 30),
    ("entry_date", "日期", 12),
    ("title", "标题", 36),
    ("description", "内容", 48),
    ("participants", "参与人数", 10),
    ("place", "地点", 20),
    ("response_minutes", "回复时长（分钟）", 14),
)
HEADER = {field: header for field, header, _ in COLUMNS}
LETTER = {field: chr(ord("A") + n) for n, (field, _, _) in enumerate(COLUMNS)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan_units(session: Session, scope: LedgerScope, unit_id: int) -> list[LedgerUnit]:
    """Units of the plan's subtree the caller keeps (the ones an import may name)."""
    rows = session.execute(
        select(LedgerUnit)
        .where(col(LedgerUnit.id).in_(_subtree(unit_id)))
        .order_by(col(LedgerUnit.path))
    ).scalars()
    return [u for u in rows if scope.keeps(u)]


def template(session: Session, scope: LedgerScope, plan_id: int) -> bytes:
    plan = plan_detail(session, scope, plan_id)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([header for _, header, _ in COLUMNS])
    for n, (_, _, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + n)].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    items = wb.create_sheet("工作事项")
    items.append(["ID", "编号", "名称", "目标"])
    for it in plan.items:
        items.append([it.id, it.code, it.title, "；".join(t.label or t.kind for t in it.targets)])
    units = wb.create_sheet("单位")
    units.append(["ID", "名称", "层级"])
    for u in _plan_units(session, scope, plan.unit_id)[:20_000]:
        units.append([u.id, u.name, u.level])
    notes = wb.create_sheet("说明")
    for line in (
        f"计划：{plan.title}（{plan.year}年）",
        "每行一条台账记录；单位与工作事项可填 ID 或名称（见“单位”“工作事项”两页）。",
        "日期格式 2023-06-05；舆情事项须填写回复时长（分钟）。",
        "导入时整表校验：任何一行有误则整表不导入，并逐行逐列列出错误。",
    ):
        notes.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _as_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
    return value


def read_sheet(upload: UploadFile) -> list[tuple[int, tuple[Any, ...]]]:
    """The upload's rows, header first, read with no database work: the router calls this before
    authentication opens the request's transaction (on SQLite that takes the write lock)."""
    return xlsx.read_rows(
        within_limit(upload.file.read()),
        SHEET,
        len(COLUMNS),
        MAX_ROWS,
        lambda: LedgerInvalid("Not an .xlsx workbook / 不是有效的 .xlsx 文件"),
    )


def importable_plan(session: Session, scope: LedgerScope, plan_id: int) -> PlanDetail:
    """The plan, when the caller may record its entries (404 / 403 otherwise)."""
    plan = plan_detail(session, scope, plan_id)
    scope.require_keeper()
    return plan


def import_entries(
    session: Session, scope: LedgerScope, plan_id: int, sheet: list[tuple[int, tuple[Any, ...]]]
) -> list[int]:
    """`sheet` is what read_sheet returned (parsed before the transaction began)."""
    plan = importable_plan(session, scope, plan_id)
    header = [(_cell(v) or "") for v in sheet[0][1]] if sheet else []
    expected = [h for _, h, _ in COLUMNS]
    if [str(h) for h in header[: len(expected)]] != expected:
        raise LedgerInvalid(
            "The first row must be the template's header / 第一行须为模板表头",
            errors=[row_error(1, "header", "Expected / 应为: " + " | ".join(expected))],
        )
    units = _plan_units(session, scope, plan.unit_id)
    unit_by_id = {u.id: u for u in units}
    unit_by_name: dict[str, list[LedgerUnit]] = {}
    for u in units:
        unit_by_name.setdefault(u.name, []).append(u)
    item_by_id = {i.id: i for i in plan.items}
    item_by_key: dict[str, list[int]] = {}
    for i in plan.items:
        for key in {i.title, i.code}:
            if key:
                item_by_key.setdefault(key, []).append(i.id)

    errors: list[dict[str, Any]] = []
    parsed: list[tuple[int, EntryCreate]] = []

    def err(row: int, field: str, message: str) -> None:
        errors.append(row_error(row, f"{LETTER[field]}:{HEADER[field]}", message))

    for n, raw in sheet[1:]:
        values = [_cell(v) for v in raw]
        if all(v is None for v in values):
            continue
        cell = dict(zip([f for f, _, _ in COLUMNS], values, strict=True))
        record: dict[str, Any] = {
            k: cell[k]
            for k in ("title", "description", "place", "participants", "response_minutes")
        }
        record["entry_date"] = _as_date(cell["entry_date"])
        unit_id = _resolve(cell["unit"], unit_by_id, unit_by_name)
        if unit_id is None:
            err(n, "unit", f"Unknown unit / 无法识别的单位: {cell['unit']!s}")
        item_id = _resolve(cell["item"], item_by_id, item_by_key)
        if item_id is None:
            err(n, "item", f"Not an item of this plan / 不是本计划的工作事项: {cell['item']!s}")
        if unit_id is None or item_id is None:
            continue
        try:
            parsed.append(
                (n, EntryCreate.model_validate({**record, "unit_id": unit_id, "item_id": item_id}))
            )
        except ValidationError as exc:
            for e in exc.errors():
                field = str(e["loc"][0]) if e["loc"] else "title"
                err(n, field if field in HEADER else "title", str(e["msg"]))
    if errors:
        raise LedgerInvalid(
            f"{len(errors)} problem(s); nothing was imported / 共 {len(errors)} 处错误，未导入任何记录",
            errors=errors,
        )
    if not parsed:
        raise LedgerInvalid("The sheet has no rows / 表中没有数据行")
    field_of = {"unit_id": "unit", "item_id": "item"}
    return entry_service.bulk_create(
        session,
        scope,
        [p for _, p in parsed],
        row_no=lambda i: parsed[i][0],
        column=lambda f: f"{LETTER[field_of.get(f, f)]}:{HEADER[field_of.get(f, f)]}",
        via="excel",
    )


def _resolve(value: Any, by_id: dict[Any, Any], by_key: dict[str, list[Any]]) -> int | None:
    """An id (number) or an unambiguous name/code."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in by_id else None
    text = str(value).strip()
    if text.isdigit() and int(text) in by_id:
        return int(text)
    found = by_key.get(text) or []
    if len(found) != 1:
        return None
    hit = found[0]
    return int(hit if isinstance(hit, int) else hit.id)

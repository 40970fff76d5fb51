"""Errors of the work ledger, each with its problem code."""

from __future__ import annotations

from typing import Any

from demosites.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from demosites.core.field_messages import msg_zh


class UnitNotFound(NotFound):
    code, title = "ledger_unit_not_found", "Ledger unit not found / 未找到该单位"


class PlanNotFound(NotFound):
    code, title = "ledger_plan_not_found", "Work plan not found / 未找到该工作计划"


class SectionNotFound(NotFound):
    code, title = "ledger_section_not_found", "Plan section not found / 未找到该计划板块"


class ItemNotFound(NotFound):
    code, title = "ledger_item_not_found", "Plan item not found / 未找到该工作事项"


class EntryNotFound(NotFound):
    code, title = "ledger_entry_not_found", "Ledger entry not found / 未找到该台账记录"


class TemplateNotFound(NotFound):
    code, title = "ledger_template_not_found", "Plan template not found / 未找到该计划模板"


class NoLedgerAccess(Forbidden):
    code, title = "no_ledger_access", "No access to the work ledger / 无权访问工作台账"


class LedgerReadOnly(Forbidden):
    code, title = (
        "ledger_read_only",
        "You may read this unit's ledger but not change it / 可查看但无权修改该单位台账",
    )


class PlanExists(Conflict):
    code, title = (
        "ledger_plan_exists",
        "This unit already has a plan for that year / 该单位该年度已有工作计划",
    )


class ItemHasEntries(Conflict):
    code, title = (
        "ledger_item_has_entries",
        "Entries were recorded against it; it cannot be deleted / 已有台账记录，不能删除",
    )


class LedgerInvalid(ValidationFailed):
    """Business validation of ledger input; `errors` lists row/column problems when batched."""

    code, title = "ledger_invalid", "Invalid ledger input / 台账数据有误"

    def __init__(
        self, detail: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail, errors=errors)


def row_error(row: int, column: str, message: str, loc: list[str] | None = None) -> dict[str, Any]:
    """One problem of a batch, in the shape shared by the bulk API and the Excel import
    (`loc`/`msg`/`type` like a validation error, `row`/`column`/`message` for people)."""
    return {
        "loc": loc or ["row", str(row), column],
        "msg": message,
        "msg_zh": msg_zh({"type": "value_error", "msg": message}),
        "type": "ledger_invalid",
        "row": row,
        "column": column,
        "message": message,
    }

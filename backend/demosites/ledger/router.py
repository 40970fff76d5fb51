"""HTTP endpoints of the work ledger (/api/v1/ledger/...): units, templates, plans, entries,
Excel import, compliance reports."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse

from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep
from demosites.core.db import end_transaction
from demosites.core.errors import (
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
    responses,
)
from demosites.core.field_messages import msg_zh
from demosites.core.paging import PageDep
from demosites.files.service import DOWNLOAD_RESPONSE, path_of
from demosites.files.xlsx import WorkbookInvalid, WorkbookTooLarge, WorkbookTooManyRows
from demosites.ledger import compliance, entries, excel, plans, units
from demosites.ledger.access import LedgerScope, scope_of
from demosites.ledger.errors import (
    EntryNotFound,
    ItemHasEntries,
    ItemNotFound,
    LedgerInvalid,
    LedgerReadOnly,
    NoLedgerAccess,
    PlanExists,
    PlanNotFound,
    SectionNotFound,
    TemplateNotFound,
    UnitNotFound,
    row_error,
)
from demosites.ledger.models import ComplianceState, PeriodKind, UnitLevel
from demosites.ledger.schemas import (
    AttachmentList,
    AttachmentRead,
    BulkResult,
    CompliancePage,
    EntryBulkCreate,
    EntryCreate,
    EntryPage,
    EntryRead,
    EntryUpdate,
    Grid,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    PlanCreate,
    PlanDetail,
    PlanPage,
    PlanUpdate,
    Rollup,
    SectionCreate,
    SectionRead,
    SectionUpdate,
    TemplateList,
    TemplateRead,
    Trend,
    UnitCreate,
    UnitDetail,
    UnitPage,
    UnitRead,
    UnitUpdate,
)


class RowErrorsRoute(IdempotentRoute):
    """Batch endpoints answer shape errors like business errors: one `errors` list with the
    row (index in `items`) and column of each problem, so a client fixes all rows at once."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = []
                for e in exc.errors():
                    loc = [str(p) for p in e.get("loc", ())]
                    if len(loc) >= 3 and loc[1] == "items" and loc[2].isdigit():
                        column = loc[3] if len(loc) > 3 else "row"
                        row = row_error(int(loc[2]), column, str(e.get("msg", "")), loc)
                        errors.append({**row, "msg_zh": msg_zh(e)})
                    else:
                        errors.append(
                            {
                                "loc": loc,
                                "msg": str(e.get("msg", "")),
                                "msg_zh": msg_zh(e),
                                "type": str(e.get("type", "")),
                            }
                        )
                raise LedgerInvalid(
                    f"{len(errors)} problem(s); nothing was saved / 共 {len(errors)} 处错误，未保存任何记录",
                    errors=errors,
                ) from exc

        return wrapped


router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"], route_class=IdempotentRoute)
# Included into `router` below, which adds the prefix.
batch_router = APIRouter(tags=["ledger"], route_class=RowErrorsRoute)


def _scope(session: SessionDep, actor: ActorDep) -> LedgerScope:
    return scope_of(session, actor)


ScopeDep = Annotated[LedgerScope, Depends(_scope)]
_common = (Unauthenticated, NoLedgerAccess, ValidationFailed)
UnitQ = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Report root unit (default: all you see)")
]
YearQ = Annotated[int | None, Query(ge=2000, le=2100, description="Plan year (default: this year)")]
MonthQ = Annotated[int | None, Query(ge=1, le=12)]
QuarterQ = Annotated[int | None, Query(ge=1, le=4)]
PK = Annotated[int, Path(ge=1, le=2**31 - 1)]


# ---------- units ----------


@router.get(
    "/units",
    operation_id="list_ledger_units",
    summary="List units: children of parent_id, else your top units (or search by q/level)",
    response_model=UnitPage,
    responses=responses(*_common, UnitNotFound),
)
def list_units(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    parent_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    level: UnitLevel | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Name contains")] = None,
) -> UnitPage:
    items, total = units.list_units(session, scope, parent_id, level, q, page.limit, page.offset)
    return UnitPage(items=items, total=total)


@router.post(
    "/units",
    operation_id="create_ledger_unit",
    summary="Add a unit (under a parent you manage; top-level: office or the city's department)",
    status_code=status.HTTP_201_CREATED,
    response_model=UnitRead,
    responses=responses(*_common, LedgerReadOnly, UnitNotFound, LedgerInvalid),
)
def create_unit(body: UnitCreate, session: SessionDep, scope: ScopeDep) -> UnitRead:
    return UnitRead.model_validate(units.create_unit(session, scope, body))


@router.get(
    "/units/{unit_id:id}",
    operation_id="get_ledger_unit",
    summary="A unit with its visible ancestors (breadcrumb)",
    response_model=UnitDetail,
    responses=responses(*_common, UnitNotFound),
)
def get_unit(unit_id: PK, session: SessionDep, scope: ScopeDep) -> UnitDetail:
    return units.unit_detail(session, scope, unit_id)


@router.patch(
    "/units/{unit_id:id}",
    operation_id="update_ledger_unit",
    summary="Rename a unit or link it to an organisation",
    response_model=UnitRead,
    responses=responses(*_common, LedgerReadOnly, UnitNotFound, LedgerInvalid),
)
def update_unit(unit_id: PK, body: UnitUpdate, session: SessionDep, scope: ScopeDep) -> UnitRead:
    return UnitRead.model_validate(units.update_unit(session, scope, unit_id, body))


# ---------- templates and plans ----------


@router.get(
    "/templates",
    operation_id="list_ledger_templates",
    summary="Plan templates shipped with the product (seed 003: 电厂街道2023年度宣传思想工作要点)",
    response_model=TemplateList,
    responses=responses(*_common),
)
def list_templates(scope: ScopeDep) -> TemplateList:
    items = plans.list_templates()
    return TemplateList(items=items, total=len(items))


@router.get(
    "/templates/{code}",
    operation_id="get_ledger_template",
    summary="One plan template with its sections, items and targets",
    response_model=TemplateRead,
    responses=responses(*_common, TemplateNotFound),
)
def get_template(code: Annotated[str, Path(max_length=64)], scope: ScopeDep) -> TemplateRead:
    return plans.get_template(code)


@router.get(
    "/plans",
    operation_id="list_ledger_plans",
    summary="Plans you see (your units', and those of units above yours that apply to you)",
    response_model=PlanPage,
    responses=responses(*_common, UnitNotFound),
)
def list_plans(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    applicable_to: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**31 - 1,
            examples=[23],
            description="A unit: its own plans and those of the units above it that apply to it",
        ),
    ] = None,
) -> PlanPage:
    items, total = plans.list_plans(
        session, scope, unit_id, year, page.limit, page.offset, applicable_to=applicable_to
    )
    return PlanPage(items=items, total=total)


@router.post(
    "/plans",
    operation_id="create_ledger_plan",
    summary="Create a unit's plan for a year: blank, from a template, or copied (default: last year's)",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanDetail,
    responses=responses(
        *_common,
        LedgerReadOnly,
        UnitNotFound,
        PlanNotFound,
        TemplateNotFound,
        PlanExists,
        LedgerInvalid,
    ),
)
def create_plan(body: PlanCreate, session: SessionDep, scope: ScopeDep) -> PlanDetail:
    return plans.create_plan(session, scope, body)


@router.get(
    "/plans/{plan_id:id}",
    operation_id="get_ledger_plan",
    summary="A plan with its sections, items and targets",
    response_model=PlanDetail,
    responses=responses(*_common, PlanNotFound),
)
def get_plan(plan_id: PK, session: SessionDep, scope: ScopeDep) -> PlanDetail:
    return plans.plan_detail(session, scope, plan_id)


@router.patch(
    "/plans/{plan_id:id}",
    operation_id="update_ledger_plan",
    summary="Rename a plan",
    response_model=PlanDetail,
    responses=responses(*_common, LedgerReadOnly, PlanNotFound),
)
def update_plan(plan_id: PK, body: PlanUpdate, session: SessionDep, scope: ScopeDep) -> PlanDetail:
    return plans.update_plan(session, scope, plan_id, body)


@router.post(
    "/plans/{plan_id:id}/sections",
    operation_id="create_ledger_section",
    summary="Add a section to a plan",
    status_code=status.HTTP_201_CREATED,
    response_model=SectionRead,
    responses=responses(*_common, LedgerReadOnly, PlanNotFound),
)
def create_section(
    plan_id: PK, body: SectionCreate, session: SessionDep, scope: ScopeDep
) -> SectionRead:
    return plans.add_section(session, scope, plan_id, body)


@router.patch(
    "/sections/{section_id:id}",
    operation_id="update_ledger_section",
    summary="Rename or move a section",
    response_model=SectionRead,
    responses=responses(*_common, LedgerReadOnly, SectionNotFound),
)
def update_section(
    section_id: PK, body: SectionUpdate, session: SessionDep, scope: ScopeDep
) -> SectionRead:
    return plans.update_section(session, scope, section_id, body)


@router.delete(
    "/sections/{section_id:id}",
    operation_id="delete_ledger_section",
    summary="Delete a section (its items stay in the plan)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*_common, LedgerReadOnly, SectionNotFound),
)
def delete_section(section_id: PK, session: SessionDep, scope: ScopeDep) -> Response:
    plans.delete_section(session, scope, section_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/plans/{plan_id:id}/items",
    operation_id="create_ledger_item",
    summary="Add an item (with its targets) to a plan",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
    responses=responses(*_common, LedgerReadOnly, PlanNotFound, LedgerInvalid),
)
def create_item(plan_id: PK, body: ItemCreate, session: SessionDep, scope: ScopeDep) -> ItemRead:
    return plans.add_item(session, scope, plan_id, body)


@router.patch(
    "/items/{item_id:id}",
    operation_id="update_ledger_item",
    summary="Change an item; `targets`, when given, replaces all its targets",
    response_model=ItemRead,
    responses=responses(*_common, LedgerReadOnly, ItemNotFound, LedgerInvalid),
)
def update_item(item_id: PK, body: ItemUpdate, session: SessionDep, scope: ScopeDep) -> ItemRead:
    return plans.update_item(session, scope, item_id, body)


@router.delete(
    "/items/{item_id:id}",
    operation_id="delete_ledger_item",
    summary="Delete an item that has no entries",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*_common, LedgerReadOnly, ItemNotFound, ItemHasEntries),
)
def delete_item(item_id: PK, session: SessionDep, scope: ScopeDep) -> Response:
    plans.delete_item(session, scope, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/plans/{plan_id:id}/import-template",
    operation_id="download_ledger_import_template",
    summary="Excel template for importing entries of this plan (with its units and items)",
    response_class=Response,
    responses={
        200: {"content": {excel.XLSX: {}}, "description": "An .xlsx workbook"},
        **responses(*_common, PlanNotFound),
    },
)
def import_template(plan_id: PK, session: SessionDep, scope: ScopeDep) -> Response:
    data = excel.template(session, scope, plan_id)
    return Response(
        data,
        media_type=excel.XLSX,
        headers={"Content-Disposition": f'attachment; filename="ledger-plan-{plan_id}.xlsx"'},
    )


def _entry_sheet(
    plan_id: PK, session: SessionDep, scope: ScopeDep, file: Annotated[UploadFile, File()]
) -> list[tuple[int, tuple[Any, ...]]]:
    """Authorised first (the plan is the caller's to record: 404/403 before any parsing), then
    parsed with no transaction open: on SQLite the lock authentication took is released."""
    excel.importable_plan(session, scope, plan_id)
    end_transaction(session)
    return excel.read_sheet(file)


@router.post(
    "/plans/{plan_id:id}/import",
    operation_id="import_ledger_entries",
    summary="Import entries from Excel: all rows or none; errors per sheet row and column",
    status_code=status.HTTP_201_CREATED,
    response_model=BulkResult,
    responses=responses(
        *_common,
        PlanNotFound,
        LedgerReadOnly,
        LedgerInvalid,
        PayloadTooLarge,
        WorkbookInvalid,
        WorkbookTooLarge,
        WorkbookTooManyRows,
    ),
    # Listed here so it runs before the Idempotency-Key claim (which commits with the result).
    dependencies=[Depends(_entry_sheet)],
)
def import_entries(
    plan_id: PK,
    session: SessionDep,
    scope: ScopeDep,
    sheet: Annotated[list[tuple[int, tuple[Any, ...]]], Depends(_entry_sheet)],
) -> BulkResult:
    ids = excel.import_entries(session, scope, plan_id, sheet)
    return BulkResult(created=len(ids), ids=ids)


# ---------- entries ----------


@router.get(
    "/entries",
    operation_id="list_ledger_entries",
    summary="Ledger entries, newest first (a unit and, by default, the units beneath it)",
    response_model=EntryPage,
    responses=responses(*_common, UnitNotFound),
)
def list_entries(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    subtree: bool = True,
    item_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    plan_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> EntryPage:
    items, total = entries.list_entries(
        session,
        scope,
        unit_id,
        subtree,
        item_id,
        plan_id,
        date_from,
        date_to,
        page.limit,
        page.offset,
    )
    return EntryPage(items=items, total=total)


@router.post(
    "/entries",
    operation_id="create_ledger_entry",
    summary="Record one ledger entry (emits ledger_entry.created)",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryRead,
    responses=responses(*_common, LedgerReadOnly, LedgerInvalid),
)
def create_entry(body: EntryCreate, session: SessionDep, scope: ScopeDep) -> EntryRead:
    return entries.create_entry(session, scope, body)


@batch_router.post(
    "/entries/bulk",
    operation_id="bulk_create_ledger_entries",
    summary="Record up to 1,000 entries at once: all or none; errors list row (index) and column",
    status_code=status.HTTP_201_CREATED,
    response_model=BulkResult,
    responses=responses(*_common, LedgerReadOnly, LedgerInvalid, PayloadTooLarge),
)
def bulk_create(body: EntryBulkCreate, session: SessionDep, scope: ScopeDep) -> BulkResult:
    ids = entries.bulk_create(
        session, scope, body.items, loc=lambda i, f: ["body", "items", str(i), f]
    )
    return BulkResult(created=len(ids), ids=ids)


@router.get(
    "/entries/{entry_id:id}",
    operation_id="get_ledger_entry",
    summary="One ledger entry",
    response_model=EntryRead,
    responses=responses(*_common, EntryNotFound),
)
def get_entry(entry_id: PK, session: SessionDep, scope: ScopeDep) -> EntryRead:
    return entries.get_entry(session, scope, entry_id)


@router.patch(
    "/entries/{entry_id:id}",
    operation_id="update_ledger_entry",
    summary="Correct a ledger entry",
    response_model=EntryRead,
    responses=responses(*_common, EntryNotFound, LedgerReadOnly, LedgerInvalid),
)
def update_entry(
    entry_id: PK, body: EntryUpdate, session: SessionDep, scope: ScopeDep
) -> EntryRead:
    return entries.update_entry(session, scope, entry_id, body)


@router.delete(
    "/entries/{entry_id:id}",
    operation_id="delete_ledger_entry",
    summary="Delete a ledger entry (history keeps the fact)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*_common, EntryNotFound, LedgerReadOnly),
)
def delete_entry(entry_id: PK, session: SessionDep, scope: ScopeDep) -> Response:
    entries.delete_entry(session, scope, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/entries/{entry_id:id}/attachments",
    operation_id="upload_ledger_attachment",
    summary="Attach a photo or document (PDF, DOCX, DOC, JPG, PNG)",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentRead,
    responses=responses(*_common, EntryNotFound, LedgerReadOnly, PayloadTooLarge),
)
def upload_attachment(
    entry_id: PK, session: SessionDep, scope: ScopeDep, file: Annotated[UploadFile, File()]
) -> AttachmentRead:
    return AttachmentRead.model_validate(entries.add_attachment(session, scope, entry_id, file))


@router.get(
    "/entries/{entry_id:id}/attachments",
    operation_id="list_ledger_attachments",
    summary="Attachments of an entry",
    response_model=AttachmentList,
    responses=responses(*_common, EntryNotFound),
)
def list_attachments(entry_id: PK, session: SessionDep, scope: ScopeDep) -> AttachmentList:
    rows = entries.list_attachments(session, scope, entry_id)
    return AttachmentList(items=[AttachmentRead.model_validate(r) for r in rows], total=len(rows))


@router.get(
    "/entries/{entry_id:id}/attachments/{file_id:id}",
    operation_id="download_ledger_attachment",
    summary="Download an attachment",
    response_class=FileResponse,
    responses={
        200: DOWNLOAD_RESPONSE,
        **responses(*_common, EntryNotFound, NotFound),
    },
)
def download_attachment(
    entry_id: PK, file_id: PK, session: SessionDep, scope: ScopeDep
) -> FileResponse:
    row = entries.get_attachment(session, scope, entry_id, file_id)
    return FileResponse(path_of(row), media_type=row.content_type, filename=row.filename)


# ---------- compliance ----------


@router.get(
    "/compliance",
    operation_id="ledger_compliance",
    summary="Compliance table: one row per unit × target × period with done, target and state",
    response_model=CompliancePage,
    responses=responses(*_common, UnitNotFound, LedgerInvalid),
)
def compliance_table(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    unit_id: UnitQ = None,
    year: YearQ = None,
    month: MonthQ = None,
    quarter: QuarterQ = None,
    period_kind: Annotated[
        PeriodKind | None, Query(description="Only periods of this kind")
    ] = None,
    state: ComplianceState | None = None,
    item_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    unit_level: UnitLevel | None = None,
) -> CompliancePage:
    r = compliance.report(session, scope, unit_id, year, month, quarter, period_kind)
    rows, total, summary = compliance.compliance_table(
        session, r, state, item_id, unit_level, page.limit, page.offset
    )
    return CompliancePage(items=rows, total=total, summary=summary)


@router.get(
    "/compliance/rollup",
    operation_id="ledger_compliance_rollup",
    summary="Roll-up of states per child unit (or per unit of `level`) and overall",
    response_model=Rollup,
    responses=responses(*_common, UnitNotFound, LedgerInvalid),
)
def compliance_rollup(
    session: SessionDep,
    scope: ScopeDep,
    unit_id: UnitQ = None,
    year: YearQ = None,
    month: MonthQ = None,
    quarter: QuarterQ = None,
    period_kind: PeriodKind | None = None,
    level: Annotated[
        UnitLevel | None, Query(description="Group by units of this level instead of children")
    ] = None,
) -> Rollup:
    r = compliance.report(session, scope, unit_id, year, month, quarter, period_kind)
    overall, groups = compliance.rollup(session, scope, r, level)
    label = r.periods[0].label if len(r.periods) == 1 else str(r.year)
    return Rollup(unit_id=unit_id, year=r.year, period=label, overall=overall, groups=groups)


@router.get(
    "/compliance/due",
    operation_id="ledger_compliance_due",
    summary="What is due soon and what is overdue (earliest deadline first)",
    response_model=CompliancePage,
    responses=responses(*_common, UnitNotFound, LedgerInvalid),
)
def compliance_due(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    unit_id: UnitQ = None,
    year: YearQ = None,
    which: Literal["due_soon", "overdue", "all"] = "all",
    within_days: Annotated[int, Query(ge=0, le=366)] = 7,
) -> CompliancePage:
    r = compliance.report(session, scope, unit_id, year)
    rows, total, summary = compliance.due_list(
        session, r, which, within_days, page.limit, page.offset
    )
    return CompliancePage(items=rows, total=total, summary=summary)


@router.get(
    "/compliance/grid",
    operation_id="ledger_compliance_grid",
    summary="Month × unit grid of monthly duties (children of the unit, or units of `level`)",
    response_model=Grid,
    responses=responses(*_common, UnitNotFound, LedgerInvalid),
)
def compliance_grid(
    session: SessionDep,
    scope: ScopeDep,
    unit_id: UnitQ = None,
    year: YearQ = None,
    level: UnitLevel | None = None,
) -> Grid:
    r = compliance.report(session, scope, unit_id, year, period_kind="month")
    return Grid(unit_id=unit_id, year=r.year, rows=compliance.grid(session, scope, r, level))


@router.get(
    "/compliance/trend",
    operation_id="ledger_compliance_trend",
    summary="Per-month state counts of monthly duties in a unit's subtree (trend chart)",
    response_model=Trend,
    responses=responses(*_common, UnitNotFound, LedgerInvalid),
)
def compliance_trend(
    session: SessionDep, scope: ScopeDep, unit_id: UnitQ = None, year: YearQ = None
) -> Trend:
    r = compliance.report(session, scope, unit_id, year, period_kind="month")
    return Trend(unit_id=unit_id, year=r.year, points=compliance.trend(session, scope, r))


router.include_router(batch_router)

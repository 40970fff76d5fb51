"""HTTP endpoints of documents: forms (Word/PDF), Excel exports and the applicant import,
background document jobs. Binary answers are declared with their media types."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile, status
from fastapi.responses import FileResponse

from demosites.applications.errors import ApplicationNotFound
from demosites.applications.models import Status
from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep, require_roles
from demosites.core.actor import Actor
from demosites.core.db import end_transaction
from demosites.core.errors import (
    Forbidden,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
    responses,
)
from demosites.core.paging import PageDep
from demosites.core.scopes import SCOPE_KEY
from demosites.documents import certificates, compilation, excel, forms, imports, jobs
from demosites.documents.errors import (
    ImportInvalid,
    JobExpired,
    JobNotFound,
    JobNotReady,
    NothingToExport,
    PdfFontsMissing,
    SiteDelisted,
    TooManyItems,
)
from demosites.documents.models import JobStatus
from demosites.documents.render import DOCX, PDF, XLSX
from demosites.documents.schemas import (
    CertificatesBatchRequest,
    DocumentJobPage,
    DocumentJobRead,
    FormsBatchRequest,
    ImportResult,
)
from demosites.files.xlsx import WorkbookInvalid, WorkbookTooLarge, WorkbookTooManyRows
from demosites.rounds.errors import RoundNotFound
from demosites.rounds.models import FieldKind
from demosites.sites.errors import SiteNotFound
from demosites.sites.models import InspectionKind, RectificationStatus, SiteStatus

router = APIRouter(prefix="/api/v1", tags=["documents"], route_class=IdempotentRoute)
RegistrarDep = Annotated[Actor, Depends(require_roles("office", "recommender"))]
OfficeDep = Annotated[Actor, Depends(require_roles("office"))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
_common = (Unauthenticated, Forbidden, ValidationFailed)


def scope(name: str) -> dict[str, Any]:
    """A document needs the scope of what it shows (a service account that may read applications
    may fetch their forms); "" marks routes any authenticated caller may use."""
    return {SCOPE_KEY: name}


def binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {media_type: {}}}}


def attachment(data: bytes, media_type: str, filename: str) -> Response:
    """The file with its name; the UTF-8 form (RFC 6266/5987) carries the Chinese name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        content=data, media_type=media_type, headers={"Content-Disposition": disposition}
    )


# ---- the 申报审批表 ----------------------------------------------------------------------------


@router.get(
    "/applications/{application_id:id}/form.docx",
    operation_id="application_form_docx",
    summary="The 申报审批表 of an application as Word, filled from its history so far",
    response_class=Response,
    responses={**binary(DOCX, "A .docx document"), **responses(*_common, ApplicationNotFound)},
    openapi_extra=scope("applications:read"),
)
def application_form_docx(session: SessionDep, actor: ActorDep, application_id: Id) -> Response:
    return attachment(*forms.one_form(session, actor, application_id, "docx"))


@router.get(
    "/applications/{application_id:id}/form.pdf",
    operation_id="application_form_pdf",
    summary="The 申报审批表 of an application as a printable A4 PDF (CJK font embedded)",
    response_class=Response,
    responses={
        **binary(PDF, "A PDF document"),
        **responses(*_common, ApplicationNotFound, PdfFontsMissing),
    },
    openapi_extra=scope("applications:read"),
)
def application_form_pdf(session: SessionDep, actor: ActorDep, application_id: Id) -> Response:
    return attachment(*forms.one_form(session, actor, application_id, "pdf"))


@router.post(
    "/applications/forms.zip",
    operation_id="start_forms_batch",
    summary="Start a zip of many 申报审批表 (Word and/or PDF) as a background job; poll the job",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentJobRead,
    responses=responses(
        *_common, ApplicationNotFound, NothingToExport, TooManyItems, PdfFontsMissing
    ),
    openapi_extra=scope("applications:read"),
)
def start_forms_batch(
    body: FormsBatchRequest, session: SessionDep, actor: ActorDep, response: Response
) -> DocumentJobRead:
    job = forms.start_batch(session, actor, body)
    response.headers["Location"] = f"/api/v1/document-jobs/{job.id}"
    return jobs.job_read(session, job)


# ---- Excel exports -----------------------------------------------------------------------------


@router.get(
    "/applications/export.xlsx",
    operation_id="export_applications",
    summary="The application list as Excel, with the same filters and data scope as the list",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common, TooManyItems)},
    openapi_extra=scope("applications:read"),
)
def export_applications(
    session: SessionDep,
    actor: ActorDep,
    round_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status: Status | None = None,
    field: FieldKind | None = None,
    recommender_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    priority: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="示范点名称 contains")] = None,
) -> Response:
    filters = {"round_id": round_id, "status": status, "field": field, "recommender_id": recommender_id,
               "priority": priority, "q": q}  # fmt: skip
    return attachment(excel.export_applications(session, actor, filters), XLSX, "申报列表.xlsx")


@router.get(
    "/rounds/{round_id:id}/quotas/export.xlsx",
    operation_id="export_quotas",
    summary="The round's quota board (名额) as Excel",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common, RoundNotFound)},
    openapi_extra=scope("rounds:read"),
)
def export_quotas(session: SessionDep, actor: ActorDep, round_id: Id) -> Response:
    return attachment(excel.export_quotas(session, actor, round_id), XLSX, f"名额-{round_id}.xlsx")


@router.get(
    "/rounds/{round_id:id}/candidates/export.xlsx",
    operation_id="export_candidates",
    summary="The round's candidate list (候选名单: adopted by the review meeting, and the 部务会's decision) as Excel",
    response_class=Response,
    responses={
        **binary(XLSX, "An .xlsx workbook"),
        **responses(*_common, RoundNotFound, TooManyItems),
    },
    openapi_extra=scope("applications:read"),
)
def export_candidates(session: SessionDep, actor: ActorDep, round_id: Id) -> Response:
    data = excel.export_candidates(session, actor, round_id)
    return attachment(data, XLSX, f"候选名单-{round_id}.xlsx")


# ---- the applicant import ---------------------------------------------------------------------


@router.get(
    "/applicants/import-template.xlsx",
    operation_id="applicant_import_template",
    summary="The Excel template for importing applicant units (申报主体) (office, recommender)",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common)},
    openapi_extra=scope("applicants:read"),
)
def applicant_import_template(actor: RegistrarDep) -> Response:
    return attachment(imports.template(), XLSX, "申报主体导入模板.xlsx")


def _applicant_sheet(
    session: SessionDep,
    actor: RegistrarDep,
    file: Annotated[UploadFile, File(description="The filled-in template (.xlsx)")],
) -> list[tuple[int, tuple[Any, ...]]]:
    """Authorised first (401/403 before any parsing), then parsed with no transaction open:
    on SQLite the lock authentication took is released before the workbook is read."""
    end_transaction(session)
    return imports.read_sheet(file.file.read())


@router.post(
    "/applicants/import",
    operation_id="import_applicants",
    summary="Import applicant units from the template: checked whole, imported whole or refused "
    "whole with errors by row and column; existing units (name + city) are skipped",
    response_model=ImportResult,
    responses=responses(
        *_common,
        ImportInvalid,
        PayloadTooLarge,
        WorkbookInvalid,
        WorkbookTooLarge,
        WorkbookTooManyRows,
    ),
    openapi_extra=scope("applicants:write"),
    # Listed here so it runs before the Idempotency-Key claim (which commits with the result).
    dependencies=[Depends(_applicant_sheet)],
)
def import_applicants(
    session: SessionDep,
    actor: RegistrarDep,
    sheet: Annotated[list[tuple[int, tuple[Any, ...]]], Depends(_applicant_sheet)],
) -> ImportResult:
    return imports.import_applicants(session, actor, sheet)


# ---- after the award: certificates, exports, the 创新案例选编 ---------------------------------------

OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
City = Annotated[str | None, Query(max_length=16, pattern=r"^[^\x00]*$")]


@router.get(
    "/sites/{site_id:id}/certificate.pdf",
    operation_id="site_certificate_pdf",
    summary="The certificate (证书) of a site as PDF, with a QR code to the public plaque check",
    response_class=Response,
    responses={
        **binary(PDF, "A PDF document"),
        **responses(*_common, SiteNotFound, SiteDelisted, PdfFontsMissing),
    },
    openapi_extra=scope("sites:read"),
)
def site_certificate_pdf(session: SessionDep, actor: ActorDep, site_id: Id) -> Response:
    return attachment(*certificates.one_certificate(session, actor, site_id))


@router.post(
    "/sites/certificates.pdf",
    operation_id="start_certificates_batch",
    summary="Start one PDF of many sites' certificates as a background job; poll the job",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentJobRead,
    responses=responses(
        *_common, SiteNotFound, SiteDelisted, NothingToExport, TooManyItems, PdfFontsMissing
    ),
    openapi_extra=scope("sites:read"),
)
def start_certificates_batch(
    body: CertificatesBatchRequest, session: SessionDep, actor: ActorDep, response: Response
) -> DocumentJobRead:
    job = certificates.start_batch(session, actor, body)
    response.headers["Location"] = f"/api/v1/document-jobs/{job.id}"
    return jobs.job_read(session, job)


@router.get(
    "/sites/export.xlsx",
    operation_id="export_sites",
    summary="The site list as Excel, with the same filters and data scope as the list",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common, TooManyItems)},
    openapi_extra=scope("sites:read"),
)
def export_sites(
    session: SessionDep, actor: ActorDep, round_id: OptId = None, status: SiteStatus | None = None,
    city: City = None, field: FieldKind | None = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Name contains")] = None,
) -> Response:  # fmt: skip
    filters = {"round_id": round_id, "status": status, "city": city, "field": field, "q": q}
    return attachment(excel.export_sites(session, actor, filters), XLSX, "示范点.xlsx")


@router.get(
    "/inspections/export.xlsx",
    operation_id="export_inspections",
    summary="Inspections and reviews (检查/复核) as Excel, with the same filters and scope as the list",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common, TooManyItems)},
    openapi_extra=scope("sites:read"),
)
def export_inspections(
    session: SessionDep, actor: ActorDep, year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
    kind: InspectionKind | None = None, site_id: OptId = None,
    recorded: Annotated[bool | None, Query(description="true: outcome recorded; false: still open")] = None,
) -> Response:  # fmt: skip
    filters = {"year": year, "kind": kind, "site_id": site_id, "recorded": recorded}
    return attachment(excel.export_inspections(session, actor, filters), XLSX, "检查复核.xlsx")


@router.get(
    "/rectifications/export.xlsx",
    operation_id="export_rectifications",
    summary="Rectifications (限期整改) of the sites the caller may see, as Excel",
    response_class=Response,
    responses={**binary(XLSX, "An .xlsx workbook"), **responses(*_common, TooManyItems)},
    openapi_extra=scope("sites:read"),
)
def export_rectifications(
    session: SessionDep, actor: ActorDep, status: RectificationStatus | None = None, site_id: OptId = None,
    overdue: bool | None = None,
) -> Response:  # fmt: skip
    filters = {"status": status, "site_id": site_id, "overdue": overdue}
    return attachment(excel.export_rectifications(session, actor, filters), XLSX, "限期整改.xlsx")


@router.post(
    "/rounds/{round_id:id}/compilation.docx",
    operation_id="start_compilation",
    summary="Start the round's 创新案例选编 (.docx: cover, contents, sites by field with deeds and "
    "publicity) as a background job (office)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentJobRead,
    responses=responses(*_common, RoundNotFound, NothingToExport),
    openapi_extra=scope("sites:read"),
)
def start_compilation(
    session: SessionDep, actor: OfficeDep, round_id: Id, response: Response
) -> DocumentJobRead:
    job = compilation.start(session, actor, round_id)
    response.headers["Location"] = f"/api/v1/document-jobs/{job.id}"
    return jobs.job_read(session, job)


# ---- document jobs ------------------------------------------------------------------------------


@router.get(
    "/document-jobs",
    operation_id="list_document_jobs",
    summary="The background exports you started, newest first, each as GET /document-jobs/{job_id} "
    "answers it (a finished one's file is kept DOCUMENT_JOB_RETENTION_DAYS days, then expired)",
    response_model=DocumentJobPage,
    responses=responses(*_common),
    openapi_extra=scope(""),
)
def list_document_jobs(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    status: Annotated[
        JobStatus | None,
        Query(description="Only jobs in this state, as each item reports it", examples=["done"]),
    ] = None,
) -> DocumentJobPage:
    return jobs.list_jobs(session, actor, page.limit, page.offset, status)


@router.get(
    "/document-jobs/{job_id:id}",
    operation_id="get_document_job",
    summary="A background export you started: status, progress, error, download link",
    response_model=DocumentJobRead,
    responses=responses(*_common, JobNotFound),
    openapi_extra=scope(""),
)
def get_document_job(session: SessionDep, actor: ActorDep, job_id: Id) -> DocumentJobRead:
    return jobs.read_job(session, actor, job_id)


@router.get(
    "/document-jobs/{job_id:id}/file",
    operation_id="download_document_job",
    summary="Download the file of a finished background export (410 once it has expired)",
    response_class=FileResponse,
    responses={
        200: {"description": "The file", "content": {"application/zip": {}, PDF: {}, DOCX: {}}},
        **responses(*_common, JobNotFound, JobNotReady, JobExpired),
    },
    openapi_extra=scope(""),
)
def download_document_job(session: SessionDep, actor: ActorDep, job_id: Id) -> FileResponse:
    path, row = jobs.result(session, actor, job_id)
    return FileResponse(path, media_type=row.content_type, filename=row.filename)

"""HTTP endpoints after the award: sites, inspections, rectification, publicity, 公示 (office)
and the public pages (no login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse

from demosites.applications.errors import ConflictOfInterest, OutsidePhase
from demosites.audit.schemas import HistoryPage, HistoryRead
from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep, client_ip, require_roles
from demosites.core.actor import Actor
from demosites.core.concurrency import IfMatchDep, set_etag
from demosites.core.errors import (
    Forbidden,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthenticated,
    ValidationFailed,
    responses,
)
from demosites.core.paging import PageDep
from demosites.core.retry import RetryRoute
from demosites.core.scopes import SCOPE_KEY
from demosites.files.errors import FileNotFound
from demosites.files.service import DOWNLOAD_RESPONSE
from demosites.rounds.errors import RoundNotFound
from demosites.rounds.models import FieldKind
from demosites.sites import notices, public, service
from demosites.sites.errors import (
    DeadlinePassed,
    DelistNotAllowed,
    InspectionExists,
    InspectionNotFound,
    InspectionRecorded,
    InvalidDeadline,
    NoReport,
    NothingToNotify,
    NoticeClosed,
    NoticeExists,
    NoticeNotFound,
    ObjectionDecided,
    ObjectionNotFound,
    ObjectionRateLimited,
    PlaqueNotFound,
    RectificationNotFound,
    ReportPending,
    SiteNotFound,
)
from demosites.sites.models import InspectionKind, ObjectionStatus, SiteStatus
from demosites.sites.schemas import (
    CampaignCreate,
    CampaignResult,
    EvidencePage,
    EvidenceRead,
    InspectionCreate,
    InspectionPage,
    InspectionRead,
    InspectorsUpdate,
    NoticeCreate,
    NoticeRead,
    NoticeUpdate,
    ObjectionCreate,
    ObjectionPage,
    ObjectionRead,
    ObjectionReceipt,
    ObjectionResult,
    PlaqueVerification,
    PublicityCreate,
    PublicityPage,
    PublicityRead,
    PublicNoticePage,
    PublicRoundPage,
    PublicSitePage,
    RectificationPage,
    Reminders,
    SitePage,
    SiteRead,
    SiteTransitionRequest,
)
from demosites.statemachine.errors import InvalidTransition

router = APIRouter(prefix="/api/v1", tags=["sites"], route_class=IdempotentRoute)
notice_router = APIRouter(prefix="/api/v1", tags=["notices"], route_class=IdempotentRoute)
# No login and no scope: anyone reads the list, checks a plaque and files an objection.
public_router = APIRouter(prefix="/api/v1/public", tags=["public"], route_class=RetryRoute)
_NO_SCOPE = {SCOPE_KEY: ""}

OfficeDep = Annotated[Actor, Depends(require_roles("office"))]
SiteWriterDep = Annotated[Actor, Depends(require_roles("office", "applicant"))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Year = Annotated[int | None, Query(ge=2000, le=2200)]
City = Annotated[str | None, Query(max_length=16, pattern=r"^[^\x00]*$")]
_common = (Unauthenticated, Forbidden, ValidationFailed)
_transition_errors = (
    SiteNotFound, InvalidTransition, PreconditionFailed, InspectionNotFound, InspectionRecorded, InvalidDeadline,
    DelistNotAllowed, NoReport, ReportPending, DeadlinePassed,
)  # fmt: skip


# ---- sites -------------------------------------------------------------------------------------


@router.get(
    "/sites",
    operation_id="list_sites",
    summary="List the demonstration sites the caller may see, with allowed actions",
    response_model=SitePage,
    responses=responses(*_common),
)
def list_sites(
    session: SessionDep, actor: ActorDep, page: PageDep, round_id: OptId = None, status: SiteStatus | None = None,
    city: City = None, field: FieldKind | None = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Name contains")] = None,
) -> SitePage:  # fmt: skip
    filters = {"round_id": round_id, "status": status, "city": city, "field": field, "q": q}
    items, total = service.list_sites(session, actor, filters, page.limit, page.offset)
    return SitePage(items=items, total=total)


@router.get(
    "/sites/reminders",
    operation_id="site_reminders",
    summary="What the office must chase: not yet inspected this year, due within 14 days, overdue",
    response_model=Reminders,
    responses=responses(*_common),
)
def site_reminders(session: SessionDep, actor: OfficeDep, year: Year = None) -> Reminders:
    return service.reminders(session, actor, year)


@router.get(
    "/sites/{site_id:id}",
    operation_id="get_site",
    summary="One site with its open rectification and allowed actions (ETag for If-Match)",
    response_model=SiteRead,
    responses=responses(*_common, SiteNotFound),
)
def get_site(session: SessionDep, actor: ActorDep, site_id: Id, response: Response) -> SiteRead:
    read = service.get_site(session, actor, site_id)
    set_etag(response, read.version)
    return read


@router.post(
    "/sites/{site_id:id}/transitions",
    operation_id="transition_site",
    summary="Take one action on a site: pass, rectify, submit_report, accept_report, refuse_report, delist",
    response_model=SiteRead,
    responses=responses(*_common, *_transition_errors),
)
def transition_site(
    body: SiteTransitionRequest, session: SessionDep, actor: ActorDep, site_id: Id, if_match: IfMatchDep,
    response: Response,
) -> SiteRead:  # fmt: skip
    site = service.transition(session, actor, site_id, body, if_match)
    set_etag(response, site.version)
    return service.to_read(session, actor, site)


@router.get(
    "/sites/{site_id:id}/history",
    operation_id="site_history",
    summary="The site's whole history (履历), kept after delisting",
    response_model=HistoryPage,
    responses=responses(*_common, SiteNotFound),
)
def site_history(session: SessionDep, actor: ActorDep, site_id: Id) -> HistoryPage:
    rows = service.history(session, actor, site_id)
    return HistoryPage(items=[HistoryRead.model_validate(h) for h in rows], total=len(rows))


@router.get(
    "/sites/{site_id:id}/inspections",
    operation_id="list_site_inspections",
    summary="A site's inspections (检查) and reviews (复核)",
    response_model=InspectionPage,
    responses=responses(*_common, SiteNotFound),
)
def list_site_inspections(
    session: SessionDep, actor: ActorDep, site_id: Id, page: PageDep
) -> InspectionPage:
    service.readable(session, actor, site_id)
    items, total = service.list_inspections(
        session, actor, {"site_id": site_id}, page.limit, page.offset
    )
    return InspectionPage(items=items, total=total)


@router.post(
    "/sites/{site_id:id}/inspections",
    operation_id="create_inspection",
    summary="Open one inspection or review of a site for a year (office); one of each kind a year",
    status_code=status.HTTP_201_CREATED,
    response_model=InspectionRead,
    responses=responses(
        *_common, SiteNotFound, InspectionExists, InvalidTransition, ConflictOfInterest
    ),
)
def create_inspection(
    body: InspectionCreate, session: SessionDep, actor: OfficeDep, site_id: Id
) -> InspectionRead:
    return service.create_inspection(session, actor, site_id, body)


@router.get(
    "/sites/{site_id:id}/rectifications",
    operation_id="list_rectifications",
    summary="A site's rectifications (限期整改) with deadlines, reports and decisions",
    response_model=RectificationPage,
    responses=responses(*_common, SiteNotFound),
)
def list_rectifications(session: SessionDep, actor: ActorDep, site_id: Id) -> RectificationPage:
    items = service.list_rectifications(session, actor, site_id)
    return RectificationPage(items=items, total=len(items))


@router.get(
    "/sites/{site_id:id}/rectifications/{rectification_id:id}/evidence",
    operation_id="list_rectification_evidence",
    summary="Evidence files of a rectification report",
    response_model=EvidencePage,
    responses=responses(*_common, SiteNotFound, RectificationNotFound),
)
def list_rectification_evidence(
    session: SessionDep, actor: ActorDep, site_id: Id, rectification_id: Id
) -> EvidencePage:
    items = service.list_evidence(session, actor, site_id, rectification_id)
    return EvidencePage(items=items, total=len(items))


@router.post(
    "/sites/{site_id:id}/rectifications/{rectification_id:id}/evidence",
    operation_id="upload_rectification_evidence",
    summary="Upload rectification evidence (the site's own people): PDF, DOCX, DOC, JPG or PNG",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceRead,
    responses=responses(
        *_common, SiteNotFound, RectificationNotFound, NoReport, DeadlinePassed, PayloadTooLarge
    ),
)
def upload_rectification_evidence(
    session: SessionDep, actor: ActorDep, site_id: Id, rectification_id: Id,
    file: Annotated[UploadFile, File(description="PDF, DOCX, DOC, JPG or PNG")],
) -> EvidenceRead:  # fmt: skip
    return service.upload_evidence(session, actor, site_id, rectification_id, file)


@router.get(
    "/sites/{site_id:id}/rectifications/{rectification_id:id}/evidence/{file_id:id}",
    operation_id="download_rectification_evidence",
    summary="Download one evidence file (only for those who may see the site)",
    response_class=FileResponse,
    responses={
        200: DOWNLOAD_RESPONSE,
        **responses(*_common, SiteNotFound, RectificationNotFound, FileNotFound),
    },
)
def download_rectification_evidence(
    session: SessionDep, actor: ActorDep, site_id: Id, rectification_id: Id, file_id: Id
) -> FileResponse:
    path, row = service.evidence_file(session, actor, site_id, rectification_id, file_id)
    return FileResponse(path, media_type=row.content_type, filename=row.filename)


@router.get(
    "/sites/{site_id:id}/publicity",
    operation_id="list_publicity",
    summary="A site's publicity (宣传推介): forums and media reports",
    response_model=PublicityPage,
    responses=responses(*_common, SiteNotFound),
)
def list_publicity(session: SessionDep, actor: ActorDep, site_id: Id) -> PublicityPage:
    items = service.list_publicity(session, actor, site_id)
    return PublicityPage(items=items, total=len(items))


@router.post(
    "/sites/{site_id:id}/publicity",
    operation_id="add_publicity",
    summary="Record a forum participation or a media report (office or the site's own people)",
    status_code=status.HTTP_201_CREATED,
    response_model=PublicityRead,
    responses=responses(*_common, SiteNotFound),
)
def add_publicity(
    body: PublicityCreate, session: SessionDep, actor: SiteWriterDep, site_id: Id
) -> PublicityRead:
    return service.add_publicity(session, actor, site_id, body)


# ---- inspections --------------------------------------------------------------------------------


@router.get(
    "/inspections",
    operation_id="list_inspections",
    summary="Inspections and reviews of the sites the caller may see",
    response_model=InspectionPage,
    responses=responses(*_common),
)
def list_inspections(
    session: SessionDep, actor: ActorDep, page: PageDep, year: Year = None, kind: InspectionKind | None = None,
    site_id: OptId = None,
    recorded: Annotated[bool | None, Query(description="true: outcome recorded; false: still open")] = None,
) -> InspectionPage:  # fmt: skip
    filters = {"year": year, "kind": kind, "site_id": site_id, "recorded": recorded}
    items, total = service.list_inspections(session, actor, filters, page.limit, page.offset)
    return InspectionPage(items=items, total=total)


@router.post(
    "/inspections/campaigns",
    operation_id="open_inspection_campaign",
    summary="Open the year's inspection or review for every site holding a plaque (office)",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignResult,
    responses=responses(*_common, ConflictOfInterest),
)
def open_inspection_campaign(
    body: CampaignCreate, session: SessionDep, actor: OfficeDep
) -> CampaignResult:
    items, skipped = service.open_campaign(session, actor, body)
    return CampaignResult(created=len(items), skipped=skipped, items=items)


@router.put(
    "/inspections/{inspection_id:id}/inspectors",
    operation_id="assign_inspectors",
    summary="Name the inspectors of an open inspection (office)",
    response_model=InspectionRead,
    responses=responses(*_common, InspectionNotFound, InspectionRecorded, ConflictOfInterest),
)
def assign_inspectors(
    body: InspectorsUpdate, session: SessionDep, actor: OfficeDep, inspection_id: Id
) -> InspectionRead:
    return service.assign_inspectors(session, actor, inspection_id, body.user_ids)


# ---- public notice (公示), office side ----------------------------------------------------------


@notice_router.get(
    "/rounds/{round_id:id}/public-notice",
    operation_id="get_public_notice",
    summary="The round's public notice (公示) with its list and open objections (office)",
    response_model=NoticeRead,
    responses=responses(*_common, RoundNotFound, NoticeNotFound),
)
def get_public_notice(
    session: SessionDep, actor: OfficeDep, round_id: Id, response: Response
) -> NoticeRead:
    n = notices.get_notice(session, round_id)
    set_etag(response, n.version)
    return notices.notice_read(session, n)


@notice_router.post(
    "/rounds/{round_id:id}/public-notice",
    operation_id="open_public_notice",
    summary="Open the public notice of the round's approved list for N working days (office)",
    status_code=status.HTTP_201_CREATED,
    response_model=NoticeRead,
    responses=responses(*_common, RoundNotFound, NoticeExists, NothingToNotify),
)
def open_public_notice(
    body: NoticeCreate, session: SessionDep, actor: OfficeDep, round_id: Id
) -> NoticeRead:
    return notices.notice_read(session, notices.open_notice(session, actor, round_id, body))


@notice_router.patch(
    "/rounds/{round_id:id}/public-notice",
    operation_id="update_public_notice",
    summary="Switch the round's public notice on or off, with a reason (office)",
    response_model=NoticeRead,
    responses=responses(*_common, RoundNotFound, NoticeNotFound, PreconditionFailed),
)
def update_public_notice(
    body: NoticeUpdate,
    session: SessionDep,
    actor: OfficeDep,
    round_id: Id,
    if_match: IfMatchDep,
    response: Response,
) -> NoticeRead:
    n = notices.update_notice(session, actor, round_id, body, if_match)
    set_etag(response, n.version)
    return notices.notice_read(session, n)


@notice_router.get(
    "/rounds/{round_id:id}/public-notice/objections",
    operation_id="list_objections",
    summary="Objections (异议) filed against the round's notice (office)",
    response_model=ObjectionPage,
    responses=responses(*_common, RoundNotFound, NoticeNotFound),
)
def list_objections(
    session: SessionDep, actor: OfficeDep, round_id: Id, status: ObjectionStatus | None = None
) -> ObjectionPage:
    items = notices.list_objections(session, round_id, status)
    return ObjectionPage(items=items, total=len(items))


@notice_router.post(
    "/objections/{objection_id:id}/result",
    operation_id="decide_objection",
    summary="Record the investigation and result of an objection; upheld ends the application (office)",
    response_model=ObjectionRead,
    responses=responses(
        *_common, ObjectionNotFound, ObjectionDecided, InvalidTransition, OutsidePhase
    ),
)
def decide_objection(
    body: ObjectionResult, session: SessionDep, actor: OfficeDep, objection_id: Id
) -> ObjectionRead:
    return notices.decide_objection(session, actor, objection_id, body)


# ---- public (no login) --------------------------------------------------------------------------


@public_router.get(
    "/sites",
    operation_id="public_list_sites",
    summary="The public list of demonstration sites holding a plaque (no login)",
    response_model=PublicSitePage,
    responses=responses(ValidationFailed),
    openapi_extra=_NO_SCOPE,
)
def public_list_sites(
    session: SessionDep,
    page: PageDep,
    round_id: OptId = None,
    city: City = None,
    field: FieldKind | None = None,
) -> PublicSitePage:
    items, total = public.list_sites(
        session, {"round_id": round_id, "city": city, "field": field}, page.limit, page.offset
    )
    return PublicSitePage(items=items, total=total)


@public_router.get(
    "/rounds",
    operation_id="public_list_rounds",
    summary="Rounds with published demonstration sites, newest first, for the public list's filter (no login)",
    response_model=PublicRoundPage,
    responses=responses(ValidationFailed),
    openapi_extra=_NO_SCOPE,
)
def public_list_rounds(session: SessionDep) -> PublicRoundPage:
    items = public.rounds_with_sites(session)
    return PublicRoundPage(items=items, total=len(items))


@public_router.get(
    "/plaques/{plaque_no}",
    operation_id="verify_plaque",
    summary="Verify a plaque number (the certificate's QR code): the site and whether it is active",
    response_model=PlaqueVerification,
    responses=responses(PlaqueNotFound, ValidationFailed),
    openapi_extra=_NO_SCOPE,
)
def verify_plaque(
    session: SessionDep,
    plaque_no: Annotated[
        str,
        Path(
            min_length=1, max_length=64, pattern=r"^[^\x00]+$", examples=["皖思政示范〔2025〕001号"]
        ),
    ],
) -> PlaqueVerification:
    return public.verify_plaque(session, plaque_no)


@public_router.get(
    "/notices",
    operation_id="public_list_notices",
    summary="Running public notices (公示) with their approved lists (no login)",
    response_model=PublicNoticePage,
    responses=responses(ValidationFailed),
    openapi_extra=_NO_SCOPE,
)
def public_list_notices(session: SessionDep) -> PublicNoticePage:
    items = public.running_notices(session)
    return PublicNoticePage(items=items, total=len(items))


@public_router.post(
    "/notices/{notice_id:id}/objections",
    operation_id="file_objection",
    summary="File an objection (异议) to an application on a running notice (no login; rate-limited)",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionReceipt,
    responses=responses(ValidationFailed, NoticeNotFound, NoticeClosed, ObjectionRateLimited),
    openapi_extra=_NO_SCOPE,
)
def file_objection(
    body: ObjectionCreate, session: SessionDep, notice_id: Id, request: Request
) -> ObjectionReceipt:
    o = notices.file_objection(session, notice_id, body, client_ip(request) or "unknown")
    return ObjectionReceipt(id=o.id or 0, received_at=o.created_at)


ROUTERS = [router, notice_router, public_router]

"""HTTP endpoints of applications (申报): the form, transitions, history, assessors, materials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile, status
from fastapi.responses import FileResponse

from demosites.applicants.errors import ApplicantNotFound
from demosites.applications import phase_exceptions, service
from demosites.applications.errors import (
    ApplicationNotFound,
    ConflictOfInterest,
    DuplicateApplication,
    FormIncomplete,
    NotAnAssessor,
    NotEligible,
    OutsidePhase,
    QuotaExceeded,
)
from demosites.applications.models import Status
from demosites.applications.schemas import (
    ApplicationCreate,
    ApplicationPage,
    ApplicationRead,
    ApplicationSummaryPage,
    ApplicationUpdate,
    AssessorPage,
    AssessorsUpdate,
    BatchTransitionRequest,
    MaterialPage,
    MaterialPurpose,
    MaterialRead,
    PhaseExceptionCreate,
    PhaseExceptionRead,
    RoundStats,
    TransitionRequest,
)
from demosites.audit.schemas import HistoryPage, HistoryRead
from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep, require_roles
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
from demosites.files.errors import FileNotFound
from demosites.files.service import DOWNLOAD_RESPONSE
from demosites.rounds.errors import MeetingNotFound, RoundNotFound
from demosites.rounds.models import FieldKind
from demosites.statemachine.errors import InvalidTransition

router = APIRouter(prefix="/api/v1", tags=["applications"], route_class=IdempotentRoute)
# A round's phase exceptions and dashboard counts: under /rounds and tagged so (scope rounds:*),
# here because they are about the round's applications (rounds know nothing of applications).
round_router = APIRouter(prefix="/api/v1", tags=["rounds"], route_class=IdempotentRoute)
FilerDep = Annotated[Actor, Depends(require_roles("applicant", "recommender", "office"))]
EditorDep = Annotated[Actor, Depends(require_roles("applicant", "recommender"))]
OfficeDep = Annotated[Actor, Depends(require_roles("office"))]
AppId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_common = (Unauthenticated, Forbidden, ValidationFailed)
_transition_errors = (
    ApplicationNotFound, InvalidTransition, OutsidePhase, QuotaExceeded, NotEligible,
    ConflictOfInterest, FormIncomplete, MeetingNotFound, PreconditionFailed,
)  # fmt: skip


@router.get(
    "/applications",
    operation_id="list_applications",
    summary="List the applications the caller may see (priority first), with allowed actions",
    response_model=ApplicationSummaryPage,
    responses=responses(*_common),
)
def list_applications(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    round_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status: Status | None = None,
    field: FieldKind | None = None,
    recommender_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    priority: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="示范点名称 contains")] = None,
) -> Response:
    filters = {"round_id": round_id, "status": status, "field": field, "recommender_id": recommender_id,
               "priority": priority, "q": q}  # fmt: skip
    # Validated as a whole page in the service: sent without a second pass.
    body = service.list_page_json(session, actor, filters, page.limit, page.offset)
    return Response(body, media_type="application/json")


@router.post(
    "/applications",
    operation_id="create_application",
    summary="File a draft application (applicant for its unit; recommender or office on its behalf)",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationRead,
    responses=responses(
        *_common, RoundNotFound, ApplicantNotFound, NotEligible, DuplicateApplication, OutsidePhase
    ),
)
def create_application(
    body: ApplicationCreate, session: SessionDep, actor: FilerDep, response: Response
) -> ApplicationRead:
    app = service.create_application(session, actor, body)
    set_etag(response, app.version)
    response.headers["Location"] = f"/api/v1/applications/{app.id}"
    return service.to_read(session, actor, app)


@router.post(
    "/applications/transitions",
    operation_id="transition_applications",
    summary="Take one action on a list of applications, all or nothing (office, meetings)",
    response_model=ApplicationPage,
    responses=responses(*_common, *_transition_errors),
)
def transition_applications(
    body: BatchTransitionRequest, session: SessionDep, actor: ActorDep
) -> ApplicationPage:
    apps = service.transition_batch(session, actor, body)
    return ApplicationPage(items=service.to_reads(session, actor, apps), total=len(apps))


@router.get(
    "/applications/{application_id:id}",
    operation_id="get_application",
    summary="One application with its opinions and allowed actions (ETag for If-Match)",
    response_model=ApplicationRead,
    responses=responses(*_common, ApplicationNotFound),
)
def get_application(
    session: SessionDep, actor: ActorDep, application_id: AppId, response: Response
) -> ApplicationRead:
    read = service.get_application(session, actor, application_id)
    set_etag(response, read.version)
    return read


@router.patch(
    "/applications/{application_id:id}",
    operation_id="update_application",
    summary="Edit the form (the unit while draft; its recommender while draft or submitted)",
    response_model=ApplicationRead,
    responses=responses(
        *_common,
        ApplicationNotFound,
        InvalidTransition,
        OutsidePhase,
        NotEligible,
        PreconditionFailed,
    ),
)
def update_application(
    body: ApplicationUpdate, session: SessionDep, actor: EditorDep, application_id: AppId,
    if_match: IfMatchDep, response: Response,
) -> ApplicationRead:  # fmt: skip
    app = service.update_application(session, actor, application_id, body, if_match)
    set_etag(response, app.version)
    return service.to_read(session, actor, app)


@router.post(
    "/applications/{application_id:id}/transitions",
    operation_id="transition_application",
    summary="Take one action of the stage machine (submit, recommend, …, award)",
    response_model=ApplicationRead,
    responses=responses(*_common, *_transition_errors),
)
def transition_application(
    body: TransitionRequest, session: SessionDep, actor: ActorDep, application_id: AppId,
    if_match: IfMatchDep, response: Response,
) -> ApplicationRead:  # fmt: skip
    app = service.transition(session, actor, application_id, body, if_match)
    set_etag(response, app.version)
    return service.to_read(session, actor, app)


@router.get(
    "/applications/{application_id:id}/history",
    operation_id="application_history",
    summary="The application's history (履历): every step with actor, role, time and opinion",
    response_model=HistoryPage,
    responses=responses(*_common, ApplicationNotFound),
)
def application_history(session: SessionDep, actor: ActorDep, application_id: AppId) -> HistoryPage:
    rows = service.history(session, actor, application_id)
    return HistoryPage(items=[HistoryRead.model_validate(h) for h in rows], total=len(rows))


@router.put(
    "/applications/{application_id:id}/assessors",
    operation_id="assign_assessors",
    summary="Name the assessment team (考核组) of an application (office)",
    response_model=ApplicationRead,
    responses=responses(
        *_common,
        ApplicationNotFound,
        InvalidTransition,
        NotAnAssessor,
        ConflictOfInterest,
        PreconditionFailed,
    ),
)
def assign_assessors(
    body: AssessorsUpdate, session: SessionDep, actor: OfficeDep, application_id: AppId,
    if_match: IfMatchDep, response: Response,
) -> ApplicationRead:  # fmt: skip
    app = service.assign_assessors(session, actor, application_id, body.user_ids, if_match)
    set_etag(response, app.version)
    return service.to_read(session, actor, app)


@router.get(
    "/assessors",
    operation_id="list_assessors",
    summary="Active assessors (考核人员) with their organisation; with application_id, whether each must stand aside (回避) (office)",
    response_model=AssessorPage,
    responses=responses(*_common, ApplicationNotFound),
)
def list_assessors(
    session: SessionDep,
    actor: OfficeDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=100, description="Name, username or organisation contains")
    ] = None,
    organization_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, examples=[3])] = None,
    application_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**31 - 1,
            examples=[12],
            description="Say conflict_of_interest for this application",
        ),
    ] = None,
) -> AssessorPage:
    items, total = service.list_assessors(
        session, actor, q, organization_id, application_id, page.limit, page.offset
    )
    return AssessorPage(items=items, total=total)


@router.get(
    "/applications/{application_id:id}/materials",
    operation_id="list_materials",
    summary="The application's materials (deeds, form scan, priority evidence)",
    response_model=MaterialPage,
    responses=responses(*_common, ApplicationNotFound),
)
def list_materials(session: SessionDep, actor: ActorDep, application_id: AppId) -> MaterialPage:
    items = service.list_materials(session, actor, application_id)
    return MaterialPage(items=items, total=len(items))


@router.post(
    "/applications/{application_id:id}/materials",
    operation_id="upload_material",
    summary="Upload a material: PDF, DOCX, DOC, JPG or PNG, judged by content; size limited",
    status_code=status.HTTP_201_CREATED,
    response_model=MaterialRead,
    responses=responses(
        *_common, ApplicationNotFound, InvalidTransition, OutsidePhase, PayloadTooLarge
    ),
)
def upload_material(
    session: SessionDep,
    actor: EditorDep,
    application_id: AppId,
    file: Annotated[UploadFile, File(description="PDF, DOCX, DOC, JPG or PNG")],
    purpose: Annotated[MaterialPurpose, Form()] = MaterialPurpose.deeds,
) -> MaterialRead:
    return service.upload_material(session, actor, application_id, file, purpose)


@router.get(
    "/applications/{application_id:id}/materials/{file_id:id}",
    operation_id="download_material",
    summary="Download a material (only for those who may see the application)",
    response_class=FileResponse,
    responses={
        200: DOWNLOAD_RESPONSE,
        **responses(*_common, ApplicationNotFound, FileNotFound),
    },
)
def download_material(
    session: SessionDep, actor: ActorDep, application_id: AppId,
    file_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> FileResponse:  # fmt: skip
    path, row = service.material_file(session, actor, application_id, file_id)
    return FileResponse(path, media_type=row.content_type, filename=row.filename)


# ---- a round's phase exceptions and dashboard counts ------------------------------------------


@round_router.post(
    "/rounds/{round_id:id}/exceptions",
    operation_id="create_phase_exception",
    summary="Allow one action outside its window on one date, with a reason (office, audited)",
    status_code=status.HTTP_201_CREATED,
    response_model=PhaseExceptionRead,
    responses=responses(*_common, RoundNotFound, ApplicationNotFound),
)
def create_phase_exception(
    body: PhaseExceptionCreate, session: SessionDep, actor: OfficeDep, round_id: RoundId
) -> PhaseExceptionRead:
    return PhaseExceptionRead.model_validate(
        phase_exceptions.record_exception(session, actor, round_id, body)
    )


@round_router.get(
    "/rounds/{round_id:id}/exceptions",
    operation_id="list_phase_exceptions",
    summary="The round's phase exceptions (office)",
    response_model=list[PhaseExceptionRead],
    responses=responses(*_common, RoundNotFound),
)
def list_phase_exceptions(
    session: SessionDep, actor: OfficeDep, round_id: RoundId
) -> list[PhaseExceptionRead]:
    return [
        PhaseExceptionRead.model_validate(e)
        for e in phase_exceptions.list_exceptions(session, round_id)
    ]


@round_router.get(
    "/rounds/{round_id:id}/stats",
    operation_id="round_stats",
    summary="Dashboard counts of the round's applications by status, city and field (office)",
    response_model=RoundStats,
    responses=responses(*_common, RoundNotFound),
)
def round_stats(session: SessionDep, actor: OfficeDep, round_id: RoundId) -> RoundStats:
    return service.round_stats(session, round_id)

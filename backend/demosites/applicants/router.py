"""HTTP endpoints of applicant units (申报主体)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from demosites.applicants import service
from demosites.applicants.errors import ApplicantNotFound, DuplicateOrganizationCode
from demosites.applicants.models import ApplicantKind
from demosites.applicants.schemas import ApplicantCreate, ApplicantPage, ApplicantRead
from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep, require_roles
from demosites.core.actor import Actor
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.paging import PageDep
from demosites.organizations.schemas import City
from demosites.rounds.errors import RoundNotFound
from demosites.rounds.models import FieldKind
from demosites.rounds.schemas import QuotaPage

router = APIRouter(prefix="/api/v1", tags=["applicants"], route_class=IdempotentRoute)
RegistrarDep = Annotated[Actor, Depends(require_roles("office", "recommender"))]
_common = (Unauthenticated, Forbidden, ValidationFailed)


@router.get(
    "/applicants",
    operation_id="list_applicants",
    summary="List applicant units (申报主体) the caller may see",
    response_model=ApplicantPage,
    responses=responses(*_common),
)
def list_applicants(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    city: Annotated[City | None, Query(max_length=16)] = None,
    kind: ApplicantKind | None = None,
    field: FieldKind | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Name contains")] = None,
) -> ApplicantPage:
    items, total = service.list_applicants(
        session, actor, city=city, kind=kind, field=field, q=q, limit=page.limit, offset=page.offset
    )
    return ApplicantPage(items=items, total=total)


@router.post(
    "/applicants",
    operation_id="create_applicant",
    summary="Register an applicant unit with its organisation (office, recommender)",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicantRead,
    responses=responses(*_common, DuplicateOrganizationCode),
)
def create_applicant(
    body: ApplicantCreate, session: SessionDep, actor: RegistrarDep
) -> ApplicantRead:
    return service.create_applicant(session, actor, body)


@router.get(
    "/applicants/{applicant_id:id}",
    operation_id="get_applicant",
    summary="One applicant unit",
    response_model=ApplicantRead,
    responses=responses(*_common, ApplicantNotFound),
)
def get_applicant(
    session: SessionDep, actor: ActorDep, applicant_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> ApplicantRead:
    return service.get_applicant(session, actor, applicant_id)


@router.get(
    "/applicants/{applicant_id:id}/recommenders",
    operation_id="list_applicant_recommenders",
    summary="The recommending bodies (推荐单位) whose quota rules admit this unit in a round, with what is left",
    response_model=QuotaPage,
    responses=responses(*_common, ApplicantNotFound, RoundNotFound),
)
def list_applicant_recommenders(
    session: SessionDep,
    actor: ActorDep,
    applicant_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    round_id: Annotated[int, Query(ge=1, le=2**31 - 1, examples=[2])],
) -> QuotaPage:
    items = service.recommenders_for(session, actor, applicant_id, round_id)
    return QuotaPage(items=items, total=len(items))

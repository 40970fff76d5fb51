"""HTTP endpoints of rounds (创建轮次): calendar, quota board, meetings, history. A round's phase
exceptions and its dashboard counts are about its applications: applications/router.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from demosites.audit.schemas import HistoryPage, HistoryRead
from demosites.auth.deps import ActorDep, IdempotentRoute, SessionDep, require_roles
from demosites.core.actor import Actor
from demosites.core.concurrency import IfMatchDep, set_etag
from demosites.core.errors import (
    Forbidden,
    PreconditionFailed,
    Unauthenticated,
    ValidationFailed,
    responses,
)
from demosites.core.paging import PageDep
from demosites.rounds import service
from demosites.rounds.errors import (
    DuplicateQuota,
    DuplicateRound,
    InvalidWindows,
    NotARecommender,
    QuotaNotFound,
    QuotaRulesLocked,
    ReasonRequired,
    RoundNotFound,
)
from demosites.rounds.schemas import (
    MeetingCreate,
    MeetingPage,
    MeetingRead,
    QuotaCreate,
    QuotaPage,
    QuotaRead,
    QuotaUpdate,
    RoundCreate,
    RoundPage,
    RoundRead,
    RoundUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["rounds"], route_class=IdempotentRoute)
OfficeDep = Annotated[Actor, Depends(require_roles("office"))]
MeetingReaderDep = Annotated[Actor, Depends(require_roles("office", "committee", "approver"))]
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_common = (Unauthenticated, Forbidden, ValidationFailed)


@router.get(
    "/rounds",
    operation_id="list_rounds",
    summary="List rounds, newest first",
    response_model=RoundPage,
    responses=responses(*_common),
)
def list_rounds(session: SessionDep, actor: ActorDep, page: PageDep) -> RoundPage:
    rows, total = service.list_rounds(session, page.limit, page.offset)
    return RoundPage(items=[service.round_read(r) for r in rows], total=total)


@router.post(
    "/rounds",
    operation_id="create_round",
    summary="Create a round with the notice's default quota rules (office)",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundRead,
    responses=responses(*_common, DuplicateRound, InvalidWindows),
)
def create_round(
    body: RoundCreate, session: SessionDep, actor: OfficeDep, response: Response
) -> RoundRead:
    r = service.create_round(session, actor, body)
    set_etag(response, r.version)
    response.headers["Location"] = f"/api/v1/rounds/{r.id}"
    return service.round_read(r)


@router.get(
    "/rounds/{round_id:id}",
    operation_id="get_round",
    summary="One round with its current phase",
    response_model=RoundRead,
    responses=responses(*_common, RoundNotFound),
)
def get_round(
    session: SessionDep, actor: ActorDep, round_id: RoundId, response: Response
) -> RoundRead:
    r = service.get_round(session, round_id)
    set_etag(response, r.version)
    return service.round_read(r)


@router.patch(
    "/rounds/{round_id:id}",
    operation_id="update_round",
    summary="Rename a round or move its windows, with a reason (office)",
    response_model=RoundRead,
    responses=responses(
        *_common, RoundNotFound, InvalidWindows, ReasonRequired, PreconditionFailed
    ),
)
def update_round(
    body: RoundUpdate, session: SessionDep, actor: OfficeDep, round_id: RoundId, if_match: IfMatchDep,
    response: Response,
) -> RoundRead:  # fmt: skip
    r = service.update_round(session, actor, round_id, body, if_match)
    set_etag(response, r.version)
    return service.round_read(r)


@router.get(
    "/rounds/{round_id:id}/quotas",
    operation_id="list_quotas",
    summary="The quota board: every recommender × field with limit, used and left",
    response_model=QuotaPage,
    responses=responses(*_common, RoundNotFound),
)
def list_quotas(session: SessionDep, actor: ActorDep, round_id: RoundId) -> QuotaPage:
    items = service.quota_board(session, round_id)
    return QuotaPage(items=items, total=len(items))


@router.post(
    "/rounds/{round_id:id}/quotas",
    operation_id="create_quota",
    summary="Add a quota rule before the application window opens (office)",
    status_code=status.HTTP_201_CREATED,
    response_model=QuotaRead,
    responses=responses(*_common, RoundNotFound, QuotaRulesLocked, DuplicateQuota, NotARecommender),
)
def create_quota(
    body: QuotaCreate, session: SessionDep, actor: OfficeDep, round_id: RoundId
) -> QuotaRead:
    return service.create_quota(session, actor, round_id, body)


@router.patch(
    "/rounds/{round_id:id}/quotas/{quota_id:id}",
    operation_id="update_quota",
    summary="Change a quota rule's limit or eligibility before the application window opens (office)",
    response_model=QuotaRead,
    responses=responses(
        *_common, RoundNotFound, QuotaNotFound, QuotaRulesLocked, PreconditionFailed
    ),
)
def update_quota(
    body: QuotaUpdate, session: SessionDep, actor: OfficeDep, round_id: RoundId,
    quota_id: Annotated[int, Path(ge=1, le=2**31 - 1)], if_match: IfMatchDep, response: Response,
) -> QuotaRead:  # fmt: skip
    q = service.update_quota(session, actor, round_id, quota_id, body, if_match)
    set_etag(response, q.version)
    return q


@router.get(
    "/rounds/{round_id:id}/history",
    operation_id="round_history",
    summary="The round's history: creation, moved windows with reasons, quota changes, exceptions",
    response_model=HistoryPage,
    responses=responses(*_common, RoundNotFound),
)
def round_history(session: SessionDep, actor: OfficeDep, round_id: RoundId) -> HistoryPage:
    rows = service.round_history(session, round_id)
    return HistoryPage(items=[HistoryRead.model_validate(h) for h in rows], total=len(rows))


@router.post(
    "/rounds/{round_id:id}/meetings",
    operation_id="create_meeting",
    summary="Record a review (评审) or approval (部务会) meeting (office)",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingRead,
    responses=responses(*_common, RoundNotFound),
)
def create_meeting(
    body: MeetingCreate, session: SessionDep, actor: OfficeDep, round_id: RoundId
) -> MeetingRead:
    return MeetingRead.model_validate(service.create_meeting(session, actor, round_id, body))


@router.get(
    "/rounds/{round_id:id}/meetings",
    operation_id="list_meetings",
    summary="The round's meetings (office, committee, approver)",
    response_model=MeetingPage,
    responses=responses(*_common, RoundNotFound),
)
def list_meetings(session: SessionDep, actor: MeetingReaderDep, round_id: RoundId) -> MeetingPage:
    rows = service.list_meetings(session, round_id)
    return MeetingPage(items=[MeetingRead.model_validate(m) for m in rows], total=len(rows))

"""Admin endpoints for organisations and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from demosites.auth.deps import SessionDep, client_ip, require_roles
from demosites.core.actor import Actor
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.paging import PageDep
from demosites.core.retry import RetryRoute
from demosites.organizations import service
from demosites.organizations.errors import DuplicateCode, OrganizationNotFound, UnknownCity
from demosites.organizations.models import OrgKind
from demosites.organizations.schemas import (
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    UserContact,
    UserCreate,
    UserPage,
    UserRead,
)
from demosites.security.errors import UserNotFound, WeakPassword

router = APIRouter(prefix="/api/v1", tags=["organizations"], route_class=RetryRoute)
# 三员分立: the system administrator manages organisations and accounts; the security
# administrator reads the user list to grant roles and lock accounts.
SysadminDep = Annotated[Actor, Depends(require_roles("sysadmin"))]
UserListDep = Annotated[Actor, Depends(require_roles("sysadmin", "secadmin"))]
ContactDep = Annotated[Actor, Depends(require_roles("sysadmin", "office"))]
ReaderDep = Annotated[
    Actor, Depends(require_roles("sysadmin", "secadmin", "office", "recommender"))
]
_common = (Unauthenticated, Forbidden)


@router.get(
    "/organizations",
    operation_id="list_organizations",
    summary="List organisations",
    response_model=OrganizationPage,
    responses=responses(*_common, ValidationFailed),
)
def list_organizations(
    session: SessionDep,
    actor: ReaderDep,
    page: PageDep,
    kind: OrgKind | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Name contains")] = None,
) -> OrganizationPage:
    rows, total = service.list_organizations(session, kind, q, page.limit, page.offset)
    return OrganizationPage(items=[OrganizationRead.model_validate(r) for r in rows], total=total)


@router.post(
    "/organizations",
    operation_id="create_organization",
    summary="Create an organisation (sysadmin)",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationRead,
    responses=responses(*_common, DuplicateCode, UnknownCity, ValidationFailed),
)
def create_organization(
    body: OrganizationCreate, session: SessionDep, actor: SysadminDep
) -> OrganizationRead:
    return OrganizationRead.model_validate(service.create_organization(session, actor, body))


@router.get(
    "/users",
    operation_id="list_users",
    summary="List users (sysadmin, secadmin); phones masked",
    response_model=UserPage,
    responses=responses(*_common, ValidationFailed),
)
def list_users(
    session: SessionDep,
    actor: UserListDep,
    page: PageDep,
    organization_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> UserPage:
    items, total = service.list_users(session, organization_id, q, page.limit, page.offset)
    return UserPage(items=items, total=total)


@router.post(
    "/users",
    operation_id="create_user",
    summary="Create a user with business roles (sysadmin); must change the password at first login",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=responses(
        *_common, DuplicateCode, OrganizationNotFound, WeakPassword, ValidationFailed
    ),
)
def create_user(body: UserCreate, session: SessionDep, actor: SysadminDep) -> UserRead:
    user = service.create_user(session, actor, body)
    return service.read_user(session, user)


@router.get(
    "/users/{user_id:id}/contact",
    operation_id="get_user_contact",
    summary="A user's personal data shown whole (sysadmin, office); the viewing is audited",
    response_model=UserContact,
    responses=responses(*_common, UserNotFound, ValidationFailed),
)
def get_user_contact(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionDep,
    actor: ContactDep,
) -> UserContact:
    return service.user_contact(session, actor, user_id, client_ip(request))

"""Admin endpoints for organisations and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from demosites.auth.deps import SessionDep, require_roles
from demosites.core.actor import Actor
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.paging import PageDep
from demosites.organizations import service
from demosites.organizations.errors import DuplicateCode, OrganizationNotFound, UnknownCity
from demosites.organizations.models import OrgKind
from demosites.organizations.schemas import (
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    UserCreate,
    UserPage,
    UserRead,
)

router = APIRouter(prefix="/api/v1", tags=["organizations"])
AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
ReaderDep = Annotated[Actor, Depends(require_roles("admin", "office", "recommender"))]
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
    summary="Create an organisation (admin)",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationRead,
    responses=responses(*_common, DuplicateCode, UnknownCity, ValidationFailed),
)
def create_organization(body: OrganizationCreate, session: SessionDep, actor: AdminDep) -> OrganizationRead:
    return OrganizationRead.model_validate(service.create_organization(session, actor, body))


@router.get(
    "/users",
    operation_id="list_users",
    summary="List users (admin)",
    response_model=UserPage,
    responses=responses(*_common, ValidationFailed),
)
def list_users(
    session: SessionDep,
    actor: AdminDep,
    page: PageDep,
    organization_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> UserPage:
    items, total = service.list_users(session, organization_id, q, page.limit, page.offset)
    return UserPage(items=items, total=total)


@router.post(
    "/users",
    operation_id="create_user",
    summary="Create a user with roles (admin)",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=responses(*_common, DuplicateCode, OrganizationNotFound, ValidationFailed),
)
def create_user(body: UserCreate, session: SessionDep, actor: AdminDep) -> UserRead:
    user = service.create_user(session, actor, body)
    return service.user_read(user, [str(r) for r in body.roles])

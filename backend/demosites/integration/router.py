"""HTTP endpoints of integration: service accounts, webhooks, event polling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from demosites.auth.deps import ActorDep, SessionDep, require_roles
from demosites.core.actor import Actor
from demosites.core.errors import Forbidden, Unauthenticated, ValidationFailed, responses
from demosites.core.paging import ObjectId, PageDep
from demosites.core.retry import RetryRoute
from demosites.integration import service
from demosites.integration.errors import (
    AllowedHostNotFound,
    DeliveryNotFound,
    InsufficientScope,
    ServiceAccountNotFound,
    SubscriptionNotFound,
    UnknownScope,
    UnsafeWebhookUrl,
)
from demosites.integration.schemas import (
    AllowedHostCreate,
    AllowedHostPage,
    AllowedHostRead,
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    EventPage,
    EventRead,
    ScopeList,
    ScopesUpdate,
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)
from demosites.organizations.errors import OrganizationNotFound

router = APIRouter(prefix="/api/v1", tags=["integration"], route_class=RetryRoute)
webhooks = APIRouter(prefix="/api/v1", tags=["webhooks"], route_class=RetryRoute)
events = APIRouter(prefix="/api/v1", tags=["events"], route_class=RetryRoute)

# 三员分立: the system administrator creates accounts, the security administrator sets scopes.
SysadminDep = Annotated[Actor, Depends(require_roles("sysadmin"))]
SecadminDep = Annotated[Actor, Depends(require_roles("secadmin"))]
AccountAdminDep = Annotated[Actor, Depends(require_roles("sysadmin", "secadmin"))]
_common = (Unauthenticated, Forbidden, InsufficientScope)


@router.post(
    "/service-accounts",
    operation_id="create_service_account",
    summary="Create a service account (the secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceAccountCreated,
    responses=responses(*_common, OrganizationNotFound, UnknownScope, ValidationFailed),
)
def create_service_account(
    body: ServiceAccountCreate, session: SessionDep, actor: SysadminDep
) -> ServiceAccountCreated:
    account, secret = service.create_service_account(
        session, actor, body.name, body.organization_id, body.scopes, body.roles
    )
    return ServiceAccountCreated(
        account=ServiceAccountRead.model_validate(account), client_secret=secret
    )


@router.get(
    "/service-accounts",
    operation_id="list_service_accounts",
    summary="List service accounts",
    response_model=list[ServiceAccountRead],
    responses=responses(*_common),
)
def list_service_accounts(session: SessionDep, actor: AccountAdminDep) -> list[ServiceAccountRead]:
    return [ServiceAccountRead.model_validate(a) for a in service.list_service_accounts(session)]


@router.get(
    "/service-accounts/scopes",
    operation_id="list_known_scopes",
    summary="The scopes a service account may hold (<tag>:read / <tag>:write of the API's tags)",
    response_model=ScopeList,
    responses=responses(*_common),
)
def list_known_scopes(actor: AccountAdminDep) -> ScopeList:
    items = service.known_scopes()
    return ScopeList(items=items, total=len(items))


@router.put(
    "/service-accounts/{account_id:id}/scopes",
    operation_id="set_service_account_scopes",
    summary="Replace a service account's scopes (security administrator)",
    response_model=ServiceAccountRead,
    responses=responses(*_common, ServiceAccountNotFound, UnknownScope, ValidationFailed),
)
def set_scopes(
    account_id: ObjectId,
    body: ScopesUpdate,
    session: SessionDep,
    actor: SecadminDep,
) -> ServiceAccountRead:
    return ServiceAccountRead.model_validate(
        service.update_scopes(session, actor, account_id, body.scopes)
    )


@router.post(
    "/service-accounts/{account_id:id}/revoke",
    operation_id="revoke_service_account",
    summary="Revoke a service account: its tokens stop working at once",
    response_model=ServiceAccountRead,
    responses=responses(*_common, ServiceAccountNotFound, ValidationFailed),
)
def revoke_service_account(
    account_id: ObjectId, session: SessionDep, actor: AccountAdminDep
) -> ServiceAccountRead:
    return ServiceAccountRead.model_validate(service.revoke(session, actor, account_id))


@router.post(
    "/webhooks/allowed-hosts",
    operation_id="allow_webhook_host",
    summary="Allow a loopback or private host as a webhook target",
    status_code=status.HTTP_201_CREATED,
    response_model=AllowedHostRead,
    responses=responses(*_common, ValidationFailed),
)
def allow_host(body: AllowedHostCreate, session: SessionDep, actor: SecadminDep) -> AllowedHostRead:
    return AllowedHostRead.model_validate(service.allow_host(session, actor, body.host))


@router.get(
    "/webhooks/allowed-hosts",
    operation_id="list_allowed_webhook_hosts",
    summary="Loopback or private hosts allowed as webhook targets (security administrator)",
    response_model=AllowedHostPage,
    responses=responses(*_common),
)
def list_allowed_hosts(session: SessionDep, actor: SecadminDep) -> AllowedHostPage:
    items = [AllowedHostRead.model_validate(h) for h in service.list_allowed_hosts(session)]
    return AllowedHostPage(items=items, total=len(items))


@router.delete(
    "/webhooks/allowed-hosts/{host_id:id}",
    operation_id="remove_allowed_webhook_host",
    summary="Stop allowing a host as a webhook target (security administrator; audited)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(*_common, AllowedHostNotFound, ValidationFailed),
)
def remove_allowed_host(host_id: ObjectId, session: SessionDep, actor: SecadminDep) -> Response:
    service.remove_allowed_host(session, actor, host_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks.post(
    "/webhooks",
    operation_id="create_webhook",
    summary="Subscribe a URL to events (signed with the returned secret)",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    responses=responses(*_common, UnsafeWebhookUrl, ServiceAccountNotFound, ValidationFailed),
)
def create_webhook(
    body: SubscriptionCreate, session: SessionDep, actor: ActorDep
) -> SubscriptionCreated:
    sub = service.create_subscription(
        session, actor, body.service_account_id, str(body.url), body.events
    )
    return SubscriptionCreated(
        **SubscriptionRead.model_validate(sub).model_dump(), secret=sub.secret
    )


@webhooks.get(
    "/webhooks",
    operation_id="list_webhooks",
    summary="List webhook subscriptions (a service account sees its own)",
    response_model=list[SubscriptionRead],
    responses=responses(*_common, ValidationFailed),
)
def list_webhooks(
    session: SessionDep,
    actor: ActorDep,
    service_account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[SubscriptionRead]:
    return [
        SubscriptionRead.model_validate(s)
        for s in service.list_subscriptions(session, actor, service_account_id)
    ]


@webhooks.delete(
    "/webhooks/{webhook_id:id}",
    operation_id="delete_webhook",
    summary="Stop a subscription",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*_common, SubscriptionNotFound, ValidationFailed),
)
def delete_webhook(webhook_id: ObjectId, session: SessionDep, actor: ActorDep) -> Response:
    service.delete_subscription(session, actor, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks.get(
    "/webhooks/{webhook_id:id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="Deliveries of a subscription with every attempt (status line, latency, error class; never the answer's body)",
    response_model=DeliveryPage,
    responses=responses(*_common, SubscriptionNotFound, ValidationFailed),
)
def list_deliveries(
    webhook_id: ObjectId, session: SessionDep, actor: ActorDep, page: PageDep
) -> DeliveryPage:
    rows, total = service.deliveries_of(session, actor, webhook_id, page.limit, page.offset)
    return DeliveryPage(
        items=[
            DeliveryRead(
                id=d.id or 0,
                event_id=d.event_id,
                status=d.status,
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at,
                delivered_at=d.delivered_at,
                attempt_log=[AttemptRead.model_validate(a) for a in attempts],
            )
            for d, attempts in rows
        ],
        total=total,
    )


@webhooks.post(
    "/webhooks/deliveries/{delivery_id:id}/replay",
    operation_id="replay_webhook_delivery",
    summary="Send a delivery again",
    response_model=DeliveryRead,
    responses=responses(*_common, DeliveryNotFound, SubscriptionNotFound, ValidationFailed),
)
def replay_delivery(
    delivery_id: ObjectId, session: SessionDep, actor: AccountAdminDep
) -> DeliveryRead:
    d = service.replay(session, actor, delivery_id)
    return DeliveryRead(
        id=d.id or 0, event_id=d.event_id, status=d.status, attempts=d.attempts,
        next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at, attempt_log=[],
    )  # fmt: skip


@events.get(
    "/events",
    operation_id="poll_events",
    summary="Events after a cursor (for systems that cannot receive webhooks)",
    response_model=EventPage,
    responses=responses(*_common, ValidationFailed),
)
def poll_events(
    session: SessionDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="The last event id you have seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    rows = service.poll_events(session, actor, after, limit)
    return EventPage(
        items=[EventRead.model_validate(r) for r in rows],
        next_after=rows[-1].id or after if rows else after,
    )

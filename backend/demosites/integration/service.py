"""Service accounts, webhook subscriptions, event polling and replays."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.errors import Forbidden
from demosites.core.security import create_token, hash_password, verify_password
from demosites.events.models import OutboxEvent
from demosites.integration.errors import (
    AllowedHostNotFound,
    DeliveryNotFound,
    InvalidClient,
    InvalidScope,
    ServiceAccountNotFound,
    SubscriptionNotFound,
    UnknownScope,
)
from demosites.integration.models import (
    AllowedWebhookHost,
    DeliveryAttempt,
    ServiceAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from demosites.integration.urls import check_url
from demosites.organizations.errors import OrganizationNotFound
from demosites.organizations.models import Organization, OrgKind
from demosites.security.audit import SecurityEvent, log_event

# Filled by main.create_app from the routes (core.scopes.declare_scopes).
KNOWN_SCOPES: set[str] = set()


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - KNOWN_SCOPES) if KNOWN_SCOPES else []
    if unknown:
        raise UnknownScope(f"Unknown scopes / 未知权限范围: {', '.join(unknown)}")
    return sorted(set(scopes))


def create_service_account(
    session: Session,
    actor: Actor,
    name: str,
    organization_id: int,
    scopes: list[str],
    roles: list[str],
) -> tuple[ServiceAccount, str]:
    """Returns the account and its secret, shown once (only a hash is kept)."""
    if session.get(Organization, organization_id) is None:
        raise OrganizationNotFound()
    secret = secrets.token_urlsafe(32)
    account = ServiceAccount(
        client_id="sa_" + secrets.token_hex(8),
        name=name,
        secret_hash=hash_password(secret),
        organization_id=organization_id,
        scopes=_check_scopes(scopes),
        roles=sorted(set(roles)),
        created_by=actor.user_id,
    )
    session.add(account)
    session.flush()
    log_event(
        session, SecurityEvent.service_account_created, actor, object_id=account.id,
        object_label=account.client_id, scopes=account.scopes, roles=account.roles,
    )  # fmt: skip
    return account, secret


def list_service_accounts(session: Session) -> list[ServiceAccount]:
    return list(session.exec(select(ServiceAccount).order_by(col(ServiceAccount.id))))


def _account(session: Session, account_id: int) -> ServiceAccount:
    account = session.get(ServiceAccount, account_id)
    if account is None:
        raise ServiceAccountNotFound()
    return account


def update_scopes(
    session: Session, actor: Actor, account_id: int, scopes: list[str]
) -> ServiceAccount:
    account = _account(session, account_id)
    before = account.scopes
    account.scopes = _check_scopes(scopes)
    session.add(account)
    log_event(
        session, SecurityEvent.scope_change, actor, object_id=account.id,
        object_label=account.client_id, before=before, after=account.scopes,
    )  # fmt: skip
    return account


def revoke(session: Session, actor: Actor, account_id: int) -> ServiceAccount:
    account = _account(session, account_id)
    if account.revoked_at is None:
        account.revoked_at = clock.now()
        session.add(account)
        log_event(
            session, SecurityEvent.scope_change, actor, object_id=account.id,
            object_label=account.client_id, before=account.scopes, after=[], revoked=True,
        )  # fmt: skip
    return account


def authenticate_client(session: Session, client_id: str, client_secret: str) -> ServiceAccount:
    """The service account whose id and secret these are (invalid_client otherwise)."""
    account = session.exec(
        select(ServiceAccount).where(ServiceAccount.client_id == client_id)
    ).first()
    ok = verify_password(client_secret, account.secret_hash if account else None)
    if not ok or account is None or account.revoked_at is not None:
        raise InvalidClient()
    return account


def issue_token(
    session: Session, client_id: str, client_secret: str, scope: str = ""
) -> tuple[str, int, ServiceAccount, list[str]]:
    """client_credentials grant: a short-lived JWT carrying the account's scopes, or the subset
    that `scope` (space-separated, RFC 6749 §3.3) asks for."""
    account = authenticate_client(session, client_id, client_secret)
    requested = scope.split()
    unknown = sorted(set(requested) - set(account.scopes))
    if unknown:
        raise InvalidScope(
            f"Not granted to this client / 未授予该客户端: {' '.join(unknown)}",
            scope=" ".join(unknown),
        )
    granted = sorted(set(requested)) if requested else list(account.scopes)
    minutes = get_settings().service_token_minutes
    token, _, _ = create_token(
        f"sa:{account.id}",
        lifetime=timedelta(minutes=minutes),
        extra={"typ": "service", "scope": " ".join(granted)},
    )
    account.last_used_at = clock.now()
    session.add(account)
    return token, minutes * 60, account, granted


def resolve_service_actor(session: Session, claims: dict[str, Any]) -> Actor:
    """The actor behind a service token (registered on app.state by main)."""
    from demosites.core.errors import Unauthenticated

    sub = str(claims.get("sub", ""))
    if not sub.startswith("sa:") or not sub[3:].isdigit():
        raise Unauthenticated()
    account = session.get(ServiceAccount, int(sub[3:]))
    if account is None or account.revoked_at is not None:
        raise Unauthenticated("Service account revoked / 服务账号已吊销")
    org = session.get(Organization, account.organization_id)
    now = clock.now()
    if account.last_used_at is None or now - account.last_used_at > timedelta(minutes=1):
        account.last_used_at = now
        session.add(account)
    granted = set(str(claims.get("scope", "")).split()) & set(account.scopes)
    return Actor(
        user_id=None,
        username=account.client_id,
        display_name=f"{account.name}（服务账号）",
        organization_id=account.organization_id,
        organization_name=org.name if org else "",
        organization_city=org.city if org else None,
        roles=frozenset(account.roles),
        kind="service",
        scopes=frozenset(granted),
        service_account_id=account.id,
    )


# --- webhooks -------------------------------------------------------------------------------


def _check_webhook_manager(actor: Actor) -> None:
    """Webhooks carry the province's events: a service account manages its own, the account
    administrators (sysadmin, secadmin) any; no other user may see or change them."""
    if actor.kind not in ("service", "system") and not actor.has("sysadmin", "secadmin"):
        raise Forbidden(
            "Webhooks are managed by their service account or an administrator / "
            "订阅仅由其服务账号或系统、安全管理员管理"
        )


def _own_account(session: Session, actor: Actor) -> ServiceAccount:
    if actor.service_account_id is None:
        raise ServiceAccountNotFound("Webhooks belong to service accounts / 订阅须属于服务账号")
    return _account(session, actor.service_account_id)


def create_subscription(
    session: Session, actor: Actor, account_id: int | None, url: str, events: list[str]
) -> WebhookSubscription:
    _check_webhook_manager(actor)
    if actor.kind == "service" and account_id not in (None, actor.service_account_id):
        # An account subscribing under another would receive that account's events.
        raise ServiceAccountNotFound()
    account = _account(session, account_id) if account_id else _own_account(session, actor)
    check_url(session, url)
    sub = WebhookSubscription(
        service_account_id=account.id or 0,
        url=url,
        events=sorted(set(events)) or ["*"],
        secret="whsec_" + secrets.token_urlsafe(24),
    )
    session.add(sub)
    session.flush()
    return sub


def list_subscriptions(
    session: Session, actor: Actor, account_id: int | None
) -> list[WebhookSubscription]:
    _check_webhook_manager(actor)
    stmt = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    if actor.kind == "service":
        stmt = stmt.where(WebhookSubscription.service_account_id == actor.service_account_id)
    elif account_id:
        stmt = stmt.where(WebhookSubscription.service_account_id == account_id)
    return list(session.exec(stmt))


def get_subscription(session: Session, actor: Actor, sub_id: int) -> WebhookSubscription:
    _check_webhook_manager(actor)
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or (
        actor.kind == "service" and sub.service_account_id != actor.service_account_id
    ):
        raise SubscriptionNotFound()
    return sub


def delete_subscription(session: Session, actor: Actor, sub_id: int) -> None:
    sub = get_subscription(session, actor, sub_id)
    sub.active = False
    session.add(sub)


def deliveries_of(
    session: Session, actor: Actor, sub_id: int, limit: int, offset: int
) -> tuple[list[tuple[WebhookDelivery, list[DeliveryAttempt]]], int]:
    from sqlmodel import func

    get_subscription(session, actor, sub_id)
    base = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = list(
        session.exec(base.order_by(col(WebhookDelivery.id).desc()).limit(limit).offset(offset))
    )
    attempts: dict[int, list[DeliveryAttempt]] = {r.id or 0: [] for r in rows}
    if rows:
        for a in session.exec(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id).in_(list(attempts)))
            .order_by(col(DeliveryAttempt.id))
        ):
            attempts[a.delivery_id].append(a)
    return [(r, attempts[r.id or 0]) for r in rows], int(total)


def replay(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    get_subscription(session, actor, delivery.subscription_id)
    delivery.status = "pending"
    delivery.next_attempt_at = clock.now()
    delivery.locked_until = None
    delivery.created_at = clock.now()  # a replay gets a fresh 24-hour retry budget
    session.add(delivery)
    return delivery


def allow_host(session: Session, actor: Actor, host: str) -> AllowedWebhookHost:
    host = host.strip().lower()
    row = session.exec(select(AllowedWebhookHost).where(AllowedWebhookHost.host == host)).first()
    if row is None:
        row = AllowedWebhookHost(host=host, created_by=actor.user_id)
        session.add(row)
        session.flush()
        log_event(session, SecurityEvent.policy_change, actor, object_label=f"webhook host {host}")
    return row


def list_allowed_hosts(session: Session) -> list[AllowedWebhookHost]:
    return list(session.exec(select(AllowedWebhookHost).order_by(col(AllowedWebhookHost.host))))


def remove_allowed_host(session: Session, actor: Actor, host_id: int) -> None:
    """Webhooks to the host are refused again from now on (existing subscriptions are checked
    when they deliver); the removal is audited like the allowing."""
    row = session.get(AllowedWebhookHost, host_id)
    if row is None:
        raise AllowedHostNotFound()
    host = row.host
    session.delete(row)
    session.flush()
    log_event(
        session, SecurityEvent.policy_change, actor, object_id=host_id,
        object_label=f"webhook host {host}", action="remove_allowed_host",
    )  # fmt: skip


def known_scopes() -> list[str]:
    """Every scope a service account may hold: `<tag>:read|write` of the API's tags."""
    return sorted(KNOWN_SCOPES)


# --- polling --------------------------------------------------------------------------------


def sees_everything(session: Session, actor: Actor) -> bool:
    org = session.get(Organization, actor.organization_id)
    return actor.has("office") or (org is not None and org.kind == OrgKind.office)


def poll_events(session: Session, actor: Actor, after: int, limit: int) -> list[OutboxEvent]:
    stmt = select(OutboxEvent).where(col(OutboxEvent.id) > after)
    if not sees_everything(session, actor):
        stmt = stmt.where(col(OutboxEvent.audience).contains(f",{actor.organization_id},"))
    return list(session.exec(stmt.order_by(col(OutboxEvent.id)).limit(limit)))

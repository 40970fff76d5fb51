"""The security audit (安全审计): security events written to the append-only, hash-chained history."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlmodel import Session

from demosites.audit import service as history
from demosites.audit.models import HistoryEntry
from demosites.core import db as core_db
from demosites.core.actor import Actor
from demosites.core.errors import DomainError

OBJECT_TYPE = "security"


class SecurityEvent(StrEnum):
    login_success = "login_success"
    login_failure = "login_failure"
    logout = "logout"
    password_change = "password_change"
    password_reset = "password_reset"  # by the security administrator
    password_change_forced = "password_change_forced"
    role_change = "role_change"
    scope_change = "scope_change"  # service accounts (integration)
    user_created = "user_created"
    service_account_created = "service_account_created"
    account_locked = "account_locked"
    account_unlocked = "account_unlocked"
    session_ended = "session_ended"
    mfa_enabled = "mfa_enabled"
    mfa_disabled = "mfa_disabled"
    mfa_reset = "mfa_reset"
    recovery_codes_generated = "recovery_codes_generated"
    policy_change = "policy_change"
    personal_data_view = "personal_data_view"
    export = "export"  # of logs or personal data
    access_denied = "access_denied"  # failed authorisation (403)
    audit_archived = "audit_archived"


ADMIN_ROLE_ORDER = ("sysadmin", "secadmin", "auditor")


def anonymous(username: str) -> Actor:
    """The subject of an event before anyone is authenticated (a login attempt)."""
    return Actor(
        user_id=None,
        username=username[:64],
        display_name=username[:100] or "-",
        organization_id=0,
        organization_name="",
        organization_city=None,
        roles=frozenset(),
        kind="anonymous",
    )


def log_event(
    session: Session,
    event: SecurityEvent | str,
    actor: Actor,
    *,
    object_id: int | None = None,
    object_label: str | None = None,
    result: str = "success",
    ip: str | None = None,
    **details: Any,
) -> HistoryEntry:
    """Appends one security event: date/time, type, subject (actor), object and result.

    `object_id` is the user (or other object) the event is about; 0 when none."""
    data: dict[str, Any] = {"subject": actor.username, "result": result}
    if object_label:
        data["object"] = object_label
    if ip:
        data["ip"] = ip
    data.update({k: v for k, v in details.items() if v is not None})
    return history.record(
        session,
        actor,
        OBJECT_TYPE,
        object_id or 0,
        str(event),
        to_state=result,
        role=actor.role_for(*ADMIN_ROLE_ORDER) or (min(actor.roles) if actor.roles else None),
        data=data,
    )


def audit_refusal(session: Session, exc: BaseException) -> None:
    """After-rollback hook: a refused authorisation (403) is audited although the request failed."""
    if not isinstance(exc, DomainError) or exc.status != 403:
        return
    actor: Actor | None = session.info.get("actor")
    if actor is None:
        return
    req: dict[str, str] = session.info.get("request") or {}
    log_event(
        session,
        SecurityEvent.access_denied,
        actor,
        object_label=f"{req.get('method', '')} {req.get('path', '')}".strip() or None,
        result="failure",
        ip=req.get("ip"),
        reason=exc.code,
        detail=exc.detail[:300],
    )


if audit_refusal not in core_db.AFTER_ROLLBACK:
    core_db.AFTER_ROLLBACK.append(audit_refusal)

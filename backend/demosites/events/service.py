"""Writes domain events to the outbox (delivery lives in the integration domain)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from demosites.core.clock import clock
from demosites.events.models import OutboxEvent


def emit(
    session: Session,
    event_type: str,
    object_type: str,
    object_id: int,
    payload: dict[str, Any],
    organization_ids: list[int] | None = None,
) -> OutboxEvent:
    """Adds one event in the caller's transaction: it exists exactly when the change does."""
    event = OutboxEvent(
        event_type=event_type,
        object_type=object_type,
        object_id=object_id,
        audience="," + "".join(f"{i}," for i in sorted(set(organization_ids or []))),
        payload=payload,
        created_at=clock.now(),
    )
    session.add(event)
    session.flush()
    return event

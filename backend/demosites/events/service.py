"""Writes domain events to the outbox (delivery lives in the integration domain)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.events.models import OutboxEvent


def _audience(organization_ids: list[int] | None) -> str:
    return "," + "".join(f"{i}," for i in sorted(set(organization_ids or [])))


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
        audience=_audience(organization_ids),
        payload=payload,
        created_at=clock.now(),
    )
    session.add(event)
    session.flush()
    return event


def emit_many(
    session: Session,
    event_type: str,
    object_type: str,
    events: Sequence[tuple[int, dict[str, Any], list[int]]],
) -> None:
    """Adds one event per (object id, payload, organisation ids), in order, as `emit` would one
    after the other, in one batch of INSERTs (an import of thousands of objects)."""
    if not events:
        return
    session.flush()  # events pending in the session come first
    now = clock.now()
    session.execute(
        insert(OutboxEvent.__table__),  # type: ignore[attr-defined]
        [
            {
                "event_type": event_type,
                "object_type": object_type,
                "object_id": object_id,
                "audience": _audience(orgs),
                "payload": payload,
                "created_at": now,
            }
            for object_id, payload, orgs in events
        ],
    )

"""API shapes of the history (履历): the read model of history entries, for every domain's
history endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class HistoryRead(BaseModel):
    """One history (履历) entry: who did what, in which role, when, with which opinion."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    from_state: str | None
    to_state: str | None
    actor_name: str
    actor_role: str | None
    actor_org_id: int | None
    actor_org_name: str | None
    at: datetime
    opinion: str | None
    data: dict[str, Any] | None


class HistoryPage(BaseModel):
    items: list[HistoryRead]
    total: int

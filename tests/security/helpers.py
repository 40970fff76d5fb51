"""Builders shared by the security tests."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from demosites.audit.models import HistoryEntry
from demosites.organizations.models import User
from tests import factories as f


def admin(session: Session, role: str, username: str | None = None) -> tuple[User, dict[str, str]]:
    """An administrator of `role` with Bearer headers, committed (a refused request rolls back)."""
    u = f.user(session, [role], "office", username=username)
    headers = f.bearer(session, u)
    session.commit()
    return u, headers


def events(session: Session, action: str, object_id: int | None = None) -> list[HistoryEntry]:
    stmt = select(HistoryEntry).where(
        HistoryEntry.object_type == "security", HistoryEntry.action == action
    )
    if object_id is not None:
        stmt = stmt.where(HistoryEntry.object_id == object_id)
    return list(session.exec(stmt.order_by(HistoryEntry.id)))  # type: ignore[arg-type]


def token_login(client: TestClient, username: str, password: str = f.PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **extra}
    )

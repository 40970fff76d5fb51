"""Test data builders shared by every domain's tests."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.auth.service import open_session
from demosites.organizations.models import Organization, OrgKind, User
from demosites.organizations.schemas import UserCreate
from demosites.organizations.service import create_user, get_org_by_code

PASSWORD = "Test-password-123"
_seq = itertools.count(1)


def org(session: Session, code: str | None = None, **fields: Any) -> Organization:
    """An existing organisation by code, or a new one (applicant unit by default)."""
    if code:
        found = get_org_by_code(session, code)
        if found:
            return found
    o = Organization(
        code=code or f"org{next(_seq)}",
        name=fields.pop("name", f"测试单位{next(_seq)}"),
        kind=fields.pop("kind", OrgKind.applicant_unit),
        **fields,
    )
    session.add(o)
    session.flush()
    return o


def user(session: Session, roles: list[str], organization: Organization | str, username: str | None = None) -> User:
    o = organization if isinstance(organization, Organization) else org(session, organization)
    return create_user(
        session,
        None,
        UserCreate(
            username=username or f"u{next(_seq)}",
            display_name=f"测试用户{next(_seq)}",
            password=PASSWORD,
            organization_id=o.id or 0,
            roles=roles,  # type: ignore[arg-type]
        ),
        must_change=False,
    )


def bearer(session: Session, u: User) -> dict[str, str]:
    """Authorization headers for `u` without going through the (throttled) login endpoint."""
    token, _ = open_session(session, u, "127.0.0.1", "pytest")
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}

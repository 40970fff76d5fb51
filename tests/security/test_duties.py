"""三员分立: each administrator does only their part; no account holds two admin roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories as f
from tests.security.helpers import admin, events

# (role, method, path template, json body, expected status). {target} is an ordinary user,
# {me} the caller. Forbidden cross-actions first, then each role's own work.
CASES: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    # The system administrator: accounts and organisations, but no audit, no grants, no policy.
    ("sysadmin", "GET", "/api/v1/security/audit", None, 403),
    ("sysadmin", "GET", "/api/v1/security/login-log", None, 403),
    ("sysadmin", "GET", "/api/v1/security/audit/export", None, 403),
    (
        "sysadmin",
        "PUT",
        "/api/v1/security/users/{me}/roles",
        {"roles": ["sysadmin", "auditor"]},
        403,
    ),
    ("sysadmin", "PUT", "/api/v1/security/users/{target}/roles", {"roles": ["auditor"]}, 403),
    ("sysadmin", "PATCH", "/api/v1/security/policy", {"session_idle_minutes": 60}, 403),
    ("sysadmin", "POST", "/api/v1/security/users/{target}/lock", {"reason": "x"}, 403),
    ("sysadmin", "GET", "/api/v1/users", None, 200),
    ("sysadmin", "GET", "/api/v1/security/policy", None, 200),
    # The security administrator: roles, policy, locks, sessions; creates no one, reads no audit.
    (
        "secadmin",
        "POST",
        "/api/v1/users",
        {
            "username": "new_one",
            "display_name": "新",
            "password": "Good-password-1",
            "organization_id": "{org}",
            "roles": ["recommender"],
        },
        403,
    ),
    (
        "secadmin",
        "POST",
        "/api/v1/organizations",
        {"code": "neworg", "name": "新单位", "kind": "other"},
        403,
    ),
    ("secadmin", "GET", "/api/v1/security/audit", None, 403),
    ("secadmin", "GET", "/api/v1/security/login-log", None, 403),
    ("secadmin", "PUT", "/api/v1/security/users/{me}/roles", {"roles": ["auditor"]}, 403),
    (
        "secadmin",
        "PUT",
        "/api/v1/security/users/{target}/roles",
        {"roles": ["secadmin", "auditor"]},
        403,
    ),
    ("secadmin", "PATCH", "/api/v1/security/policy", {"session_idle_minutes": 20}, 200),
    ("secadmin", "POST", "/api/v1/security/users/{target}/lock", {"reason": "调岗"}, 200),
    ("secadmin", "PUT", "/api/v1/security/users/{target}/roles", {"roles": ["office"]}, 200),
    # The auditor: reads and exports the logs, changes nothing.
    (
        "auditor",
        "POST",
        "/api/v1/users",
        {
            "username": "new_two",
            "display_name": "新",
            "password": "Good-password-1",
            "organization_id": "{org}",
            "roles": ["recommender"],
        },
        403,
    ),
    ("auditor", "PATCH", "/api/v1/security/policy", {"session_idle_minutes": 20}, 403),
    ("auditor", "POST", "/api/v1/security/users/{target}/lock", {"reason": "x"}, 403),
    ("auditor", "POST", "/api/v1/security/users/{target}/unlock", None, 403),
    ("auditor", "PUT", "/api/v1/security/users/{target}/roles", {"roles": ["office"]}, 403),
    ("auditor", "POST", "/api/v1/security/users/{target}/reset-password", None, 403),
    ("auditor", "GET", "/api/v1/users", None, 403),
    ("auditor", "GET", "/api/v1/security/audit", None, 200),
    ("auditor", "GET", "/api/v1/security/login-log", None, 200),
    # Ordinary roles touch none of it.
    ("office", "GET", "/api/v1/security/users", None, 403),
    ("office", "GET", "/api/v1/security/audit", None, 403),
]


@pytest.mark.parametrize(("role", "method", "path", "body", "expected"), CASES)
def test_each_admin_role_does_only_its_part(
    session: Session,
    client: TestClient,
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: int,
) -> None:
    target = f.user(session, ["recommender"], "hefei")
    me, headers = admin(session, role)
    org = f.org(session, "hefei")
    url = path.format(target=target.id, me=me.id)
    if body is not None:
        body = {k: (org.id if v == "{org}" else v) for k, v in body.items()}
    r = client.request(method, url, json=body, headers=headers)
    assert r.status_code == expected, (role, method, url, r.text)
    if expected == 403:
        assert r.json()["code"] in ("forbidden", "separation_of_duties")


def test_no_account_holds_two_admin_roles_even_when_seeded(session: Session) -> None:
    from demosites.security.errors import SeparationOfDuties

    with pytest.raises(SeparationOfDuties):
        f.user(session, ["sysadmin", "auditor"], "office")


def test_sysadmin_creates_accounts_but_cannot_give_them_admin_roles(
    session: Session, client: TestClient
) -> None:
    _, headers = admin(session, "sysadmin")
    org = f.org(session, "office")
    body = {
        "username": "my_twin",
        "display_name": "替身",
        "password": "Good-password-1",
        "organization_id": org.id,
    }
    refused = client.post("/api/v1/users", json={**body, "roles": ["auditor"]}, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "separation_of_duties"
    created = client.post("/api/v1/users", json={**body, "roles": []}, headers=headers)
    assert created.status_code == 201, created.text
    assert len(events(session, "user_created", created.json()["id"])) == 1


def test_secadmin_grants_an_admin_role_and_the_change_is_audited(
    session: Session, client: TestClient
) -> None:
    target = f.user(session, ["office"], "office", username="future_auditor")
    target_headers = f.bearer(session, target)
    _, sec = admin(session, "secadmin")
    r = client.put(
        f"/api/v1/security/users/{target.id}/roles", json={"roles": ["auditor"]}, headers=sec
    )
    assert r.status_code == 200 and r.json()["roles"] == ["auditor"]
    # The sessions granted under the old roles end.
    assert client.get("/api/v1/me", headers=target_headers).status_code == 401
    entry = events(session, "role_change", target.id)[-1]
    assert entry.data["from_roles"] == ["office"] and entry.data["to_roles"] == ["auditor"]  # type: ignore[index]
    assert entry.actor_role == "secadmin"

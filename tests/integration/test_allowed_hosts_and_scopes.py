"""The security administrator sees and withdraws allowed webhook hosts (audited); the scope list
is the one the service accounts are checked against."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.integration.service import KNOWN_SCOPES
from tests.security.helpers import admin, events

HOSTS = "/api/v1/webhooks/allowed-hosts"


def test_secadmin_lists_and_removes_an_allowed_host_with_an_audit_entry(
    client: TestClient, session: Session
) -> None:
    _sec, h = admin(session, "secadmin")
    created = client.post(HOSTS, json={"host": "10.0.0.8"}, headers=h)
    assert created.status_code == 201, created.text
    host_id = created.json()["id"]
    listed = client.get(HOSTS, headers=h).json()
    assert {"id": host_id, "host": "10.0.0.8"}.items() <= listed["items"][0].items()
    assert listed["total"] == 1
    before = len(events(session, "policy_change"))
    gone = client.delete(f"{HOSTS}/{host_id}", headers=h)
    assert gone.status_code == 204
    assert client.get(HOSTS, headers=h).json() == {"items": [], "total": 0}
    audit = events(session, "policy_change")
    assert len(audit) == before + 1 and audit[-1].object_id == host_id
    assert audit[-1].data["object"] == "webhook host 10.0.0.8"
    assert audit[-1].data["action"] == "remove_allowed_host"
    again = client.delete(f"{HOSTS}/{host_id}", headers=h)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_only_the_security_administrator_manages_allowed_hosts(
    client: TestClient, session: Session
) -> None:
    _sys, sys_h = admin(session, "sysadmin")
    assert client.get(HOSTS, headers=sys_h).status_code == 403
    assert client.delete(f"{HOSTS}/1", headers=sys_h).status_code == 403
    assert client.get(HOSTS).status_code == 401


def test_the_scope_list_is_the_set_service_accounts_are_checked_against(
    client: TestClient, session: Session
) -> None:
    _sec, h = admin(session, "secadmin")
    page = client.get("/api/v1/service-accounts/scopes", headers=h).json()
    assert page["items"] == sorted(KNOWN_SCOPES) and page["total"] == len(KNOWN_SCOPES)
    assert {"applications:read", "applications:write", "sites:read"} <= set(page["items"])
    assert "public:read" not in page["items"]  # public routes need no scope
    _office_user, office_h = admin(session, "auditor")
    assert client.get("/api/v1/service-accounts/scopes", headers=office_h).status_code == 403

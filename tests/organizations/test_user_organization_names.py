"""User lists name each user's organisation (no second request, no query per user)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.organizations.service import get_org_by_code
from tests import factories as f
from tests.security.helpers import admin


def test_user_lists_carry_the_organisation_name(client: TestClient, session: Session) -> None:
    hefei = get_org_by_code(session, "hefei")
    assert hefei is not None
    u = f.user(session, ["recommender"], hefei)
    _sys, sys_h = admin(session, "sysadmin")
    _sec, sec_h = admin(session, "secadmin")
    users = client.get("/api/v1/users", params={"organization_id": hefei.id}, headers=sys_h).json()
    row = next(x for x in users["items"] if x["id"] == u.id)
    assert row["organization_id"] == hefei.id and row["organization_name"] == hefei.name
    security = client.get("/api/v1/security/users", params={"q": u.username}, headers=sec_h).json()
    (srow,) = security["items"]
    assert srow["organization_name"] == hefei.name
    one = client.get(f"/api/v1/security/users/{u.id}", headers=sec_h)
    assert one.status_code == 200 and one.json()["organization_name"] == hefei.name


def test_a_created_user_is_answered_with_its_organisation_name(
    client: TestClient, session: Session
) -> None:
    _sys, h = admin(session, "sysadmin")
    wuhu = get_org_by_code(session, "wuhu")
    assert wuhu is not None
    r = client.post(
        "/api/v1/users",
        json={"username": "wuhu_new", "display_name": "芜湖新用户", "password": "Aa1-long-enough-pw",
              "organization_id": wuhu.id, "roles": ["recommender"]},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["organization_name"] == wuhu.name

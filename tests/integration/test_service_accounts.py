"""Service accounts: client_credentials tokens carrying scopes, enforced on every endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from demosites.audit.models import HistoryEntry
from demosites.core.clock import clock
from demosites.core.scopes import SCOPE_KEY, api_routes
from demosites.events.service import emit
from demosites.main import create_app
from tests import factories as f


def _account(client: TestClient, session: Session, scopes: list[str], roles: list[str] | None = None,
             org_code: str = "office") -> tuple[str, str, int]:  # fmt: skip
    admin = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    org = f.org(session, org_code)
    r = client.post(
        "/api/v1/service-accounts",
        json={"name": "省级数据共享平台", "organization_id": org.id, "scopes": scopes, "roles": roles or []},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["account"]["client_id"], body["client_secret"], body["account"]["id"]


def _token(client: TestClient, client_id: str, secret: str) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] <= 15 * 60
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_client_credentials_token_reads_what_its_scope_allows(session: Session, client: TestClient) -> None:
    cid, secret, _ = _account(client, session, ["events:read"])
    headers = _token(client, cid, secret)
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    refused = client.get("/api/v1/webhooks", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def test_wrong_secret_and_revoked_accounts_get_no_token(session: Session, client: TestClient) -> None:
    cid, secret, account_id = _account(client, session, ["events:read"])
    bad = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "wrong"},
    )
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_client"
    headers = _token(client, cid, secret)
    admin = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    assert client.post(f"/api/v1/service-accounts/{account_id}/revoke", headers=admin).status_code == 200
    assert client.get("/api/v1/events", headers=headers).status_code == 401  # at once
    again = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    assert again.status_code == 401


def test_the_secret_is_stored_hashed_and_creation_is_audited(session: Session, client: TestClient) -> None:
    from demosites.integration.models import ServiceAccount

    cid, secret, _ = _account(client, session, ["events:read"])
    row = session.exec(select(ServiceAccount).where(ServiceAccount.client_id == cid)).one()
    assert secret not in row.secret_hash and row.secret_hash.startswith("$argon2")
    audit = session.exec(
        select(HistoryEntry).where(HistoryEntry.action == "service_account_created")
    ).all()
    assert any(e.data and e.data.get("object") == cid for e in audit)


def test_unknown_scopes_are_refused(session: Session, client: TestClient) -> None:
    admin = f.bearer(session, f.user(session, ["sysadmin"], "office"))
    r = client.post(
        "/api/v1/service-accounts",
        json={"name": "x平台", "organization_id": f.org(session, "office").id, "scopes": ["everything:write"]},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_scope"


def _scoped_routes() -> list[tuple[str, str, str]]:
    out = []
    for route in api_routes(create_app()):
        if (route.openapi_extra or {}).get(SCOPE_KEY):
            for method in sorted(route.methods - {"HEAD"}):
                out.append((method, route.path, route.openapi_extra[SCOPE_KEY]))  # type: ignore[index]
    return out


@pytest.mark.parametrize(("method", "path", "scope"), _scoped_routes())
def test_every_endpoint_refuses_a_token_without_its_scope(
    session: Session, client: TestClient, method: str, path: str, scope: str
) -> None:
    other = "events:read" if not scope.startswith("events:") else "webhooks:read"
    cid, secret, _ = _account(client, session, [other], roles=["office"])
    session.commit()
    headers = _token(client, cid, secret)
    url = re.sub(r"\{[^}]+\}", "1", path)
    r = client.request(method, url, headers=headers, json={})
    assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
    assert r.json()["code"] == "insufficient_scope"


def test_a_write_scope_implies_read_but_not_the_reverse(session: Session, client: TestClient) -> None:
    cid, secret, _ = _account(client, session, ["webhooks:write"])
    headers = _token(client, cid, secret)
    assert client.get("/api/v1/webhooks", headers=headers).status_code == 200
    cid2, secret2, _ = _account(client, session, ["webhooks:read"])
    headers2 = _token(client, cid2, secret2)
    r = client.post("/api/v1/webhooks", json={"url": "https://example.org/x"}, headers=headers2)
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope"


def test_polling_returns_only_events_the_account_may_see(session: Session, client: TestClient) -> None:
    hefei = f.org(session, "hefei")
    wuhu = f.org(session, "wuhu")
    mine = emit(session, "application.submitted", "application", 1, {"n": 1}, [hefei.id or 0]).id
    emit(session, "application.submitted", "application", 2, {"n": 2}, [wuhu.id or 0])
    cid, secret, _ = _account(client, session, ["events:read"], org_code="hefei")
    headers = _token(client, cid, secret)
    page = client.get("/api/v1/events", params={"after": (mine or 1) - 1}, headers=headers).json()
    assert [e["id"] for e in page["items"]] == [mine]
    assert page["next_after"] == mine
    again = client.get("/api/v1/events", params={"after": page["next_after"]}, headers=headers).json()
    assert again["items"] == [] and again["next_after"] == mine


def test_a_service_accounts_actions_are_limited_per_minute(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demosites.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_service_per_minute", 3)
    clock.set(clock.now().replace(second=1))
    cid, secret, _ = _account(client, session, ["events:read"])
    session.commit()
    headers = _token(client, cid, secret)
    codes = [client.get("/api/v1/events", headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/v1/events", headers=headers)
    assert r.json()["code"] == "rate_limited" and 1 <= int(r.headers["Retry-After"]) <= 60
    clock.set(clock.now() + timedelta(minutes=1))
    assert client.get("/api/v1/events", headers=headers).status_code == 200


def test_a_users_requests_are_limited_per_minute(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demosites.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 2)
    clock.set(clock.now().replace(second=1))
    headers = f.bearer(session, f.user(session, ["office"], "office"))
    session.commit()
    codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]

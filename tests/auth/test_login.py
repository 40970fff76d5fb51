"""Login, tokens and throttling."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from fastapi.testclient import TestClient
from jose import jwt
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.core.config import get_settings
from tests import factories as f


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_password_login_returns_a_token_that_me_accepts(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="hefei_li")
    headers = f.login(client, "hefei_li")
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["username"] == "hefei_li"
    assert me["roles"] == ["recommender"]
    assert me["organization"]["name"] == "合肥市委宣传部"
    assert me["organization"]["city"] == "合肥"
    assert me["id"] == u.id


def test_wrong_password_and_unknown_user_answer_the_same(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="real_user")
    wrong = client.post("/api/v1/auth/token", data={"username": "real_user", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 400  # RFC 6749 invalid_grant
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_ten_failures_lock_the_account_for_fifteen_minutes(
    session: Session, client: TestClient, app: object
) -> None:
    f.user(session, ["office"], "office", username="victim")
    for i in range(10):
        # Each failure from another address: the account lock must not depend on one address.
        with TestClient(app, client=(f"10.0.0.{i}", 5000)) as other:  # type: ignore[arg-type]
            r = other.post("/api/v1/auth/token", data={"username": "victim", "password": f"bad{i}"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    locked = client.post("/api/v1/auth/token", data={"username": "victim", "password": f.PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    clock.set(clock.now() + timedelta(minutes=16))
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "victim", "password": f.PASSWORD}
        ).status_code
        == 200
    )


def test_ten_failures_from_one_address_lock_that_address(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="someone")
    for i in range(10):
        client.post("/api/v1/auth/token", data={"username": f"guess{i}", "password": "x"})
    r = client.post("/api/v1/auth/token", data={"username": "someone", "password": f.PASSWORD})
    assert r.status_code == 429


def test_failures_spread_beyond_the_window_do_not_lock(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="slow")
    for i in range(12):
        client.post("/api/v1/auth/token", data={"username": "slow", "password": f"bad{i}"})
        clock.set(clock.now() + timedelta(minutes=2))
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "slow", "password": f.PASSWORD}
        ).status_code
        == 200
    )


def test_expired_token_is_refused(session: Session, client: TestClient) -> None:
    u = f.user(session, ["office"], "office")
    headers = f.bearer(session, u)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.set(clock.now() + timedelta(minutes=get_settings().access_token_minutes + 1))
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_tampered_token_is_refused(session: Session, client: TestClient) -> None:
    u = f.user(session, ["recommender"], "hefei")
    other = f.user(session, ["office"], "office")
    token = f.bearer(session, u)["Authorization"].split()[1]
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(other.id)
    forged = f"{header}.{_b64(claims)}.{sig}"
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_alg_none_and_other_algorithms_are_refused(session: Session, client: TestClient) -> None:
    u = f.user(session, ["office"], "office")
    good = f.bearer(session, u)["Authorization"].split()[1]
    claims = jwt.get_unverified_claims(good)
    none_token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    hs512 = jwt.encode(claims, get_settings().secret_key, algorithm="HS512")
    wrong_key = jwt.encode(claims, "another-secret-key-which-is-long-enough-000", algorithm="HS256")
    for bad in (none_token, hs512, wrong_key, "not-a-token", "a.b.c"):
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad


def test_token_without_exp_or_sub_is_refused(session: Session, client: TestClient) -> None:
    u = f.user(session, ["office"], "office")
    claims = jwt.get_unverified_claims(f.bearer(session, u)["Authorization"].split()[1])
    for missing in ("exp", "sub", "iat"):
        c = dict(claims)
        c.pop(missing)
        token = jwt.encode(c, get_settings().secret_key, algorithm="HS256")
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )


def test_cookie_login_requires_csrf_header_on_unsafe_requests(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="browser")
    r = client.post("/api/v1/auth/login", json={"username": "browser", "password": f.PASSWORD})
    assert r.status_code == 200
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/me").status_code == 200
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_logout_ends_the_bearer_session(session: Session, client: TestClient) -> None:
    u = f.user(session, ["office"], "office")
    headers = f.bearer(session, u)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401

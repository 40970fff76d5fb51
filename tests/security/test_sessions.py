"""Sessions: idle and absolute timeouts on the server, logout, ending by an admin, one at a time."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from tests import factories as f
from tests.security.helpers import admin, events


def _user_headers(session: Session, client: TestClient, username: str) -> dict[str, str]:
    f.user(session, ["recommender"], "hefei", username=username)
    session.commit()
    return f.login(client, username)


def test_thirty_idle_minutes_end_the_session(session: Session, client: TestClient) -> None:
    clock.set(clock.now())
    headers = _user_headers(session, client, "idler")
    clock.advance(timedelta(minutes=29))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=31))
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and "inactivity" in r.json()["detail"]


def test_activity_keeps_the_session_until_its_absolute_lifetime_of_twelve_hours(
    session: Session, client: TestClient
) -> None:
    clock.set(clock.now())
    headers = _user_headers(session, client, "worker")
    for _ in range(35):  # 11 h 40 min of work, a request every 20 minutes
        clock.advance(timedelta(minutes=20))
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=20))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_idle_timeout_follows_the_policy(session: Session, client: TestClient) -> None:
    clock.set(clock.now())
    _, sec = admin(session, "secadmin")
    client.patch("/api/v1/security/policy", json={"session_idle_minutes": 5}, headers=sec)
    headers = _user_headers(session, client, "short_idle")
    clock.advance(timedelta(minutes=6))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_logout_revokes_the_session_and_is_audited(session: Session, client: TestClient) -> None:
    headers = _user_headers(session, client, "leaver")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert [e.data["subject"] for e in events(session, "logout")] == ["leaver"]  # type: ignore[index]


def test_secadmin_lists_a_users_sessions_and_ending_one_logs_the_user_out(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="watched")
    _, sec = admin(session, "secadmin")
    headers = f.login(client, "watched")
    listed = client.get(f"/api/v1/security/users/{u.id}/sessions", headers=sec).json()
    assert listed["total"] == 1
    sid = listed["items"][0]["id"]
    assert listed["items"][0]["user_agent"] == "testclient"
    assert client.post(f"/api/v1/security/sessions/{sid}/end", headers=sec).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    assert client.get(f"/api/v1/security/users/{u.id}/sessions", headers=sec).json()["total"] == 0
    assert events(session, "session_ended", u.id)[-1].data["by"] == "admin"  # type: ignore[index]
    gone = client.post(f"/api/v1/security/sessions/{sid}/end", headers=sec)
    assert gone.status_code == 404


def test_a_user_sees_and_ends_their_own_other_sessions(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="two_tabs")
    other = f.bearer(session, u)
    session.commit()
    headers = f.login(client, "two_tabs")
    mine = client.get("/api/v1/me/sessions", headers=headers).json()
    assert mine["total"] == 2 and sum(s["current"] for s in mine["items"]) == 1
    other_id = next(s["id"] for s in mine["items"] if not s["current"])
    assert client.post(f"/api/v1/me/sessions/{other_id}/end", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=other).status_code == 401
    stranger = f.bearer(session, f.user(session, ["recommender"], "hefei"))
    session.commit()
    own_id = next(s["id"] for s in mine["items"] if s["current"])
    assert client.post(f"/api/v1/me/sessions/{own_id}/end", headers=stranger).status_code == 404


def test_the_single_session_policy_ends_the_previous_session(
    session: Session, client: TestClient
) -> None:
    _, sec = admin(session, "secadmin")
    client.patch("/api/v1/security/policy", json={"session_single": True}, headers=sec)
    first = _user_headers(session, client, "one_at_a_time")
    second = f.login(client, "one_at_a_time")
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 200

"""Password policy: rules on every set, history, expiry and the first-login change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from tests import factories as f
from tests.security.helpers import admin, events, token_login


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("Short-1a", ["min_length"]),
        ("alllowercaseletters", ["char_classes"]),
        ("lowercase-and-dashes", ["char_classes"]),
        ("xiaoming-Pass-2026", ["contains_username"]),
        ("abc", ["min_length", "char_classes"]),
    ],
)
def test_sysadmin_creating_a_user_with_a_weak_password_is_told_the_broken_rule(
    session: Session, client: TestClient, password: str, rules: list[str]
) -> None:
    _, headers = admin(session, "sysadmin")
    org = f.org(session, "hefei")
    r = client.post(
        "/api/v1/users",
        json={"username": "xiaoming", "display_name": "小明", "password": password,
              "organization_id": org.id, "roles": ["recommender"]},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "weak_password"
    assert r.json()["rules"] == rules


def test_a_password_of_twelve_characters_and_three_classes_is_accepted(
    session: Session, client: TestClient
) -> None:
    _, headers = admin(session, "sysadmin")
    org = f.org(session, "hefei")
    r = client.post(
        "/api/v1/users",
        json={"username": "hefei_wang", "display_name": "王", "password": "Anhui-sites1",
              "organization_id": org.id, "roles": ["recommender"], "phone": "13812341234"},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["phone_masked"] == "138****1234"


def test_first_login_with_an_admin_set_password_must_change_it_before_anything_else(
    session: Session, client: TestClient
) -> None:
    _, headers = admin(session, "sysadmin")
    org = f.org(session, "hefei")
    client.post(
        "/api/v1/users",
        json={"username": "hefei_zhao", "display_name": "赵", "password": "Temporary-pw-1",
              "organization_id": org.id, "roles": ["recommender"]},
        headers=headers,
    )  # fmt: skip
    r = token_login(client, "hefei_zhao", "Temporary-pw-1")
    assert r.status_code == 200
    assert r.json()["notices"]["password_change_required"] is True
    mine = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = client.get("/api/v1/me", headers=mine)
    assert me.status_code == 200 and me.json()["restriction"] == "password_change"
    refused = client.get("/api/v1/organizations", headers=mine)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": "Temporary-pw-1", "new_password": "My-own-secret-42"},
        headers=mine,
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/v1/organizations", headers=mine).status_code == 200
    assert client.get("/api/v1/me", headers=mine).json()["restriction"] is None


def test_expired_password_forces_a_change_at_the_next_login(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="old_pw")
    session.commit()
    clock.set(clock.now() + timedelta(days=91))
    r = token_login(client, "old_pw")
    assert r.status_code == 200
    notices = r.json()["notices"]
    assert notices["password_expired"] is True and notices["password_change_required"] is True
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (
        client.get("/api/v1/organizations", headers=headers).json()["code"]
        == "password_change_required"
    )
    ok = client.post(
        "/api/v1/me/password",
        json={"current_password": f.PASSWORD, "new_password": "Fresh-password-91"},
        headers=headers,
    )
    assert ok.status_code == 204
    session.refresh(u)
    assert u.must_change_password is False
    assert (
        token_login(client, "old_pw", "Fresh-password-91").json()["notices"][
            "password_change_required"
        ]
        is False
    )


def test_a_password_within_the_age_limit_is_not_expired(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["recommender"], "hefei", username="young_pw")
    session.commit()
    clock.set(clock.now() + timedelta(days=89))
    assert token_login(client, "young_pw").json()["notices"]["password_change_required"] is False


def test_none_of_the_last_five_passwords_may_be_reused(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["recommender"], "hefei", username="cycler")
    session.commit()
    headers = f.login(client, "cycler")
    current = f.PASSWORD
    for i in range(4):
        new = f"Rotated-pass-{i}x"
        r = client.post(
            "/api/v1/me/password",
            json={"current_password": current, "new_password": new},
            headers=headers,
        )
        assert r.status_code == 204, r.text
        current = new
    # Five remembered now: the original and four rotations.
    again = client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": f.PASSWORD},
        headers=headers,
    )
    assert again.status_code == 422 and again.json()["rules"] == ["reused"]
    client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": "Rotated-pass-4x"},
        headers=headers,
    )
    # The original is now the sixth most recent: allowed again.
    back = client.post(
        "/api/v1/me/password",
        json={"current_password": "Rotated-pass-4x", "new_password": f.PASSWORD},
        headers=headers,
    )
    assert back.status_code == 204, back.text


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="two_pcs")
    other = f.bearer(session, u)
    session.commit()
    headers = f.login(client, "two_pcs")
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "Another-pass-77"},
        headers=headers,
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    ok = client.post(
        "/api/v1/me/password",
        json={"current_password": f.PASSWORD, "new_password": "Another-pass-77"},
        headers=headers,
    )
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert len(events(session, "password_change", u.id)) == 1


def test_policy_changes_apply_to_the_next_password(session: Session, client: TestClient) -> None:
    headers = f.bearer(session, f.user(session, ["recommender"], "hefei", username="strict"))
    _, sec = admin(session, "secadmin")
    r = client.patch("/api/v1/security/policy", json={"password_min_length": 20}, headers=sec)
    assert r.status_code == 200 and r.json()["password_min_length"] == 20
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": f.PASSWORD, "new_password": "Only-15-chars-1"},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["rules"] == ["min_length"]
    assert events(session, "policy_change")[-1].data["changes"]["password_min_length"] == {
        "from": 12,
        "to": 20,
    }  # type: ignore[index]

"""Second factor (TOTP): enrolment, the two-step login on both endpoints, recovery codes, policy."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.organizations.models import User
from demosites.security import totp
from tests import factories as f
from tests.security.helpers import events, token_login


def _enrol(client: TestClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    setup = client.post("/api/v1/me/totp/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    codes = client.post(
        "/api/v1/me/totp/confirm", json={"code": totp.code_at(secret)}, headers=headers
    )
    assert codes.status_code == 200, codes.text
    return secret, codes.json()["recovery_codes"]


def _enrolled_user(
    session: Session, client: TestClient, username: str, roles: list[str] | None = None
) -> tuple[User, str, list[str]]:
    u = f.user(session, roles or ["recommender"], "hefei", username=username)
    headers = f.bearer(session, u)
    session.commit()
    secret, codes = _enrol(client, headers)
    clock.set(clock.now() + timedelta(seconds=31))  # the enrolment code's step is spent
    return u, secret, codes


def test_enrolment_shows_a_qr_code_and_refuses_a_wrong_code(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="enroller")
    headers = f.bearer(session, u)
    session.commit()
    setup = client.post("/api/v1/me/totp/setup", headers=headers).json()
    assert setup["qr_svg"].startswith("data:image/svg+xml")
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and "enroller" in setup["otpauth_uri"]
    wrong = client.post(
        "/api/v1/me/totp/confirm",
        json={"code": "000000" if totp.code_at(setup["secret"]) != "000000" else "111111"},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_otp"
    assert client.get("/api/v1/me/security", headers=headers).json()["mfa_enabled"] is False
    ok = client.post(
        "/api/v1/me/totp/confirm", json={"code": totp.code_at(setup["secret"])}, headers=headers
    )
    assert ok.status_code == 200
    assert len(set(ok.json()["recovery_codes"])) == 10
    mine = client.get("/api/v1/me/security", headers=headers).json()
    assert mine["mfa_enabled"] is True and mine["recovery_codes_left"] == 10
    assert len(events(session, "mfa_enabled", u.id)) == 1


def test_confirming_without_starting_is_a_conflict(session: Session, client: TestClient) -> None:
    headers = f.bearer(session, f.user(session, ["recommender"], "hefei"))
    r = client.post("/api/v1/me/totp/confirm", json={"code": "123456"}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "totp_not_started"


def test_token_endpoint_answers_a_second_step_challenge(
    session: Session, client: TestClient
) -> None:
    _, secret, _ = _enrolled_user(session, client, "two_step")
    first = token_login(client, "two_step")
    # RFC 6749 §5.2: the token endpoint refuses with 400 and an `error` (here an extension code).
    assert (
        first.status_code == 400 and first.json()["code"] == first.json()["error"] == "mfa_required"
    )
    mfa_token = first.json()["mfa_token"]
    bad = token_login(
        client,
        "",
        "",
        mfa_token=mfa_token,
        otp="999999" if totp.code_at(secret) != "999999" else "888888",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_otp"
    assert bad.json()["error"] == "invalid_grant"
    good = token_login(client, "", "", mfa_token=mfa_token, otp=totp.code_at(secret))
    assert good.status_code == 200, good.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {good.json()['access_token']}"}
    )
    assert me.json()["username"] == "two_step"
    # The same code is never accepted twice (replay).
    replay = token_login(client, "", "", mfa_token=mfa_token, otp=totp.code_at(secret))
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_otp"


def test_an_mfa_token_is_not_an_access_token_and_expires(
    session: Session, client: TestClient
) -> None:
    _, secret, _ = _enrolled_user(session, client, "not_access")
    mfa_token = token_login(client, "not_access").json()["mfa_token"]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {mfa_token}"}).status_code
        == 401
    )
    clock.set(clock.now() + timedelta(minutes=6))
    late = token_login(client, "", "", mfa_token=mfa_token, otp=totp.code_at(secret))
    assert late.status_code == 400 and late.json()["code"] == "mfa_token_invalid"


def test_browser_login_asks_for_the_code_then_sets_the_cookie(
    session: Session, client: TestClient
) -> None:
    _, secret, _ = _enrolled_user(session, client, "browser_mfa")
    first = client.post(
        "/api/v1/auth/login", json={"username": "browser_mfa", "password": f.PASSWORD}
    )
    assert first.status_code == 200
    assert first.json()["mfa_required"] is True and "set-cookie" not in first.headers
    second = client.post(
        "/api/v1/auth/login/mfa",
        json={"mfa_token": first.json()["mfa_token"], "otp": totp.code_at(secret)},
    )
    assert second.status_code == 200, second.text
    assert (
        second.json()["mfa_required"] is False
        and second.json()["user"]["username"] == "browser_mfa"
    )
    assert client.get("/api/v1/me").json()["username"] == "browser_mfa"


def test_a_recovery_code_logs_in_once(session: Session, client: TestClient) -> None:
    _, _, codes = _enrolled_user(session, client, "lost_phone")
    mfa_token = token_login(client, "lost_phone").json()["mfa_token"]
    assert token_login(client, "", "", mfa_token=mfa_token, otp=codes[0]).status_code == 200
    again = token_login(
        client,
        "",
        "",
        mfa_token=token_login(client, "lost_phone").json()["mfa_token"],
        otp=codes[0],
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_codes_count_toward_the_lock(session: Session, client: TestClient) -> None:
    _enrolled_user(session, client, "guesser")
    mfa_token = token_login(client, "guesser").json()["mfa_token"]
    for i in range(10):
        token_login(client, "", "", mfa_token=mfa_token, otp=f"{i:06d}")
    r = token_login(client, "", "", mfa_token=mfa_token, otp="123456")
    assert r.status_code == 429


def test_a_role_that_requires_mfa_is_told_to_enrol_during_the_grace_period(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="office_new")
    session.commit()
    r = token_login(client, "office_new")
    assert r.status_code == 200
    assert r.json()["notices"]["mfa_enrolment_required"] is True
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/organizations", headers=headers).status_code == 200


def test_after_the_grace_period_the_session_may_only_enrol(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["office"], "office", username="office_late")
    session.commit()
    clock.set(clock.now() + timedelta(days=8))
    r = token_login(client, "office_late")
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).json()["restriction"] == "mfa_enrolment"
    refused = client.get("/api/v1/organizations", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "mfa_enrolment_required"
    _enrol(client, headers)
    assert client.get("/api/v1/organizations", headers=headers).status_code == 200


def test_demo_mode_never_forces_enrolment(
    session: Session, client: TestClient, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(get_settings(), "demo_mode", True)
    f.user(session, ["office"], "office", username="office_demo")
    session.commit()
    clock.set(clock.now() + timedelta(days=30))
    r = client.post("/api/v1/auth/login", json={"username": "office_demo", "password": f.PASSWORD})
    assert r.status_code == 200 and r.json()["mfa_required"] is False
    assert r.json()["notices"]["mfa_enrolment_required"] is True
    assert r.json()["user"]["restriction"] is None
    assert client.get("/api/v1/organizations").status_code == 200


def test_a_required_second_factor_cannot_be_turned_off_but_an_optional_one_can(
    session: Session, client: TestClient
) -> None:
    office = f.user(session, ["office"], "office", username="office_keep")
    optional = f.user(session, ["recommender"], "hefei", username="optional")
    h_office, h_optional = f.bearer(session, office), f.bearer(session, optional)
    session.commit()
    _enrol(client, h_office)
    _enrol(client, h_optional)
    refused = client.post(
        "/api/v1/me/totp/disable", json={"password": f.PASSWORD}, headers=h_office
    )
    assert refused.status_code == 403 and refused.json()["code"] == "mfa_required_by_policy"
    assert (
        client.post(
            "/api/v1/me/totp/disable", json={"password": f.PASSWORD}, headers=h_optional
        ).status_code
        == 204
    )
    assert token_login(client, "optional").status_code == 200


def test_secadmin_resets_a_lost_second_factor(session: Session, client: TestClient) -> None:
    u, _, _ = _enrolled_user(session, client, "reset_me")
    sec = f.bearer(session, f.user(session, ["secadmin"], "office"))
    r = client.post(f"/api/v1/security/users/{u.id}/mfa/reset", headers=sec)
    assert r.status_code == 200 and r.json()["mfa_enabled"] is False
    assert token_login(client, "reset_me").status_code == 200
    assert len(events(session, "mfa_reset", u.id)) == 1

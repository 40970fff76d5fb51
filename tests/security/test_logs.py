"""Login log (登录日志) and security audit (安全审计): entries written, search, export, integrity."""

from __future__ import annotations

import gzip
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from demosites.audit.models import HistoryEntry
from demosites.auth.models import LoginAttempt
from demosites.core.actor import SYSTEM
from demosites.core.clock import clock
from demosites.security.logs import archive_old_entries
from tests import factories as f
from tests.security.helpers import admin, events, token_login


def test_every_login_success_and_failure_is_in_the_login_log_and_the_audit(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="logged")
    session.commit()
    token_login(client, "logged", "wrong-password")
    token_login(client, "logged")
    token_login(client, "nobody_here", "x")
    rows = list(
        session.exec(
            select(LoginAttempt)
            .where(LoginAttempt.username.in_(["logged", "nobody_here"]))
            .order_by(LoginAttempt.id)
        )
    )  # type: ignore[attr-defined]
    assert [(r.username, r.success, r.reason) for r in rows] == [
        ("logged", False, "bad_credentials"), ("logged", True, "ok"), ("nobody_here", False, "bad_credentials"),
    ]  # fmt: skip
    assert all(r.client_ip == "testclient" and r.user_agent == "testclient" for r in rows)
    failures = events(session, "login_failure")
    assert [e.data["subject"] for e in failures][-2:] == ["logged", "nobody_here"]  # type: ignore[index]
    assert failures[-2].object_id == u.id and failures[-2].to_state == "failure"
    assert events(session, "login_success", u.id)[-1].to_state == "success"


def test_auditor_searches_the_login_log(session: Session, client: TestClient) -> None:
    f.user(session, ["recommender"], "hefei", username="searched")
    _, aud = admin(session, "auditor")
    token_login(client, "searched", "bad")
    token_login(client, "searched")
    r = client.get(
        "/api/v1/security/login-log",
        params={"username": "searched", "success": "false"},
        headers=aud,
    )
    assert r.status_code == 200
    assert r.json()["total"] == 1 and r.json()["items"][0]["reason"] == "bad_credentials"


def test_login_page_warns_of_the_last_login_and_failures_since(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["recommender"], "hefei", username="warned")
    session.commit()
    first = token_login(client, "warned").json()["notices"]
    assert first["previous_login_at"] is None
    token_login(client, "warned", "bad1")
    token_login(client, "warned", "bad2")
    notices = token_login(client, "warned").json()["notices"]
    assert notices["previous_login_at"] is not None and notices["previous_login_ip"] == "testclient"
    assert notices["failed_attempts_since"] == 2


def test_a_refused_request_is_audited_although_the_request_rolled_back(
    session: Session, client: TestClient
) -> None:
    u, headers = admin(session, "sysadmin")
    r = client.get("/api/v1/security/audit", headers=headers)
    assert r.status_code == 403
    denied = [e for e in events(session, "access_denied") if e.actor_user_id == u.id]
    assert len(denied) == 1
    assert denied[0].data["object"] == "GET /api/v1/security/audit"  # type: ignore[index]
    assert denied[0].to_state == "failure" and denied[0].data["reason"] == "forbidden"  # type: ignore[index]


def test_lock_and_unlock_are_audited_and_the_lock_refuses_login(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="suspect")
    open_session = f.bearer(session, u)
    _, sec = admin(session, "secadmin")
    locked = client.post(
        f"/api/v1/security/users/{u.id}/lock", json={"reason": "离职"}, headers=sec
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True
    assert client.get("/api/v1/me", headers=open_session).status_code == 401
    r = token_login(client, "suspect")
    assert r.status_code == 400 and r.json()["code"] == "account_locked"
    # A wrong password still answers like any wrong password: the lock is not revealed.
    assert token_login(client, "suspect", "bad").json()["code"] == "invalid_credentials"
    assert (
        client.post(f"/api/v1/security/users/{u.id}/unlock", headers=sec).json()["locked"] is False
    )
    assert token_login(client, "suspect").status_code == 200
    assert events(session, "account_locked", u.id)[-1].data["reason"] == "离职"  # type: ignore[index]
    assert len(events(session, "account_unlocked", u.id)) == 1


def test_admin_sees_the_failed_login_throttle_and_lifts_it(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="forgetful")
    _, sec = admin(session, "secadmin")
    for i in range(10):
        with TestClient(client.app, client=(f"10.1.0.{i}", 5000)) as other:  # type: ignore[arg-type]
            other.post("/api/v1/auth/token", data={"username": "forgetful", "password": f"bad{i}"})
    assert token_login(client, "forgetful").status_code == 429
    seen = client.get(f"/api/v1/security/users/{u.id}", headers=sec).json()
    assert seen["throttled_until"] is not None and seen["locked"] is False
    client.post(f"/api/v1/security/users/{u.id}/unlock", headers=sec)
    assert token_login(client, "forgetful").status_code == 200


def test_secadmin_resets_a_password_which_must_be_changed(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="forgot")
    _, sec = admin(session, "secadmin")
    temp = client.post(f"/api/v1/security/users/{u.id}/reset-password", headers=sec).json()[
        "temporary_password"
    ]
    assert token_login(client, "forgot").status_code == 400
    r = token_login(client, "forgot", temp)
    assert r.json()["notices"]["password_change_required"] is True
    assert len(events(session, "password_reset", u.id)) == 1


def test_lists_mask_phones_and_viewing_one_whole_is_audited(
    session: Session, client: TestClient
) -> None:
    u = f.user(session, ["recommender"], "hefei", username="with_phone")
    u.phone = "13812341234"
    session.add(u)
    sys_user, sys = admin(session, "sysadmin")
    listed = client.get("/api/v1/users", params={"q": "with_phone"}, headers=sys).json()["items"][0]
    assert listed["phone_masked"] == "138****1234" and "phone" not in listed
    assert (
        client.get("/api/v1/security/users", params={"q": "with_phone"}, headers=sys).json()[
            "items"
        ][0]["phone_masked"]
        == "138****1234"
    )
    whole = client.get(f"/api/v1/users/{u.id}/contact", headers=sys)
    assert whole.json()["phone"] == "13812341234"
    viewed = events(session, "personal_data_view", u.id)
    assert len(viewed) == 1 and viewed[0].actor_user_id == sys_user.id
    _, rec = admin(session, "recommender")
    assert client.get(f"/api/v1/users/{u.id}/contact", headers=rec).status_code == 403


def test_auditor_searches_the_security_audit_by_event_and_result(
    session: Session, client: TestClient
) -> None:
    f.user(session, ["recommender"], "hefei", username="audited")
    _, aud = admin(session, "auditor")
    token_login(client, "audited", "bad")
    r = client.get(
        "/api/v1/security/audit",
        params={"event": "login_failure", "subject": "audited"},
        headers=aud,
    )
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert (
        item["event"] == "login_failure"
        and item["result"] == "failure"
        and item["subject"] == "audited"
    )
    assert item["ip"] == "testclient" and item["data"]["reason"] == "bad_credentials"
    none = client.get(
        "/api/v1/security/audit",
        params={"event": "login_failure", "subject": "audited", "result": "success"},
        headers=aud,
    )
    assert none.json()["total"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_auditor_exports_both_logs_and_the_export_is_audited(
    session: Session, client: TestClient, fmt: str
) -> None:
    f.user(session, ["recommender"], "hefei", username="exported")
    aud_user, aud = admin(session, "auditor")
    token_login(client, "exported", "=cmd|bad")
    login_log = client.get(
        "/api/v1/security/login-log/export",
        params={"format": fmt, "username": "exported"},
        headers=aud,
    )
    audit = client.get("/api/v1/security/audit/export", params={"format": fmt}, headers=aud)
    assert login_log.status_code == audit.status_code == 200
    assert "attachment" in login_log.headers["content-disposition"]
    if fmt == "csv":
        body = login_log.content.decode("utf-8-sig")
        assert "用户名 username" in body and "exported" in body and "bad_credentials" in body
    else:
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(audit.content)).active
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0][2] == "事件 event" and any(r[2] == "login_failure" for r in rows[1:])
    exports = [e for e in events(session, "export") if e.actor_user_id == aud_user.id]
    assert [e.data["object"] for e in exports] == ["login_log", "security_audit"]  # type: ignore[index]


@pytest.mark.parametrize(
    "statement", ["UPDATE history SET action = 'forged'", "DELETE FROM history"]
)
def test_the_audit_store_refuses_update_and_delete(
    session: Session, client: TestClient, statement: str
) -> None:
    token_login(client, "anyone", "x")  # at least one entry
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.execute(text(statement))
    assert "append-only" in str(refused.value)


def test_the_verifier_names_a_tampered_entry(session: Session, client: TestClient) -> None:
    _, aud = admin(session, "auditor")
    token_login(client, "tamper_target", "x")
    assert client.get("/api/v1/security/audit/verify", headers=aud).json()["intact"] is True
    victim = session.exec(select(HistoryEntry).order_by(HistoryEntry.id.desc())).first()  # type: ignore[union-attr]
    assert victim is not None
    victim_id = victim.id  # read now: the request below ends the transaction the row came from
    # Someone with database access bypasses the product: drops the trigger and edits a row.
    dialect = session.get_bind().dialect.name
    with session.begin_nested():
        if dialect == "postgresql":
            session.execute(text("ALTER TABLE history DISABLE TRIGGER history_no_update_delete"))
        else:
            session.execute(text("DROP TRIGGER history_no_update"))
        session.execute(
            text("UPDATE history SET to_state = 'success' WHERE id = :id"), {"id": victim_id}
        )
        session.expire_all()
        report = client.get("/api/v1/security/audit/verify", headers=aud).json()
        assert report["intact"] is False and victim_id in report["tampered_ids"]
        assert [(f["kind"], f["entry_id"]) for f in report["findings"]] == [("edited", victim_id)]
        session.rollback()


def test_entries_past_retention_are_archived_to_a_file_and_stay_in_the_store(
    session: Session, tmp_path: Path
) -> None:
    start = clock.now()
    clock.set(start - timedelta(days=200))
    from demosites.security.audit import SecurityEvent, anonymous, log_event

    old = log_event(session, SecurityEvent.login_failure, anonymous("ancient"), result="failure")
    clock.set(start)
    recent = log_event(session, SecurityEvent.login_failure, anonymous("recent"), result="failure")
    archive = archive_old_entries(session, SYSTEM, tmp_path)
    assert archive is not None and archive.last_history_id >= (old.id or 0)
    with gzip.open(archive.path, "rt", encoding="utf-8") as fh:
        archived = [json.loads(line) for line in fh]
    ids = {a["id"] for a in archived}
    assert old.id in ids and recent.id not in ids
    assert all(a["object_type"] == "security" for a in archived)
    assert session.get(HistoryEntry, old.id) is not None  # never deleted
    assert archive_old_entries(session, SYSTEM, tmp_path) is None  # nothing new to archive
    assert len(events(session, "audit_archived")) >= 1

"""The caller's own document jobs as a list (so the SPA's tray survives a reload), and their
retention: a finished job's file is deleted DOCUMENT_JOB_RETENTION_DAYS after it finished (by the
sweep at startup and in the worker), the job then reads as expired and its download answers 410."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.core import db as core_db
from demosites.core.clock import clock
from demosites.core.config import ROOT, get_settings
from demosites.core.db import make_engine
from demosites.documents import jobs
from demosites.documents.models import DocumentJob, JobStatus
from demosites.files.models import StoredFile
from demosites.files.service import upload_root
from demosites.organizations.models import User
from demosites.organizations.service import seed_fixed_organizations
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.conftest import _APP, make_client
from tests.documents.helpers import ok

NOW = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
ZIP = b"PK\x03\x04 a zip of forms"


def _job(
    s: Session,
    user: User,
    status: JobStatus = JobStatus.done,
    created: datetime = NOW,
    finished: datetime | None = None,
    heartbeat: datetime | None = None,
    with_file: bool | None = None,
) -> DocumentJob:
    """A job row as the runner leaves it; a done one with its file on disk and its file row."""
    file_id = None
    if with_file if with_file is not None else status == JobStatus.done:
        key = f"documents/test/{os.urandom(8).hex()}.zip"
        (upload_root() / key).parent.mkdir(parents=True, exist_ok=True)
        (upload_root() / key).write_bytes(ZIP)
        stored = StoredFile(owner_type="document_job", owner_id=0, purpose="forms", filename="申报审批表.zip",
                            content_type="application/zip", size=len(ZIP), sha256="0" * 64, storage_key=key,
                            uploaded_by=user.id, uploaded_at=finished or created)  # fmt: skip
        s.add(stored)
        s.flush()
        file_id = stored.id
    if status == JobStatus.done and finished is None:
        finished = created + timedelta(minutes=1)
    job = DocumentJob(kind="forms", params={}, actor={}, requested_by_user_id=user.id, status=status,
                      file_id=file_id, done_items=4 if status == JobStatus.done else 1, total_items=4,
                      created_at=created, started_at=created, heartbeat_at=heartbeat or finished or created,
                      finished_at=finished)  # fmt: skip
    s.add(job)
    s.flush()
    return job


def _path(s: Session, job: DocumentJob) -> Path:
    stored = s.get(StoredFile, job.file_id)
    assert stored is not None
    return upload_root() / stored.storage_key


# ---- the list ---------------------------------------------------------------------------------


def test_the_list_shows_only_the_callers_own_jobs_newest_first_each_as_its_own_page_shows_it(
    api: Api, session: Session
) -> None:
    clock.set(NOW)
    office, other = b.person(session, ["office"], "office"), b.person(session, ["office"], "office")
    mine = [_job(session, office, created=NOW - timedelta(hours=h)) for h in (3, 1, 2)]
    _job(session, office, JobStatus.failed, created=NOW - timedelta(hours=4))
    theirs = _job(session, other, created=NOW - timedelta(minutes=5))

    page = ok(api.get(office, "/api/v1/document-jobs"))
    ids = [j["id"] for j in page["items"]]
    assert page["total"] == 4 and len(ids) == 4 and theirs.id not in ids
    assert ids[:3] == [mine[1].id, mine[2].id, mine[0].id]  # newest first
    for item in page["items"]:
        assert item == ok(api.get(office, f"/api/v1/document-jobs/{item['id']}"))
    done = page["items"][0]
    assert done["download_url"] == f"/api/v1/document-jobs/{mine[1].id}/file"
    assert done["filename"] == "申报审批表.zip"
    finished = datetime.fromisoformat(done["finished_at"])
    assert datetime.fromisoformat(done["expires_at"]) == finished + timedelta(days=7)

    second = ok(api.get(office, "/api/v1/document-jobs", params={"limit": 2, "offset": 1}))
    assert second["total"] == 4 and [j["id"] for j in second["items"]] == ids[1:3]
    others = ok(api.get(other, "/api/v1/document-jobs"))
    assert others["total"] == 1 and [j["id"] for j in others["items"]] == [theirs.id]


def test_the_state_filter_matches_the_state_each_item_reports(api: Api, session: Session) -> None:
    """A done job past the retention reads as expired and a running one without a heartbeat for
    long reads as failed: the filter follows what the items say, not the stored column."""
    clock.set(NOW)
    office = b.person(session, ["office"], "office")
    fresh = _job(session, office, created=NOW - timedelta(days=1))
    old = _job(session, office, created=NOW - timedelta(days=8))
    swept = _job(session, office, JobStatus.expired, created=NOW - timedelta(days=30),
                 finished=NOW - timedelta(days=30), with_file=False)  # fmt: skip
    running = _job(session, office, JobStatus.running, heartbeat=NOW - timedelta(seconds=5))
    lost = _job(session, office, JobStatus.running, created=NOW - timedelta(hours=1),
                heartbeat=NOW - timedelta(minutes=30))  # fmt: skip
    failed = _job(session, office, JobStatus.failed, created=NOW - timedelta(hours=2))
    queued = _job(session, office, JobStatus.queued)

    def listed(state: str) -> set[int]:
        page = ok(api.get(office, "/api/v1/document-jobs", params={"status": state}))
        assert all(j["status"] == state for j in page["items"]), page
        assert page["total"] == len(page["items"])
        return {j["id"] for j in page["items"]}

    assert listed("done") == {fresh.id}
    assert listed("expired") == {old.id, swept.id}
    assert listed("running") == {running.id}
    assert listed("failed") == {lost.id, failed.id}
    assert listed("queued") == {queued.id}
    bad = api.get(office, "/api/v1/document-jobs", params={"status": "lost"})
    assert bad.status_code == 422


# ---- retention ----------------------------------------------------------------------------------


@pytest.fixture
def live(fresh_engine: Engine, live_client: TestClient) -> Iterator[tuple[Api, Session]]:
    with Session(fresh_engine, expire_on_commit=False) as s:
        seed_fixed_organizations(s)
        s.commit()
        yield Api(live_client, s), s
    clock.set(None)


def _expired_answer(api: Api, user: User, job: DocumentJob) -> dict[str, Any]:
    r = api.get(user, f"/api/v1/document-jobs/{job.id}/file")
    assert r.status_code == 410, r.text
    problem = r.json()
    assert problem["code"] == "document_job_expired"
    assert "7 days" in problem["detail"] and "已过期" in problem["detail"]
    return problem


def test_a_job_past_the_retention_is_swept_a_younger_one_kept_and_the_download_answers_410(
    live: tuple[Api, Session],
) -> None:
    api, s = live
    clock.set(NOW)
    office = b.person(s, ["office"], "office")
    old = _job(s, office, created=NOW - timedelta(days=7, minutes=2))  # finished 7 days + 1 min ago
    young = _job(s, office, created=NOW - timedelta(days=6, hours=23))
    old_path, young_path = _path(s, old), _path(s, young)
    s.commit()  # and no transaction left open: on SQLite the sweep takes the write lock
    old_file_id = old.file_id

    # Past the retention, not yet swept: the API already says so.
    shown = ok(api.get(office, f"/api/v1/document-jobs/{old.id}"))
    assert shown["status"] == "expired" and shown["download_url"] is None
    _expired_answer(api, office, old)

    assert jobs.sweep_expired_now() == 1
    assert not old_path.exists() and young_path.read_bytes() == ZIP
    s.expire_all()
    row = s.get(DocumentJob, old.id)
    assert row is not None and row.status == JobStatus.expired and row.file_id is None
    assert s.get(StoredFile, old_file_id) is None
    kept = s.get(DocumentJob, young.id)
    assert kept is not None and kept.status == JobStatus.done and kept.file_id == young.file_id

    shown = ok(api.get(office, f"/api/v1/document-jobs/{old.id}"))
    assert (
        shown["status"] == "expired" and shown["download_url"] is None and shown["progress"] == 1.0
    )
    _expired_answer(api, office, old)
    got = api.get(office, f"/api/v1/document-jobs/{young.id}/file")
    assert got.status_code == 200 and got.content == ZIP
    assert jobs.sweep_expired_now() == 0  # nothing left to do

    # Another day and the younger one goes too.
    clock.set(NOW + timedelta(days=1))
    assert jobs.sweep_expired_now() == 1 and not young_path.exists()
    assert ok(api.get(office, f"/api/v1/document-jobs/{young.id}"))["status"] == "expired"


def test_the_retention_is_a_setting_and_the_app_sweeps_when_it_starts(
    live: tuple[Api, Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, s = live
    clock.set(NOW)
    monkeypatch.setattr(get_settings(), "document_job_retention_days", 2)
    office = b.person(s, ["office"], "office")
    old = _job(s, office, created=NOW - timedelta(days=3))
    young = _job(s, office, created=NOW - timedelta(days=1))
    old_path, young_path = _path(s, old), _path(s, young)
    s.commit()  # and no transaction left open: on SQLite the sweep takes the write lock

    with make_client(_APP):  # the app's startup
        pass
    assert not old_path.exists() and young_path.exists()
    r = api.get(office, f"/api/v1/document-jobs/{old.id}/file")
    assert r.status_code == 410 and "2 days" in r.json()["detail"] and "2 天" in r.json()["detail"]


def test_the_worker_sweeps_expired_job_files(fresh_engine: Engine) -> None:
    """The worker process runs on real time: the job finished eight real days ago."""
    finished = datetime.now(UTC) - timedelta(days=8)
    with Session(fresh_engine, expire_on_commit=False) as s:
        seed_fixed_organizations(s)
        office = b.person(s, ["office"], "office")
        old = _job(s, office, created=finished - timedelta(minutes=1), finished=finished)
        young = _job(s, office, created=datetime.now(UTC) - timedelta(hours=1))
        s.commit()
        old_path, young_path = _path(s, old), _path(s, young)
    env = {**os.environ, "DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False),
           "UPLOAD_DIR": str(upload_root())}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "demosites.integration.worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert not old_path.exists() and young_path.exists()
    with Session(fresh_engine) as s:
        row = s.get(DocumentJob, old.id)
        assert row is not None and row.status == JobStatus.expired


def test_the_sweep_does_not_stop_startup_when_the_database_is_unreachable(tmp_path: Path) -> None:
    previous = core_db._engine
    core_db.set_engine(make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    try:
        assert jobs.sweep_expired_now() is None
    finally:
        core_db.set_engine(previous)

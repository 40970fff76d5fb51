"""Long exports as background jobs: the request records a `document_job` and returns at once; a
thread of the API process (started when that transaction commits) generates the file, reporting
progress in the row, so any worker process can answer for it; a failed job says why."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.db import get_engine
from demosites.core.errors import DomainError
from demosites.documents.errors import JobNotFound, JobNotReady
from demosites.documents.models import DocumentJob, JobStatus
from demosites.documents.schemas import DocumentJobRead
from demosites.files.models import StoredFile
from demosites.files.service import upload_root

log = logging.getLogger("demosites.documents")

Progress = Callable[[int, int], None]
# kind → generator(read-only session, actor as it asked, params, progress) → (bytes, file name,
# content type). Registered by the modules that know each kind of document.
GENERATORS: dict[
    str, Callable[[Session, Actor, dict[str, Any], Progress], tuple[bytes, str, str]]
] = {}
# A running job whose heartbeat is older than this was lost (the process stopped).
STALE_AFTER = timedelta(minutes=10)
PROGRESS_EVERY_SECONDS = 0.5
_PENDING = "document_jobs_to_start"


def _snapshot(actor: Actor) -> dict[str, Any]:
    data = asdict(actor)
    data["roles"] = sorted(actor.roles)
    data["scopes"] = sorted(actor.scopes) if actor.scopes is not None else None
    return data


def _actor(data: dict[str, Any]) -> Actor:
    return Actor(**{
        **data, "roles": frozenset(data["roles"]),
        "scopes": frozenset(data["scopes"]) if data.get("scopes") is not None else None,
    })  # fmt: skip


def start(
    session: Session, actor: Actor, kind: str, params: dict[str, Any], total: int
) -> DocumentJob:
    """Records the job in the caller's transaction; its thread starts only if that commits."""
    job = DocumentJob(
        kind=kind, params=params, actor=_snapshot(actor), requested_by_user_id=actor.user_id,
        requested_by_service_account_id=actor.service_account_id, total_items=total,
        created_at=clock.now(),
    )  # fmt: skip
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING, []).append(job.id)
    return job


@event.listens_for(OrmSession, "after_commit")
def _launch_committed(session: OrmSession) -> None:
    for job_id in session.info.pop(_PENDING, []):
        launch(job_id)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_rolled_back(session: OrmSession, _previous: object) -> None:
    session.info.pop(_PENDING, None)


def _thread(job_id: int) -> None:
    threading.Thread(target=run, args=(job_id,), name=f"document-job-{job_id}", daemon=True).start()


# Replaceable (a separate worker could poll queued jobs instead).
launch: Callable[[int], None] = _thread


def _set(job_id: int, **values: Any) -> None:
    """One short write transaction (generation itself holds no write lock)."""
    with Session(get_engine()) as s:
        s.execute(update(DocumentJob).where(col(DocumentJob.id) == job_id).values(**values))
        s.commit()


def run(job_id: int) -> None:
    engine = get_engine()
    with Session(engine) as s:
        job = s.get(DocumentJob, job_id)
        if job is None or job.status != JobStatus.queued:
            return
        now = clock.now()
        job.status, job.started_at, job.heartbeat_at = JobStatus.running, now, now
        kind, params, actor = job.kind, dict(job.params), _actor(job.actor)
        s.add(job)
        s.commit()
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if done < total and time.monotonic() - last < PROGRESS_EVERY_SECONDS:
            return
        last = time.monotonic()
        _set(job_id, done_items=done, total_items=total, heartbeat_at=clock.now())

    try:
        # A read-only snapshot: on SQLite a plain BEGIN, so other requests keep writing.
        with engine.connect().execution_options(readonly=True) as conn, Session(bind=conn) as rs:
            data, filename, content_type = GENERATORS[kind](rs, actor, params, progress)
            rs.rollback()
        _finish(job_id, actor, kind, data, filename, content_type)
    except DomainError as exc:
        _set(job_id, status=JobStatus.failed, error=exc.detail, finished_at=clock.now())
    except Exception as exc:  # the job must say it failed, whatever happened
        log.exception("document job %s failed", job_id)
        _set(job_id, status=JobStatus.failed, finished_at=clock.now(),
             error=f"Internal error while generating ({exc.__class__.__name__}) / 生成时发生内部错误")  # fmt: skip


def _finish(
    job_id: int, actor: Actor, kind: str, data: bytes, filename: str, content_type: str
) -> None:
    root = upload_root()
    key = f"documents/{clock.now():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix}"
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        with Session(get_engine()) as s:
            row = StoredFile(
                owner_type="document_job", owner_id=job_id, purpose=kind, filename=filename[:255],
                content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                storage_key=key, uploaded_by=actor.user_id, uploaded_at=clock.now(),
            )  # fmt: skip
            s.add(row)
            s.flush()
            s.execute(
                update(DocumentJob).where(col(DocumentJob.id) == job_id).values(
                    status=JobStatus.done, file_id=row.id, done_items=DocumentJob.total_items,
                    heartbeat_at=clock.now(), finished_at=clock.now(),
                )
            )  # fmt: skip
            s.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# ---- reading ---------------------------------------------------------------------------------


def _mine(actor: Actor) -> Any:
    if actor.service_account_id is not None:
        return col(DocumentJob.requested_by_service_account_id) == actor.service_account_id
    return col(DocumentJob.requested_by_user_id) == actor.user_id


def get_job(session: Session, actor: Actor, job_id: int) -> DocumentJob:
    """Only who started a job sees it (another's → 404, like any object out of scope)."""
    if actor.user_id is None and actor.service_account_id is None:
        raise JobNotFound()
    job = session.exec(select(DocumentJob).where(DocumentJob.id == job_id, _mine(actor))).first()
    if job is None:
        raise JobNotFound(f"Document job {job_id} not found / 未找到文档任务 {job_id}")
    return job


def is_lost(job: DocumentJob) -> bool:
    if job.status not in (JobStatus.queued, JobStatus.running):
        return False
    beat = job.heartbeat_at or job.created_at
    return clock.now() - beat > STALE_AFTER


def result(session: Session, actor: Actor, job_id: int) -> tuple[Path, StoredFile]:
    job = get_job(session, actor, job_id)
    if job.status != JobStatus.done or job.file_id is None:
        reason = f": {job.error}" if job.error else ""
        raise JobNotReady(f"Job {job_id} is {job.status}{reason} / 任务状态：{job.status}{reason}")
    row = session.get(StoredFile, job.file_id)
    assert row is not None
    return upload_root() / row.storage_key, row


def job_read(session: Session, job: DocumentJob) -> DocumentJobRead:
    stored = session.get(StoredFile, job.file_id) if job.file_id else None
    status, error = job.status, job.error
    if is_lost(job):
        status = JobStatus.failed
        error = "The export stopped (server restarted?); start it again / 生成中断（服务可能已重启），请重新生成"
    total = max(job.total_items, 1)
    return DocumentJobRead(
        id=job.id or 0, kind=job.kind, status=status, done_items=job.done_items,  # type: ignore[arg-type]
        total_items=job.total_items, progress=1.0 if status == JobStatus.done else min(job.done_items / total, 1.0),
        error=error, filename=stored.filename if stored else None, size=stored.size if stored else None,
        download_url=f"/api/v1/document-jobs/{job.id}/file" if stored else None,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip


def read_job(session: Session, actor: Actor, job_id: int) -> DocumentJobRead:
    return job_read(session, get_job(session, actor, job_id))

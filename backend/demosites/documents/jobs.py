"""Long exports as background jobs: the request records a `document_job` and returns at once; a
thread of the API process (started when that transaction commits) generates the file, reporting
progress in the row, so any worker process can answer for it; a failed job says why. A finished
job's file is kept DOCUMENT_JOB_RETENTION_DAYS days, then swept (the job reads as expired)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, event, func, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.core.errors import DomainError
from demosites.documents.errors import JobExpired, JobNotFound, JobNotReady
from demosites.documents.models import DocumentJob, JobStatus
from demosites.documents.schemas import DocumentJobPage, DocumentJobRead
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


def _anonymous(actor: Actor) -> bool:
    return actor.user_id is None and actor.service_account_id is None


def get_job(session: Session, actor: Actor, job_id: int) -> DocumentJob:
    """Only who started a job sees it (another's → 404, like any object out of scope)."""
    if _anonymous(actor):
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


def retention() -> timedelta:
    return timedelta(days=get_settings().document_job_retention_days)


def expires_at(job: DocumentJob) -> datetime | None:
    if job.status not in (JobStatus.done, JobStatus.expired):
        return None
    return (job.finished_at or job.created_at) + retention()


def is_expired(job: DocumentJob) -> bool:
    """Expired once swept, and already when past the retention but not yet swept (the sweep runs
    at startup and every few minutes in the worker): the API answers the same either way."""
    at = expires_at(job)
    return job.status == JobStatus.expired or (at is not None and clock.now() >= at)


def _expired_detail(job: DocumentJob) -> str:
    days = get_settings().document_job_retention_days
    return (
        f"The file of document job {job.id} was kept {days} days after it finished and has been "
        f"deleted; start the export again / 文档任务 {job.id} 的文件在生成后保留 {days} 天，"
        "已过期删除，请重新生成"
    )


def result(session: Session, actor: Actor, job_id: int) -> tuple[Path, StoredFile]:
    job = get_job(session, actor, job_id)
    if is_expired(job):
        raise JobExpired(_expired_detail(job))
    if job.status != JobStatus.done or job.file_id is None:
        reason = f": {job.error}" if job.error else ""
        raise JobNotReady(f"Job {job_id} is {job.status}{reason} / 任务状态：{job.status}{reason}")
    row = session.get(StoredFile, job.file_id)
    assert row is not None
    path = upload_root() / row.storage_key
    if not path.is_file():  # swept by another process a moment ago
        raise JobExpired(_expired_detail(job))
    return path, row


def _read(job: DocumentJob, stored: StoredFile | None) -> DocumentJobRead:
    status, error = job.status, job.error
    if is_lost(job):
        status = JobStatus.failed
        error = "The export stopped (server restarted?); start it again / 生成中断（服务可能已重启），请重新生成"
    elif is_expired(job):
        status, stored = JobStatus.expired, None
    total = max(job.total_items, 1)
    finished = status in (JobStatus.done, JobStatus.expired)
    return DocumentJobRead(
        id=job.id or 0, kind=job.kind, status=status, done_items=job.done_items,  # type: ignore[arg-type]
        total_items=job.total_items, progress=1.0 if finished else min(job.done_items / total, 1.0),
        error=error, filename=stored.filename if stored else None, size=stored.size if stored else None,
        download_url=f"/api/v1/document-jobs/{job.id}/file" if stored else None,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
        expires_at=expires_at(job),
    )  # fmt: skip


def job_read(session: Session, job: DocumentJob) -> DocumentJobRead:
    return _read(job, session.get(StoredFile, job.file_id) if job.file_id else None)


def read_job(session: Session, actor: Actor, job_id: int) -> DocumentJobRead:
    return job_read(session, get_job(session, actor, job_id))


def _shown_as(status: JobStatus, now: datetime) -> Any:
    """The rows `_read` reports with `status`: a stale queued/running job reads as failed, a done
    one past the retention as expired (the same boundaries as `is_lost` and `is_expired`)."""
    stored = col(DocumentJob.status)
    beat = func.coalesce(DocumentJob.heartbeat_at, DocumentJob.created_at)
    finished = func.coalesce(DocumentJob.finished_at, DocumentJob.created_at)
    stale, cutoff = now - STALE_AFTER, now - retention()
    if status in (JobStatus.queued, JobStatus.running):
        return and_(stored == status, beat >= stale)
    if status == JobStatus.failed:
        return or_(
            stored == status,
            and_(stored.in_([JobStatus.queued, JobStatus.running]), beat < stale),
        )
    if status == JobStatus.done:
        return and_(stored == status, finished > cutoff)
    return or_(stored == JobStatus.expired, and_(stored == JobStatus.done, finished <= cutoff))


def list_jobs(
    session: Session, actor: Actor, limit: int, offset: int, status: JobStatus | None = None
) -> DocumentJobPage:
    """The caller's own jobs, newest first, as `read_job` answers each; a page costs three
    statements whatever its size (count, page, the page's files)."""
    if _anonymous(actor):
        return DocumentJobPage(items=[], total=0)
    where = [_mine(actor)]
    if status is not None:
        where.append(_shown_as(status, clock.now()))
    total = session.exec(select(func.count()).select_from(DocumentJob).where(*where)).one()
    rows = session.exec(
        select(DocumentJob)
        .where(*where)
        .order_by(col(DocumentJob.created_at).desc(), col(DocumentJob.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    file_ids = [j.file_id for j in rows if j.file_id is not None]
    files = (
        {f.id: f for f in session.exec(select(StoredFile).where(col(StoredFile.id).in_(file_ids)))}
        if file_ids
        else {}
    )
    items = [_read(j, files.get(j.file_id) if j.file_id else None) for j in rows]
    return DocumentJobPage(items=items, total=int(total))


# ---- retention ---------------------------------------------------------------------------------

SWEEP_BATCH = 200


def _due(now: datetime) -> Any:
    finished = func.coalesce(DocumentJob.finished_at, DocumentJob.created_at)
    return and_(col(DocumentJob.status) == JobStatus.done, finished <= now - retention())


def expire_due(session: Session, now: datetime, batch: int = SWEEP_BATCH) -> list[str]:
    """Marks up to `batch` done jobs past the retention expired and deletes their file rows, in
    the caller's transaction; answers the storage keys whose bytes may go once it commits. Each
    job is taken by a conditional update, so two sweeping processes never both claim one."""
    due = session.exec(
        select(DocumentJob.id, DocumentJob.file_id)
        .where(_due(now))
        .order_by(col(DocumentJob.id))
        .limit(batch)
    ).all()
    keys: list[str] = []
    for job_id, file_id in due:
        claimed = session.connection().execute(
            update(DocumentJob)
            .where(col(DocumentJob.id) == job_id, col(DocumentJob.status) == JobStatus.done)
            .values(status=JobStatus.expired, file_id=None)
        )
        if not claimed.rowcount or file_id is None:
            continue
        stored = session.get(StoredFile, file_id)
        if stored is not None:
            keys.append(stored.storage_key)
            session.delete(stored)
    session.flush()
    return keys


def sweep_expired_now() -> int | None:
    """The startup and periodic sweep (next to the orphan-file sweep): deletes the files of jobs
    past the retention. It writes only when a read finds something due, so an app starting
    beside an open write transaction is not held up. Never raises; None when it could not run.
    The bytes go after the commit: if that deletion fails, no row names them any more and the
    orphan sweep removes them later."""
    engine = get_engine()
    removed = 0
    try:
        for _batch in range(100):  # bounded: at most 20,000 jobs a pass, the rest next time
            with engine.connect().execution_options(readonly=True) as conn, Session(bind=conn) as s:
                if s.exec(select(DocumentJob.id).where(_due(clock.now())).limit(1)).first() is None:
                    break
            with Session(engine) as s:
                keys = expire_due(s, clock.now())
                s.commit()
            root = upload_root()
            for key in keys:
                (root / key).unlink(missing_ok=True)
            removed += len(keys)
    except Exception:  # noqa: BLE001  (the database may be down at startup: try again later)
        log.warning("document job retention sweep skipped", exc_info=True)
        return None
    if removed:
        log.info("document job retention sweep deleted %d expired file(s)", removed)
    return removed

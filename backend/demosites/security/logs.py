"""The login log (登录日志) and the security audit (安全审计): search, export, verify and archive."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, select

from demosites.audit import service as history
from demosites.audit.models import HistoryEntry
from demosites.auth.models import LoginAttempt
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import VAR_DIR
from demosites.security.audit import OBJECT_TYPE, SecurityEvent, log_event
from demosites.security.models import AuditArchive
from demosites.security.policy import get_policy
from demosites.security.schemas import AuditEntryRead, ChainFinding, ChainReport, LoginLogRead

EXPORT_LIMIT = 100_000  # rows in one export; narrow the dates for more
ARCHIVE_DIR = VAR_DIR / "archive"


@dataclass
class LoginLogFilter:
    username: str | None = None
    client_ip: str | None = None
    success: bool | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AuditFilter:
    events: list[str] | None = None
    subject: str | None = None
    object_id: int | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_login_log(
    session: Session, flt: LoginLogFilter, limit: int, offset: int
) -> tuple[list[LoginLogRead], int]:
    stmt = select(LoginAttempt)
    if flt.username:
        stmt = stmt.where(col(LoginAttempt.username).contains(flt.username))
    if flt.client_ip:
        stmt = stmt.where(LoginAttempt.client_ip == flt.client_ip)
    if flt.success is not None:
        stmt = stmt.where(LoginAttempt.success == flt.success)
    if flt.reason:
        stmt = stmt.where(LoginAttempt.reason == flt.reason)
    if flt.since:
        stmt = stmt.where(LoginAttempt.at >= flt.since)
    if flt.until:
        stmt = stmt.where(LoginAttempt.at < flt.until)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(LoginAttempt.at).desc(), col(LoginAttempt.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [LoginLogRead.model_validate(r) for r in rows], int(total)


def audit_read(e: HistoryEntry) -> AuditEntryRead:
    data = e.data or {}
    return AuditEntryRead(
        id=e.id or 0,
        at=e.at,
        event=e.action,
        subject=str(data.get("subject") or e.actor_name),
        subject_user_id=e.actor_user_id,
        subject_role=e.actor_role,
        object_id=e.object_id,
        object=data.get("object"),
        result=e.to_state or "success",  # writers that set no result record only what happened
        ip=data.get("ip"),
        data=data,
        hash=e.hash,
    )


def search_audit(
    session: Session, flt: AuditFilter, limit: int, offset: int
) -> tuple[list[AuditEntryRead], int]:
    rows, total = history.search(
        session,
        OBJECT_TYPE,
        actions=flt.events,
        actor=flt.subject,
        object_id=flt.object_id,
        result=flt.result,
        since=flt.since,
        until=flt.until,
        limit=limit,
        offset=offset,
    )
    return [audit_read(r) for r in rows], total


def verify_chain(session: Session) -> ChainReport:
    report = history.verify_chain(session)
    return ChainReport(
        intact=report.intact, checked=report.checked, streams=report.streams,
        checkpoint_id=report.checkpoint_id, tampered_ids=report.tampered_ids,
        findings=[ChainFinding.model_validate(f, from_attributes=True) for f in report.findings],
    )  # fmt: skip


# --- export (CSV or Excel); exporting is itself audited ----------------------------------------

LOGIN_COLUMNS = ("id", "at", "username", "client_ip", "user_agent", "success", "reason")
LOGIN_HEADERS = ("序号 id", "时间 time (UTC)", "用户名 username", "地址 address", "客户端 user agent",
                 "结果 success", "原因 reason")  # fmt: skip
AUDIT_COLUMNS = (
    "id",
    "at",
    "event",
    "subject",
    "subject_role",
    "object_id",
    "object",
    "result",
    "ip",
    "data",
    "hash",
)
AUDIT_HEADERS = ("序号 id", "时间 time (UTC)", "事件 event", "主体 subject", "角色 role", "客体编号 object id",
                 "客体 object", "结果 result", "地址 address", "详情 data", "哈希 hash")  # fmt: skip


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a cell never runs as a spreadsheet formula (CSV injection)
    return value


def _render(headers: tuple[str, ...], rows: list[tuple[object, ...]], fmt: str) -> bytes:
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("log")
        ws.append(list(headers))
        for r in rows:
            ws.append([_cell(v) for v in r])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([_cell(v) for v in r])
    return ("\ufeff" + text.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese CSV correctly


def export_login_log(
    session: Session, actor: Actor, flt: LoginLogFilter, fmt: str, ip: str | None
) -> bytes:
    items, total = search_login_log(session, flt, EXPORT_LIMIT, 0)
    rows = [tuple(getattr(i, c) for c in LOGIN_COLUMNS) for i in items]
    log_event(session, SecurityEvent.export, actor, object_label="login_log", ip=ip, format=fmt,
              rows=len(rows), filter={k: _cell(v) for k, v in flt.__dict__.items() if v is not None})  # fmt: skip
    return _render(LOGIN_HEADERS, rows, fmt)


def export_audit(
    session: Session, actor: Actor, flt: AuditFilter, fmt: str, ip: str | None
) -> bytes:
    items, total = search_audit(session, flt, EXPORT_LIMIT, 0)
    rows = [tuple(getattr(i, c) for c in AUDIT_COLUMNS) for i in items]
    log_event(session, SecurityEvent.export, actor, object_label="security_audit", ip=ip, format=fmt,
              rows=len(rows), filter={k: _cell(v) for k, v in flt.__dict__.items() if v is not None})  # fmt: skip
    return _render(AUDIT_HEADERS, rows, fmt)


# --- retention: archive to a file, never delete --------------------------------------------------


def archive_old_entries(
    session: Session, actor: Actor, directory: Path | None = None
) -> AuditArchive | None:
    """Writes the security audit entries older than the retention period that no archive holds
    yet to a gzip JSON-lines file (with their chain hashes) and records it.

    The rows stay in the history: it is append-only and hash-chained, so removing them would
    break the chain the verifier checks. The archive is the copy kept beyond the database."""
    policy = get_policy(session)
    cutoff = clock.now() - timedelta(days=policy.audit_retention_days)
    # Each archive takes the entries dated from the previous one's cut-off up to its own.
    since = session.exec(select(func.max(AuditArchive.up_to))).one()
    entries = history.entries_between(session, OBJECT_TYPE, since, cutoff)
    if not entries:
        return None
    folder = directory or ARCHIVE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    first, last = min(e.id or 0 for e in entries), max(e.id or 0 for e in entries)
    path = folder / f"security-audit-{first:09d}-{last:09d}.jsonl.gz"
    lines = []
    for e in entries:
        lines.append(json.dumps(e.model_dump(mode="json"), ensure_ascii=False, sort_keys=True))
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    with gzip.open(path, "wb") as fh:
        fh.write(payload)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    archive = AuditArchive(
        first_history_id=first, last_history_id=last, up_to=cutoff, entries=len(entries),
        path=str(path), sha256=digest,
    )  # fmt: skip
    session.add(archive)
    session.flush()
    log_event(session, SecurityEvent.audit_archived, actor, object_id=archive.id, object_label=path.name,
              entries=len(entries), first_id=first, last_id=last, sha256=digest)  # fmt: skip
    return archive


def list_archives(session: Session, limit: int, offset: int) -> tuple[list[AuditArchive], int]:
    total = session.exec(select(func.count()).select_from(AuditArchive)).one()
    rows = session.exec(
        select(AuditArchive).order_by(col(AuditArchive.id).desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)

"""Upload rules shared by every domain: type by content (magic bytes), size limit, sha256,
bytes stored outside the database; a rejected or rolled-back upload leaves nothing behind."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import unicodedata
import uuid
import zipfile
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.files.errors import (
    EmptyFile,
    FileNotFound,
    FileTooLarge,
    InvalidFileName,
    UnsupportedFileType,
)
from demosites.files.models import StoredFile

CHUNK = 1024 * 1024
ORPHAN_GRACE_SECONDS = 3600
log = logging.getLogger("demosites.files")
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc (Compound File Binary)


# Every type an upload may have (what `sniff` accepts): how downloads are documented.
STORED_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
DOWNLOAD_RESPONSE = {
    "description": "The stored file; its type was judged from its bytes on upload",
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in STORED_TYPES},
}


def sniff(head: bytes, path: Path) -> tuple[str, str] | None:
    """(content_type, extension) judged from the bytes, or None when not an accepted type."""
    if head.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(OLE2):
        return "application/msword", "doc"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names and "[Content_Types].xml" in names:
            return (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            )
    return None


# Unicode categories never kept in a file name: controls (Cc), format characters (Cf — the bidi
# overrides and isolates U+202A–U+202E, U+2066–U+2069, the marks U+200E/U+200F/U+061C, zero-width
# characters), surrogates and line/paragraph separators. `申报材料\u202Efdp.exe` shows as
# 申报材料exe.pdf in a list; stripped it reads 申报材料fdp.exe, which is what it is.
_DROPPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def clean_filename(raw: str | None, default: str) -> str:
    """The name a file is stored and listed under: without control or bidi characters, and only
    its last path component whichever separator was used (`..\\..\\x.pdf` → `x.pdf`). No name
    given: `default`; a name given that ends up empty is refused (422 invalid_file_name)."""
    if raw is None or raw == "":
        return default
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    last = text.replace("\\", "/").split("/")[-1].strip()
    if last in ("", ".", ".."):
        raise InvalidFileName()
    return last[:255]


def upload_root() -> Path:
    root = Path(get_settings().upload_dir)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _remove_on_rollback(session: Session, path: Path) -> None:
    """Deletes the stored bytes if the transaction that recorded them does not commit."""
    session.info.setdefault("pending_files", []).append(path)


@event.listens_for(OrmSession, "after_commit")
def _files_committed(session: OrmSession) -> None:
    session.info.pop("pending_files", None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _files_rolled_back(session: OrmSession, _previous: object) -> None:
    for path in session.info.pop("pending_files", []):
        path.unlink(missing_ok=True)


def within_limit(data: bytes) -> bytes:
    """An upload read whole (an Excel import) obeys the same size limit as a stored one (413)."""
    if len(data) > get_settings().max_upload_bytes:
        raise FileTooLarge(
            f"The limit is {get_settings().max_upload_mb} MB / 上限为 {get_settings().max_upload_mb} MB"
        )
    return data


def store_upload(
    session: Session,
    actor: Actor,
    upload: UploadFile,
    owner_type: str,
    owner_id: int,
    purpose: str,
) -> StoredFile:
    limit = get_settings().max_upload_bytes
    name = clean_filename(upload.filename, "")  # refused before any byte is stored
    root = upload_root()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".incoming-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(
                        f"The limit is {get_settings().max_upload_mb} MB / 上限为 {get_settings().max_upload_mb} MB"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise EmptyFile()
        with tmp.open("rb") as fh:
            head = fh.read(16)
        kind = sniff(head, tmp)
        if kind is None:
            raise UnsupportedFileType()
        content_type, ext = kind
        key = f"{clock.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"
        final = root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    row = StoredFile(
        owner_type=owner_type,
        owner_id=owner_id,
        purpose=purpose,
        filename=name or f"file.{ext}",
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        storage_key=key,
        uploaded_by=actor.user_id,
        uploaded_at=clock.now(),
    )
    session.add(row)
    _remove_on_rollback(session, final)
    session.flush()
    return row


def files_of(session: Session, owner_type: str, owner_id: int) -> list[StoredFile]:
    return list(
        session.exec(
            select(StoredFile)
            .where(StoredFile.owner_type == owner_type, StoredFile.owner_id == owner_id)
            .order_by(col(StoredFile.id))
        )
    )


def get_file(session: Session, owner_type: str, owner_id: int, file_id: int) -> StoredFile:
    row = session.get(StoredFile, file_id)
    if row is None or row.owner_type != owner_type or row.owner_id != owner_id:
        raise FileNotFound()
    return row


def path_of(row: StoredFile) -> Path:
    return upload_root() / row.storage_key


def sweep_orphans(session: Session, older_than_seconds: int = ORPHAN_GRACE_SECONDS) -> int:
    """Removes files on disk that no row names (a crash between write and commit, or a killed
    upload's `.incoming-` part). Files younger than the grace period are kept: another process
    may be about to commit the row that names them."""
    root = upload_root()
    known = set(session.exec(select(StoredFile.storage_key)).all())
    # File times are real time: compare with the wall clock, not the injectable clock (moved
    # forward by browser tests, it would make in-flight uploads look old).
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        key = path.relative_to(root).as_posix()
        if key in known or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def sweep_orphans_now(older_than_seconds: int = ORPHAN_GRACE_SECONDS) -> int | None:
    """The startup and periodic sweep: its own read-only session; never raises (a database that
    is down at startup must not stop the app from starting). None when it could not run."""
    try:
        with (
            get_engine().connect().execution_options(readonly=True) as conn,
            Session(bind=conn) as session,
        ):
            removed = sweep_orphans(session, older_than_seconds)
    except Exception:  # noqa: BLE001
        log.warning("orphan sweep skipped", exc_info=True)
        return None
    if removed:
        log.info("orphan sweep removed %d file(s) no row names", removed)
    return removed

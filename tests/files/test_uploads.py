"""Upload rules: judged by content, limited in size, nothing left behind on refusal or rollback."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi import UploadFile
from sqlmodel import Session

from demosites.core.actor import SYSTEM
from demosites.files import service
from demosites.files.errors import FileTooLarge, UnsupportedFileType


def _upload(data: bytes, name: str) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=name)


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _files_on_disk() -> set[str]:
    root = service.upload_root()
    return {p.name for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 20, "application/msword"),
    ],
)
def test_accepted_types_are_recognised_by_content(session: Session, data: bytes, expected: str) -> None:
    row = service.store_upload(session, SYSTEM, _upload(data, "whatever.bin"), "test", 1, "deeds")
    assert row.content_type == expected
    assert service.path_of(row).read_bytes() == data
    assert len(row.sha256) == 64


def test_docx_is_recognised_and_a_plain_zip_is_not(session: Session) -> None:
    row = service.store_upload(session, SYSTEM, _upload(_docx(), "事迹.docx"), "test", 1, "deeds")
    assert row.content_type.endswith("wordprocessingml.document")
    assert row.filename == "事迹.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.txt", "x")
    with pytest.raises(UnsupportedFileType):
        service.store_upload(session, SYSTEM, _upload(buf.getvalue(), "fake.docx"), "test", 1, "deeds")


def test_a_renamed_executable_is_refused_and_leaves_nothing(session: Session) -> None:
    before = _files_on_disk()
    with pytest.raises(UnsupportedFileType):
        service.store_upload(session, SYSTEM, _upload(b"MZ\x90\x00" * 10, "deeds.pdf"), "test", 1, "deeds")
    assert _files_on_disk() == before


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demosites.core.config import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    before = _files_on_disk()
    with pytest.raises(FileTooLarge):
        service.store_upload(
            session, SYSTEM, _upload(b"%PDF-" + b"x" * (1024 * 1024 + 1), "big.pdf"), "test", 1, "deeds"
        )
    assert _files_on_disk() == before


def test_a_rolled_back_upload_removes_its_bytes(session: Session) -> None:
    before = _files_on_disk()
    nested = session.begin_nested()
    row = service.store_upload(session, SYSTEM, _upload(b"%PDF-1.4 x", "a.pdf"), "test", 1, "deeds")
    assert service.path_of(row).exists()
    nested.rollback()
    assert _files_on_disk() == before

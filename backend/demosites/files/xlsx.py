"""Reading an uploaded .xlsx safely: zip bombs, row floods and XML entity tricks are refused
before (or while) openpyxl parses, each as a problem+json answer, never a 500 or gigabytes of RAM.

The limits (a real 10,000-row import is a few MB of XML; these leave room for styles):
- MAX_PART_BYTES: no part of the archive may expand beyond 32 MiB (a 2 MB upload expanding to
  500 MB of shared strings cost 4 GB of RAM: openpyxl keeps every shared string in memory);
- MAX_TOTAL_BYTES: the parts together at most 96 MiB;
- MAX_RATIO: a part over RATIO_FLOOR (1 MiB) may not be more than 100 times its compressed size;
- the declared sizes are what zipfile enforces while inflating (it stops at `file_size` and
  fails the CRC), so a lying header cannot expand further than checked;
- every row read counts toward the caller's row limit, empty ones included: 1 M empty `<row/>`
  elements took 59 s to walk; now reading stops at the limit. The sheet's declared
  `<dimension>` is ignored (it neither pads nor cuts the rows read), but openpyxl walks a whole
  sheet that lacks one just to size it, so a worksheet over UNDIMENSIONED_BYTES (2 MiB, some
  5,000 rows) without a `<dimension>` before its rows is refused (Excel and WPS always write it);
- no part may declare a DOCTYPE or entities (Excel never writes one); openpyxl parses the sheets
  and shared strings through defusedxml (installed for this: openpyxl picks it up on its own) and
  the other parts through lxml with entity resolution off, so a billion-laughs part is refused
  either here or by the parser, both answered 422 `workbook_invalid`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

from demosites.core.errors import DomainError, PayloadTooLarge, ValidationFailed

MAX_PART_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 96 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_PARTS = 1000
_HEAD = 64 * 1024  # what is scanned of each XML part for a DOCTYPE
UNDIMENSIONED_BYTES = 2 * 1024 * 1024


class WorkbookTooLarge(PayloadTooLarge):
    code, title = (
        "workbook_too_large",
        "The workbook expands beyond the limit / 工作簿解压后超过大小限制",
    )


class WorkbookInvalid(ValidationFailed):
    code, title = (
        "workbook_invalid",
        "The workbook is malformed or unsafe / 工作簿格式错误或含不安全内容",
    )


class WorkbookTooManyRows(ValidationFailed):
    code, title = "workbook_too_many_rows", "Too many rows / 行数超过上限"


def check_archive(data: bytes, not_a_workbook: Callable[[], DomainError]) -> None:
    """Refuses a zip whose parts expand too far or declare entities, reading only their heads."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise not_a_workbook() from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_PARTS:
            raise WorkbookInvalid(
                f"{len(infos)} parts in the archive, at most {MAX_PARTS} / "
                f"压缩包内有 {len(infos)} 个部件，最多 {MAX_PARTS} 个"
            )
        total = 0
        for info in infos:
            size, packed = info.file_size, max(info.compress_size, 1)
            total += size
            if size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES:
                raise WorkbookTooLarge(
                    f"{info.filename[:100]} expands to {size} bytes; the limit is "
                    f"{MAX_PART_BYTES // 2**20} MiB per part, {MAX_TOTAL_BYTES // 2**20} MiB in all / "
                    f"部件解压后 {size} 字节，超过上限（单个 {MAX_PART_BYTES // 2**20} MiB，"
                    f"合计 {MAX_TOTAL_BYTES // 2**20} MiB）"
                )
            if size > RATIO_FLOOR and size / packed > MAX_RATIO:
                raise WorkbookTooLarge(
                    f"{info.filename[:100]} is compressed {size // packed}:1, more than "
                    f"{MAX_RATIO}:1 / 部件压缩比 {size // packed}:1，超过 {MAX_RATIO}:1"
                )
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with archive.open(info) as part:
                    head = part.read(_HEAD)
            except Exception as exc:  # noqa: BLE001  (encrypted, unknown method, bad CRC...)
                raise not_a_workbook() from exc
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise _entities()
            if (
                info.filename.startswith("xl/worksheets/")
                and info.file_size > UNDIMENSIONED_BYTES
                and not _dimension_first(head)
            ):
                raise WorkbookInvalid(
                    f"{info.filename[:100]} has no <dimension> before its rows; save the file "
                    "again in Excel or WPS / 工作表缺少尺寸信息，请用 Excel 或 WPS 重新保存后再导入"
                )


_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")


def _dimension_first(head: bytes) -> bool:
    """Whether the sheet declares its size before its rows (with or without a prefix: the
    OpenXML SDK writes <x:dimension>)."""
    dimension, data = _DIMENSION.search(head), _SHEET_DATA.search(head)
    return dimension is not None and (data is None or dimension.start() < data.start())


def _entities() -> WorkbookInvalid:
    return WorkbookInvalid(
        "The workbook's XML declares a DOCTYPE or entities / 工作簿的 XML 含 DOCTYPE 或实体声明"
    )


def _defused(exc: BaseException | None) -> bool:
    """Whether defusedxml refused an entity somewhere in the chain (openpyxl wraps it)."""
    from defusedxml import DefusedXmlException

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DefusedXmlException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def read_rows(
    data: bytes,
    sheet: str,
    width: int,
    max_rows: int,
    not_a_workbook: Callable[[], DomainError],
) -> list[tuple[int, tuple[Any, ...]]]:
    """(sheet row number, first `width` values) of every row, the header first; empty rows are
    returned too (the callers skip them) and count toward `max_rows`, header excluded."""
    from openpyxl import load_workbook

    check_archive(data, not_a_workbook)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds on a broken file)
        raise (_entities() if _defused(exc) else not_a_workbook()) from exc
    try:
        ws = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
        ws.reset_dimensions()  # read what is there, not what the file claims
        out: list[tuple[int, tuple[Any, ...]]] = []
        for n, raw in enumerate(ws.iter_rows(values_only=True, max_col=width), start=1):
            if n > max_rows + 1:
                raise WorkbookTooManyRows(
                    f"At most {max_rows} rows per import, empty rows within the sheet included / "
                    f"每次最多导入 {max_rows} 行（表内空行也计入）"
                )
            values = tuple(raw)[:width]
            out.append((n, values + (None,) * (width - len(values))))
        return out
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise (_entities() if _defused(exc) else not_a_workbook()) from exc
    finally:
        wb.close()

"""Hostile workbooks (issue 19): zip bombs, row floods and XML entities are refused as
problem+json before they cost memory or minutes, on both Excel imports."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session

from demosites.documents.imports import COLUMNS as APPLICANT_COLUMNS
from demosites.documents.imports import SHEET as APPLICANT_SHEET
from demosites.ledger.excel import COLUMNS as LEDGER_COLUMNS
from demosites.ledger.excel import SHEET as LEDGER_SHEET
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.ledger.helpers import build, plan_from_template, today_is

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MiB = 1024 * 1024
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[Api]:
    yield Api(client, session)


def workbook(sheet: str, header: list[str]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def replaced(data: bytes, name: str, write: Callable[[Any], None]) -> bytes:
    """`data` with the part `name` rewritten by `write` (streamed, so the test stays small)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(info, "w", force_zip64=True) as part:
            write(part)
    return out.getvalue()


def shared_strings_bomb(data: bytes, mib: int) -> bytes:
    def write(part: Any) -> None:
        part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        for _ in range(mib * MiB // len(chunk)):
            part.write(chunk)
        part.write(b"</sst>")

    return replaced(data, "xl/sharedStrings.xml", write)


SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def stored(data: bytes, name: str, body: bytes) -> bytes:
    """`data` with the part `name` set to `body` (a shared-strings part is declared so openpyxl
    reads it), every part stored uncompressed: ratio 1:1, the archive checks pass."""
    src = zipfile.ZipFile(io.BytesIO(data))
    parts = {info.filename: src.read(info) for info in src.infolist()}
    parts[name] = body
    types = parts["[Content_Types].xml"]
    if name == "xl/sharedStrings.xml" and SST_TYPE.encode() not in types:
        override = f'<Override PartName="/{name}" ContentType="{SST_TYPE}"/>'.encode()
        parts["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for part, content in parts.items():
            dst.writestr(part, content)
    return out.getvalue()


def empty_rows_sheet(header: list[str], rows: int, dimension: str | None = "A1:G1") -> bytes:
    """A header, then `rows` empty `<row/>` elements; the declared dimension (a lie: one row)."""
    cells = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(header)
    )
    head = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f'<sheetData><row r="1">{cells}</row>'
    )
    return head.encode() + b"<row/>" * rows + b"</sheetData></worksheet>"


def applicant_upload(api: Api, session: Session, data: bytes) -> Any:
    office = b.person(session, ["office"], "office")
    return api.post(office, "/api/v1/applicants/import", files={"file": ("u.xlsx", data, XLSX)})


APPLICANT_HEADER = [c.header for c in APPLICANT_COLUMNS]


def assert_problem(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code
    assert " / " in body["title"] and " / " in body["detail"]  # English / 中文


@pytest.fixture
def parser_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = openpyxl.load_workbook

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    return calls


@pytest.mark.parametrize(
    ("mib", "why"),
    [(64, "expands past the per-part limit"), (8, "compressed more than 100:1")],
)
def test_a_shared_strings_bomb_is_refused_before_openpyxl_reads_it(
    api: Api, session: Session, parser_calls: list[int], mib: int, why: str
) -> None:
    bomb = shared_strings_bomb(workbook(APPLICANT_SHEET, APPLICANT_HEADER), mib)
    assert len(bomb) < 2 * MiB
    tracemalloc.start()
    try:
        resp = applicant_upload(api, session, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_problem(resp, 413, "workbook_too_large")
    assert parser_calls == []
    assert peak < 200 * MiB


def test_a_million_empty_rows_stop_at_the_row_limit(
    api: Api, session: Session, parser_calls: list[int]
) -> None:
    sheet = empty_rows_sheet(APPLICANT_HEADER, 1_000_000)
    # Stored uncompressed: the archive checks pass, so it is the row count that refuses it.
    data = stored(workbook(APPLICANT_SHEET, APPLICANT_HEADER), "xl/worksheets/sheet1.xml", sheet)
    tracemalloc.start()
    try:
        resp = applicant_upload(api, session, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_problem(resp, 422, "workbook_too_many_rows")
    assert parser_calls == [1]
    assert peak < 200 * MiB


def test_a_large_sheet_without_a_dimension_is_refused_before_openpyxl_walks_it(
    api: Api, session: Session, parser_calls: list[int]
) -> None:
    # openpyxl reads a whole sheet that declares no <dimension> just to size it (the 59 s).
    sheet = empty_rows_sheet(APPLICANT_HEADER, 1_000_000, dimension=None)
    data = stored(workbook(APPLICANT_SHEET, APPLICANT_HEADER), "xl/worksheets/sheet1.xml", sheet)
    assert_problem(applicant_upload(api, session, data), 422, "workbook_invalid")
    assert parser_calls == []


def test_a_row_far_below_counts_every_row_in_between(api: Api, session: Session) -> None:
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for i, h in enumerate(APPLICANT_HEADER)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{header}</row><row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t>'
        "</is></c></row></sheetData></worksheet>"
    ).encode()
    data = stored(workbook(APPLICANT_SHEET, APPLICANT_HEADER), "xl/worksheets/sheet1.xml", sheet)
    assert_problem(applicant_upload(api, session, data), 422, "workbook_too_many_rows")


def test_billion_laughs_in_shared_strings_is_refused(api: Api, session: Session) -> None:
    data = stored(workbook(APPLICANT_SHEET, APPLICANT_HEADER), "xl/sharedStrings.xml", LAUGHS)
    assert_problem(applicant_upload(api, session, data), 422, "workbook_invalid")


def test_entities_hidden_past_the_scanned_head_are_refused_by_defusedxml(
    api: Api, session: Session, parser_calls: list[int]
) -> None:
    # A long comment pushes the DOCTYPE past what the archive check reads: the parser itself
    # (openpyxl through defusedxml) must refuse the entities.
    hidden = LAUGHS.replace(b"<!DOCTYPE", b"<!--" + b" " * (128 * 1024) + b"-->\n<!DOCTYPE", 1)
    data = stored(workbook(APPLICANT_SHEET, APPLICANT_HEADER), "xl/sharedStrings.xml", hidden)
    assert_problem(applicant_upload(api, session, data), 422, "workbook_invalid")
    assert parser_calls == [1]


def test_openpyxl_parses_through_defusedxml() -> None:
    from openpyxl.xml import DEFUSEDXML
    from openpyxl.xml.functions import iterparse

    assert DEFUSEDXML is True
    assert iterparse.__module__.startswith("defusedxml")


def test_an_anonymous_upload_is_refused_before_parsing(
    client: TestClient, parser_calls: list[int]
) -> None:
    data = workbook(APPLICANT_SHEET, APPLICANT_HEADER)
    resp = client.post("/api/v1/applicants/import", files={"file": ("u.xlsx", data, XLSX)})
    assert_problem(resp, 401, "unauthenticated")
    assert parser_calls == []


def test_a_role_that_may_not_import_is_refused_before_parsing(
    api: Api, session: Session, parser_calls: list[int]
) -> None:
    applicant = b.person(session, ["applicant"], "office")
    data = workbook(APPLICANT_SHEET, APPLICANT_HEADER)
    resp = api.post(applicant, "/api/v1/applicants/import", files={"file": ("u.xlsx", data, XLSX)})
    assert_problem(resp, 403, "forbidden")
    assert parser_calls == []


def test_the_workbook_is_parsed_with_no_transaction_open(
    api: Api, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite any transaction holds the write lock (BEGIN IMMEDIATE): none may be open while
    # openpyxl reads the upload.
    from demosites.files import xlsx

    seen: list[bool] = []
    real = xlsx.read_rows

    def spying(*args: Any, **kwargs: Any) -> Any:
        seen.append(session.in_transaction())
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsx, "read_rows", spying)
    resp = applicant_upload(api, session, workbook(APPLICANT_SHEET, APPLICANT_HEADER))
    assert_problem(resp, 422, "import_invalid")  # no rows: parsed, then refused
    assert seen == [False]


def test_the_ledger_import_refuses_the_same_bombs(
    session: Session, client: TestClient, parser_calls: list[int]
) -> None:
    today_is(2023, 9, 20)
    w = build(session)
    plan = plan_from_template(client, w)
    header = [h for _, h, _ in LEDGER_COLUMNS]
    url = f"/api/v1/ledger/plans/{plan['id']}/import"

    def post(data: bytes) -> Any:
        files = {"file": ("l.xlsx", data, XLSX)}
        return client.post(url, files=files, headers=w.street_h)

    assert_problem(
        post(shared_strings_bomb(workbook(LEDGER_SHEET, header), 8)), 413, "workbook_too_large"
    )
    assert parser_calls == []
    base = workbook(LEDGER_SHEET, header)
    flood = stored(base, "xl/worksheets/sheet1.xml", empty_rows_sheet(header, 1_000_000))
    assert_problem(post(flood), 422, "workbook_too_many_rows")
    laughs = stored(base, "xl/sharedStrings.xml", LAUGHS)
    assert_problem(post(laughs), 422, "workbook_invalid")


def test_an_encrypted_part_is_refused_as_not_a_workbook(api: Api, session: Session) -> None:
    data = bytearray(workbook(APPLICANT_SHEET, APPLICANT_HEADER))
    # Mark every part encrypted (general-purpose flag bit 0) in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + offset] |= 0x01
            at = data.find(signature, at + 4)
    assert_problem(applicant_upload(api, session, bytes(data)), 422, "import_invalid")

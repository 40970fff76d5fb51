"""Times the Excel import of 5,000 applicant units (申报主体) through the API, then the re-import
of the same file (every row skipped, nothing duplicated), on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/documents/bench_import.py [--rows 5000] [--backend sqlite|postgresql|both]

Each run migrates a fresh database of its own (SQLite in a temporary directory; PostgreSQL
`documents_bench` via BENCH_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test),
and prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = "documents_bench"
_tmp = Path(tempfile.mkdtemp(prefix="documents-bench-"))
os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ["UPLOAD_DIR"] = str(_tmp / "uploads")
os.environ["PASSWORD_HASH_FAST"] = "1"
os.environ["RATE_LIMIT_USER_PER_MINUTE"] = "0"

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from demosites.applicants.models import ApplicantUnit  # noqa: E402
from demosites.auth.service import open_session  # noqa: E402
from demosites.core import db as core_db  # noqa: E402
from demosites.documents import imports  # noqa: E402
from demosites.main import create_app  # noqa: E402
from demosites.organizations.models import CITIES  # noqa: E402
from demosites.organizations.schemas import UserCreate  # noqa: E402
from demosites.organizations.service import create_user, get_org_by_code, seed_fixed_organizations  # noqa: E402

KINDS = ("中小学校", "企业", "社区", "行政村", "高校二级教学单位")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def database(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{_tmp / 'bench.db'}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=DB_NAME).render_as_string(hide_password=False)


def workbook(rows: int) -> bytes:
    wb = load_workbook(io.BytesIO(imports.template()))
    ws = wb["申报主体"]
    for n in range(rows):
        kind = KINDS[n % len(KINDS)]
        city = CITIES[n % len(CITIES)]
        ws.append([
            f"{city}测试申报主体{n:05d}", kind, city,
            "安徽大学" if kind == "高校二级教学单位" else None,
            "是" if kind == "高校二级教学单位" else None,
            ("民营", "省属国有", "其他")[n % 3] if kind == "企业" else None, None,
        ])  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(backend: str, rows: int) -> dict[str, float | int]:
    url = database(backend)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")
    engine = core_db.make_engine(url)
    core_db.set_engine(engine)
    with Session(engine) as s:
        seed_fixed_organizations(s)
        office = get_org_by_code(s, "office")
        assert office is not None
        user = create_user(s, None, UserCreate(username="bench_office", display_name="办公室", password="Bench-password-123",
                                               organization_id=office.id or 0, roles=["office"]), must_change=False)  # fmt: skip
        token, _ = open_session(s, user, "127.0.0.1", "bench")
        s.commit()
    data = workbook(rows)
    client = TestClient(create_app())
    headers = {"Authorization": f"Bearer {token}"}
    files = {"file": ("units.xlsx", data, XLSX)}
    t0 = time.perf_counter()
    first = client.post("/api/v1/applicants/import", headers=headers, files=files)
    t1 = time.perf_counter()
    assert first.status_code == 200, first.text[:500]
    again = client.post("/api/v1/applicants/import", headers=headers, files=files)
    t2 = time.perf_counter()
    assert again.status_code == 200 and again.json()["skipped"] == rows, again.text[:500]
    # One wrong city among the rows: refused whole, with the error.
    wb = load_workbook(io.BytesIO(data))
    wb["申报主体"].cell(row=rows // 2, column=3, value="合費")
    buf = io.BytesIO()
    wb.save(buf)
    t3 = time.perf_counter()
    bad = client.post(
        "/api/v1/applicants/import",
        headers=headers,
        files={"file": ("bad.xlsx", buf.getvalue(), XLSX)},
    )
    t4 = time.perf_counter()
    assert bad.status_code == 422 and bad.json()["errors"][0]["row"] == rows // 2, bad.text[:300]
    with Session(engine) as s:
        count = s.execute(select(func.count()).select_from(ApplicantUnit)).scalar_one()
    assert count == rows and first.json()["created"] == rows
    engine.dispose()
    core_db.set_engine(None)
    return {
        "rows": rows,
        "bytes": len(data),
        "import": t1 - t0,
        "reimport": t2 - t1,
        "refused": t4 - t3,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(
        f"Python {platform.python_version()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(
        "| database | rows (file size) | import (all created) | re-import (all skipped) | refused (1 bad cell) |"
    )
    print("|---|---|---|---|---|")
    for backend in backends:
        r = run(backend, args.rows)
        print(f"| {backend} | {r['rows']:,} ({int(r['bytes']) // 1024} KiB) | {r['import']:.1f} s "
              f"({r['rows'] / r['import']:.0f} units/s) | {r['reimport']:.1f} s | {r['refused']:.1f} s |")  # fmt: skip


if __name__ == "__main__":
    main()

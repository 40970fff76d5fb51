"""Benchmark of the work ledger (台账) at province scale, on PostgreSQL.

Seeds a separate database (default `ledger_bench`) with 16 cities → 96 districts → 1,344 streets →
16,128 communities, every street on the seed-003 template (电厂街道2023年度宣传思想工作要点),
and a year of entries at seed 003's rates (~2.8 million rows, generated in SQL with
generate_series), then their monthly counts (ledger_entry_count). Then, in the same run, times
each report through the API as it runs in production — a uvicorn process of its own (one
worker, no access log, rate limits off) called over HTTP with httpx, authentication included —
beside hand-written plain SQL answering the same question (psycopg, no ORM) over the raw entries
and over the counts, checks that all give the same numbers, and times bulk ingestion through the
API. Figures are the best (and median) of `--repeat` runs.

    .venv/bin/python benchmarks/ledger/bench_ledger.py [--reuse] [--repeat 7]

BENCH_ADMIN_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test) is used to
(re)create the database; --reuse keeps an already seeded one (and migrates it to the heads).
BENCH_BACKEND runs the server from another checkout's backend/ (before/after comparisons).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = os.environ.get("BENCH_DB", "ledger_bench")
_tmp = tempfile.mkdtemp(prefix="ledger-bench-")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ["UPLOAD_DIR"] = _tmp
os.environ["PASSWORD_HASH_FAST"] = "1"

import httpx  # noqa: E402
import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

BENCH_URL = make_url(ADMIN_URL).set(database=DB_NAME).render_as_string(hide_password=False)
os.environ["DATABASE_URL"] = BENCH_URL


from demosites.auth.service import open_session  # noqa: E402
from demosites.core import db as core_db  # noqa: E402
from demosites.core.actor import SYSTEM  # noqa: E402
from demosites.core.clock import clock  # noqa: E402
from demosites.ledger.access import LedgerScope  # noqa: E402
from demosites.ledger.plans import create_plan  # noqa: E402
from demosites.ledger.schemas import PlanCreate  # noqa: E402
from demosites.organizations.models import Organization, OrgKind  # noqa: E402
from demosites.organizations.schemas import UserCreate  # noqa: E402
from demosites.organizations.service import create_user, get_org_by_code, seed_fixed_organizations  # noqa: E402

CITIES = ("合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆",
          "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城")  # fmt: skip
DISTRICTS, STREETS, COMMUNITIES = 6, 14, 12
TODAY = date(2023, 7, 15)  # June is closed, July open: every state occurs
MONTH = 6
PASSWORD = "Bench-password-123!"


def psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def recreate_database() -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    migrate()


def migrate() -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = BENCH_URL
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


SEED_TREE = [
    # cities, districts, streets, communities; then paths from parents, then closure rows
    """INSERT INTO ledger_unit (parent_id, name, level, city, path, depth, created_at)
       SELECT NULL, c || '市', 'city', c, '/', 0, now() FROM unnest(%(cities)s::text[]) AS c""",
    "UPDATE ledger_unit SET path = '/' || id || '/' WHERE level = 'city'",
]


def _children(level: str, parent_level: str, n: int, suffix: str, depth: int) -> list[str]:
    return [
        f"""INSERT INTO ledger_unit (parent_id, name, level, city, path, depth, created_at)
            SELECT p.id, p.name || '{suffix}' || g, '{level}', p.city, '', {depth}, now()
            FROM ledger_unit p CROSS JOIN generate_series(1, {n}) g WHERE p.level = '{parent_level}'""",
        f"""UPDATE ledger_unit u SET path = p.path || u.id || '/'
            FROM ledger_unit p WHERE u.parent_id = p.id AND u.level = '{level}'""",
    ]


SEED_TREE += _children("district", "city", DISTRICTS, "区", 1)
SEED_TREE += _children("street", "district", STREETS, "街道", 2)
SEED_TREE += _children("community", "street", COMMUNITIES, "社区", 3)
SEED_TREE += [
    """INSERT INTO ledger_unit_ancestor (ancestor_id, unit_id, depth, ancestor_depth)
       SELECT a.id::int, u.id, u.depth - (a.n - 1), a.n - 1
       FROM ledger_unit u,
            unnest(string_to_array(trim(both '/' from u.path), '/')) WITH ORDINALITY AS a(id, n)""",
    "ANALYZE ledger_unit",
    "ANALYZE ledger_unit_ancestor",
]

COPY_PLANS = [
    """INSERT INTO ledger_plan (unit_id, year, title, source, created_at)
       SELECT s.id, 2023, s.name || '2023年度宣传思想工作要点', 'template:dianchang_2023', now()
       FROM ledger_unit s WHERE s.level = 'street' AND s.id <> %(street)s""",
    """INSERT INTO ledger_plan_section (plan_id, position, title)
       SELECT p.id, ts.position, ts.title FROM ledger_plan p CROSS JOIN ledger_plan_section ts
       WHERE ts.plan_id = %(plan)s AND p.id <> %(plan)s""",
    """INSERT INTO ledger_plan_item (plan_id, section_id, position, code, title, description)
       SELECT p.id, ns.id, ti.position, ti.code, ti.title, ti.description
       FROM ledger_plan p JOIN ledger_plan_item ti ON ti.plan_id = %(plan)s
       JOIN ledger_plan_section ts ON ts.id = ti.section_id
       JOIN ledger_plan_section ns ON ns.plan_id = p.id AND ns.position = ts.position
       WHERE p.id <> %(plan)s""",
    """INSERT INTO ledger_plan_target (plan_id, item_id, kind, count, period, scope, child_level, due_day, month, max_minutes, label)
       SELECT ni.plan_id, ni.id, tt.kind, tt.count, tt.period, tt.scope, tt.child_level, tt.due_day, tt.month, tt.max_minutes, tt.label
       FROM ledger_plan_target tt JOIN ledger_plan_item ti ON ti.id = tt.item_id AND ti.plan_id = %(plan)s
       JOIN ledger_plan_item ni ON ni.code = ti.code AND ni.plan_id <> %(plan)s""",
    "ANALYZE ledger_plan", "ANALYZE ledger_plan_item", "ANALYZE ledger_plan_target",
]  # fmt: skip

# A year of entries at seed 003's rates, with realistic shortfalls (hash-like spreads of ids):
# per community and month: 5–10 themed activities (12.3, target 8), plan (12.1), volunteer
# ledger (12.2), reading (17, skipped 1 in 10), 通辽好人 on day 1–12 (14, late after the 7th),
# two 舆情 replies in 1–8 minutes (5.6, 5 allowed); 网络安全 in September (5.5, 9 in 10);
# a brand project (12.4); and each street's own study sessions and “四个二” meetings.
_CE = """FROM ledger_unit c JOIN ledger_plan p ON p.unit_id = c.parent_id AND p.year = 2023
         JOIN ledger_plan_item i ON i.plan_id = p.id AND i.code = '{code}'
         CROSS JOIN generate_series(1, 12) m"""
_INS = "INSERT INTO ledger_entry (unit_id, item_id, entry_date, title, participants, place, response_minutes, created_at) "
SEED_ENTRIES = [
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 1 + k * 2), '主题性志愿服务活动', 10 + (c.id + k) % 40, '新时代文明实践站', NULL, now()
       {_CE.format(code="12.3")} CROSS JOIN generate_series(1, 10) k
       WHERE c.level = 'community' AND k <= CASE WHEN (c.id * 7 + m) % 10 < 7 THEN 8 + (c.id + m) % 3 ELSE 5 + (c.id + m) % 3 END""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 1 + (c.id % 3)), '月度志愿服务方案', NULL, NULL, NULL, now()
       {_CE.format(code="12.1")} WHERE c.level = 'community'""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 25 + (c.id % 3)), '月度志愿服务台账', NULL, NULL, NULL, now()
       {_CE.format(code="12.2")} WHERE c.level = 'community'""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 10 + (c.id % 15)), '主题阅读活动', 15, '社区书屋', NULL, now()
       {_CE.format(code="17")} WHERE c.level = 'community' AND (c.id + m) % 10 <> 0""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 1 + (c.id * 3 + m) % 12), '通辽好人典型事迹材料', NULL, NULL, NULL, now()
       {_CE.format(code="14")} WHERE c.level = 'community'""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, m, 5 + k * 10), '舆情回复处置', NULL, NULL, 1 + (c.id + m + k) % 8, now()
       {_CE.format(code="5.6")} CROSS JOIN generate_series(1, 2) k WHERE c.level = 'community'""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, 9, 10 + c.id % 15), '网络安全宣传进社区', 60, '社区广场', NULL, now()
       {_CE.format(code="5.5")} WHERE c.level = 'community' AND m = 9 AND c.id % 10 <> 3""",
    _INS + f"""SELECT c.id, i.id, make_date(2023, 1 + c.id % 12, 15), '品牌项目培育', NULL, NULL, NULL, now()
       {_CE.format(code="12.4")} WHERE c.level = 'community' AND m = 1""",
    _INS + """SELECT s.id, i.id, make_date(2023, m, 20), i.title, 12, '党群服务中心', NULL, now()
       FROM ledger_unit s JOIN ledger_plan p ON p.unit_id = s.id AND p.year = 2023
       JOIN ledger_plan_item i ON i.plan_id = p.id AND i.code IN ('1.1', '1.3')
       CROSS JOIN generate_series(1, 12) m WHERE s.level = 'street' AND (s.id + m) % 13 <> 0""",
    _INS + """SELECT s.id, i.id, make_date(2023, m, 8), i.title, 12, '党群服务中心', NULL, now()
       FROM ledger_unit s JOIN ledger_plan p ON p.unit_id = s.id AND p.year = 2023
       JOIN ledger_plan_item i ON i.plan_id = p.id AND i.code IN ('1.2', '5.1', '5.2', '5.3', '5.4')
       CROSS JOIN generate_series(1, 12) m WHERE s.level = 'street' AND m IN (3, 6, 9, 12)""",
    "ANALYZE ledger_entry",
]  # fmt: skip


# Plain SQL, written by hand, answering the same questions as the API (states per unit ×
# target of one month), for a city (root) or the whole province grouped by city.
PLAIN_STATES = """
WITH sub AS (SELECT unit_id FROM ledger_unit_ancestor WHERE ancestor_id = %(root)s OR %(root)s = 0
             GROUP BY unit_id),
obl AS (
  SELECT t.id AS target_id, p.unit_id FROM ledger_plan_target t JOIN ledger_plan p ON p.id = t.plan_id
   WHERE p.year = 2023 AND t.scope = 'self' AND p.unit_id IN (SELECT unit_id FROM sub)
  UNION ALL
  SELECT t.id, a.unit_id FROM ledger_plan_target t JOIN ledger_plan p ON p.id = t.plan_id
    JOIN ledger_unit_ancestor a ON a.ancestor_id = p.unit_id AND a.depth > 0
    JOIN ledger_unit u ON u.id = a.unit_id
   WHERE p.year = 2023 AND t.scope = 'each_child'
     AND (u.level = t.child_level OR (t.child_level IS NULL AND a.depth = 1))
     AND a.unit_id IN (SELECT unit_id FROM sub)),
cnt AS (
  SELECT e.unit_id, t.id AS target_id, count(*) AS done,
         sum(CASE WHEN extract(day FROM e.entry_date) <= t.due_day THEN 1 ELSE 0 END) AS on_time,
         sum(CASE WHEN e.response_minutes IS NULL OR e.response_minutes > t.max_minutes THEN 1 ELSE 0 END) AS breaches
    FROM ledger_entry e JOIN ledger_plan_target t ON t.item_id = e.item_id
   WHERE e.entry_date BETWEEN %(start)s AND %(end)s AND e.unit_id IN (SELECT unit_id FROM sub)
   GROUP BY e.unit_id, t.id),
st AS (
  SELECT obl.unit_id,
    CASE
      WHEN t.kind = 'response_time' THEN CASE WHEN coalesce(c.breaches, 0) > 0 THEN 'missed' ELSE 'met' END
      WHEN t.kind = 'due_day' AND coalesce(c.on_time, 0) >= t.count THEN 'met'
      WHEN t.kind = 'due_day' AND coalesce(c.done, 0) >= t.count THEN 'late'
      WHEN t.kind <> 'due_day' AND coalesce(c.done, 0) >= t.count THEN 'met'
      WHEN (CASE WHEN t.kind = 'due_day' THEN %(startkey)s - 1 + t.due_day ELSE %(endkey)s END) < %(today)s THEN 'missed'
      ELSE 'not_yet' END AS state
  FROM obl JOIN ledger_plan_target t ON t.id = obl.target_id
  LEFT JOIN cnt c ON c.unit_id = obl.unit_id AND c.target_id = obl.target_id
  WHERE t.period = 'month' AND (t.month IS NULL OR t.month = %(month)s))
SELECT {group} AS grp, state, count(*) FROM st {join} GROUP BY 1, 2
"""
# The same question over the monthly counts the API reads (ledger_entry_count) instead of the
# raw entries: only the `cnt` part differs.
PLAIN_STATES_COUNTS = PLAIN_STATES[: PLAIN_STATES.index("cnt AS (")] + """cnt AS (
  SELECT unit_id, target_id, done, on_time, breaches FROM ledger_entry_count
   WHERE month_key = %(monthkey)s AND unit_id IN (SELECT unit_id FROM sub)),
""" + PLAIN_STATES[PLAIN_STATES.index("st AS ("):]

# Counts rebuilt from the entries (what demosites.ledger.counts.recount does), for entries
# written here in plain SQL: the whole ledger after seeding, some units after the ingestion test.
_RECOUNT = """INSERT INTO ledger_entry_count (unit_id, month_key, target_id, done, on_time, breaches)
SELECT e.unit_id, extract(year FROM e.entry_date)::int * 100 + extract(month FROM e.entry_date)::int, t.id, count(*),
       sum(CASE WHEN extract(day FROM e.entry_date) <= t.due_day THEN 1 ELSE 0 END),
       sum(CASE WHEN e.response_minutes IS NULL OR e.response_minutes > t.max_minutes THEN 1 ELSE 0 END)
  FROM ledger_entry e JOIN ledger_plan_target t ON t.item_id = e.item_id {where} GROUP BY 1, 2, 3"""
RECOUNT_ALL = ["DELETE FROM ledger_entry_count", _RECOUNT.format(where="")]
RECOUNT_UNITS = [
    "DELETE FROM ledger_entry_count WHERE unit_id = ANY(%(units)s)",
    _RECOUNT.format(where="WHERE e.unit_id = ANY(%(units)s)"),
]

PLAIN_FLOOR = """SELECT e.unit_id, e.item_id, count(*) FROM ledger_entry e
 WHERE e.entry_date BETWEEN %(start)s AND %(end)s
   AND e.unit_id IN (SELECT unit_id FROM ledger_unit_ancestor WHERE ancestor_id = %(root)s OR %(root)s = 0)
 GROUP BY 1, 2"""


STATES = ("met", "late", "missed", "not_yet")


def runs(fn: Any, repeat: int) -> list[float]:
    """Seconds of each of `repeat` calls (one warm-up call first, not counted)."""
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def best(fn: Any, repeat: int) -> float:
    return min(runs(fn, repeat))


def fmt(times: list[float]) -> str:
    return f"{min(times) * 1000:.0f} ms ({statistics.median(times) * 1000:.0f})"


@contextmanager
def server() -> Iterator[httpx.Client]:
    """The API as it runs in production: a uvicorn process of its own (one worker, no access
    log, rate limits off), its clock moved to TODAY through the test-only clock endpoint."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": BENCH_URL, "RATE_LIMIT_USER_PER_MINUTE": "0",
           "ENVIRONMENT": "test", "ALLOW_CLOCK_OVERRIDE": "true", "PYTHONPATH": os.environ.get("BENCH_BACKEND", str(ROOT / "backend"))}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "demosites.main:app", "--port", str(port),
         "--no-access-log", "--log-level", "warning"], env=env, cwd=ROOT)  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            now = datetime(TODAY.year, TODAY.month, TODAY.day, 4, tzinfo=UTC).isoformat()
            client.put("/api/v1/test/clock", json={"now": now}).raise_for_status()
            yield client
    finally:
        proc.terminate()
        proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", action="store_true", help="keep an already seeded ledger_bench")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--batches", type=int, default=20, help="bulk batches of 1,000 entries")
    args = ap.parse_args()
    clock.set(datetime(TODAY.year, TODAY.month, TODAY.day, 4, tzinfo=UTC))
    engine = core_db.make_engine(BENCH_URL)
    core_db.set_engine(engine)
    seed_s: dict[str, float] = {}
    if args.reuse:
        migrate()  # a reused database gets revisions added since it was seeded
    else:
        t0 = time.perf_counter()
        recreate_database()
        engine.dispose()
        with Session(engine) as s:
            seed_fixed_organizations(s)
            s.commit()
        pg = psycopg.connect(psql_url(BENCH_URL), autocommit=True)
        for sql in SEED_TREE:
            pg.execute(sql, {"cities": list(CITIES)})
        seed_s["tree"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        street = pg.execute("SELECT id FROM ledger_unit WHERE level = 'street' ORDER BY id LIMIT 1").fetchone()[0]
        with Session(engine) as s:
            office = LedgerScope(actor=SYSTEM, everything=True)
            plan = create_plan(s, office, PlanCreate(unit_id=street, year=2023, source="template", template="dianchang_2023"))
            s.commit()
        for sql in COPY_PLANS:
            pg.execute(sql, {"street": street, "plan": plan.id})
        seed_s["plans"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for sql in SEED_ENTRIES:
            pg.execute(sql)
        seed_s["entries"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for sql in RECOUNT_ALL:
            pg.execute(sql)
        seed_s["counts"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pg.execute("VACUUM ANALYZE ledger_entry")  # what autovacuum does after a bulk load
        pg.execute("VACUUM ANALYZE ledger_entry_count")
        seed_s["vacuum"] = time.perf_counter() - t0
    # The baseline connects as the product does (core/db.py): no server-side prepared statements.
    # With psycopg's default threshold the same statement is prepared after 5 runs and PostgreSQL
    # may move it to a generic plan a few runs later, so the baseline drifted within one run.
    pg = psycopg.connect(psql_url(BENCH_URL), autocommit=True, prepare_threshold=None)
    have_counts = pg.execute("SELECT to_regclass('ledger_entry_count')").fetchone()[0] is not None
    counts = dict(
        pg.execute(
            "SELECT 'units_' || level, count(*) FROM ledger_unit GROUP BY level UNION ALL "
            "SELECT 'entries', count(*) FROM ledger_entry UNION ALL SELECT 'plans', count(*) FROM ledger_plan "
            "UNION ALL SELECT 'targets', count(*) FROM ledger_plan_target"
            + (" UNION ALL SELECT 'entry counts', count(*) FROM ledger_entry_count" if have_counts else "")
        ).fetchall()
    )
    hefei = pg.execute("SELECT id FROM ledger_unit WHERE level = 'city' AND city = '合肥'").fetchone()[0]
    street = pg.execute(
        "SELECT id FROM ledger_unit WHERE level = 'street' AND city = '合肥' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]

    # --- callers: the office, 合肥市委宣传部, a street office (role unit) ---
    with Session(engine) as s:
        def person(code: str, roles: list[str], name: str) -> dict[str, str]:
            from sqlmodel import select

            from demosites.organizations.models import User

            u = s.exec(select(User).where(User.username == name)).first()
            if u is None:
                org = get_org_by_code(s, code)
                assert org is not None
                u = create_user(s, None, UserCreate(username=name, display_name=name, password=PASSWORD,
                                                    organization_id=org.id or 0, roles=roles), must_change=False)  # type: ignore[arg-type]
            token, _ = open_session(s, u, "127.0.0.1", "bench")
            return {"Authorization": f"Bearer {token}"}

        if get_org_by_code(s, "bench_street") is None:
            s.add(Organization(code="bench_street", name="基准街道办", kind=OrgKind.grassroots, city="合肥"))
            s.flush()
        org = get_org_by_code(s, "bench_street")
        s.execute(text("UPDATE ledger_unit SET organization_id = :o WHERE id = :u"), {"o": org.id, "u": street})  # type: ignore[union-attr]
        office_h = person("office", ["office"], "bench_office")
        city_h = person("hefei", ["recommender"], "bench_hefei")
        street_h = person("bench_street", ["unit"], "bench_street")
        s.commit()

    params = {"start": date(2023, MONTH, 1), "end": date(2023, MONTH, 30), "month": MONTH,
              "startkey": 20230601, "endkey": 20230630, "monthkey": 202306,
              "today": TODAY.year * 10000 + TODAY.month * 100 + TODAY.day}  # fmt: skip
    results: list[tuple[str, list[float], dict[str, list[float]]]] = []
    plain_sets = {"raw": PLAIN_STATES}
    if have_counts:
        plain_sets["counts"] = PLAIN_STATES_COUNTS

    with server() as api:

        def compare(name: str, call: Any, plain: Any, check: Any) -> None:
            """API and plain SQL alternate, so that load from elsewhere hits both alike."""
            a_t: list[float] = []
            p_t: dict[str, list[float]] = {k: [] for k in plain_sets}
            a_res = None
            p_res: dict[str, Any] = {}
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                a_res = call()
                a_t.append(time.perf_counter() - t0)
                for k, sql in plain_sets.items():
                    t0 = time.perf_counter()
                    p_res[k] = plain(sql)
                    p_t[k].append(time.perf_counter() - t0)
            for res in p_res.values():
                check(a_res, res)
            results.append((name, a_t, p_t))

        def get(path: str, prm: dict[str, Any], h: dict[str, str]) -> Any:
            r = api.get(path, params=prm, headers=h)
            assert r.status_code == 200, r.text
            return r.json()

        # 1. monthly compliance report for one city's units (合肥: 1,008 communities)
        def plain_city(sql: str) -> Any:
            rows = pg.execute(sql.format(group="1", join=""), {**params, "root": hefei}).fetchall()
            return {state: n for _, state, n in rows}

        def same_summary(a: Any, p: Any) -> None:
            got = {k: a["summary"][k] for k in STATES if a["summary"][k]}
            assert got == p, (got, p)

        city_q = {"unit_id": hefei, "year": 2023, "month": MONTH}
        compare("city monthly compliance table (合肥, first page of 200 + state summary)",
                lambda: get("/api/v1/ledger/compliance", {**city_q, "limit": 200}, city_h), plain_city, same_summary)
        compare("same table, last page (offset 6,000)",
                lambda: get("/api/v1/ledger/compliance", {**city_q, "limit": 200, "offset": 6000}, city_h), plain_city, same_summary)

        def same_overall(a: Any, p: Any) -> None:
            got = {k: a["overall"][k] for k in STATES if a["overall"][k]}
            assert got == p, (got, p)

        compare("city monthly roll-up by district (合肥)",
                lambda: get("/api/v1/ledger/compliance/rollup", city_q, city_h), plain_city, same_overall)

        # 2. province-wide monthly roll-up (office): states per city
        def plain_province(sql: str) -> Any:
            out: dict[str, dict[str, int]] = {}
            q = sql.format(group="u.city", join="JOIN ledger_unit u ON u.id = st.unit_id")
            for city, state, n in pg.execute(q, {**params, "root": 0}).fetchall():
                out.setdefault(city, {})[state] = n
            return out

        def same_cities(a: Any, p: Any) -> None:
            got = {g["unit_name"].removesuffix("市"): {k: g[k] for k in STATES if g[k]} for g in a["groups"]}
            assert got == p, "province roll-up differs from plain SQL"

        compare("province monthly roll-up (16 cities, office)",
                lambda: get("/api/v1/ledger/compliance/rollup", {"year": 2023, "month": MONTH}, office_h),
                plain_province, same_cities)

        # floors: the bare GROUP BY over the month's entries (no obligations, no states)
        floor_city = best(lambda: pg.execute(PLAIN_FLOOR, {**params, "root": hefei}).fetchall(), args.repeat)
        floor_prov = best(lambda: pg.execute(PLAIN_FLOOR, {**params, "root": 0}).fetchall(), args.repeat)

        # 3. other endpoints on the big ledger, and the fixed cost of any authenticated request
        lists: dict[str, list[float]] = {}
        for name, path, prm, h in (
            ("GET /healthz (no auth, SELECT 1: the server's floor)", "/healthz", {}, {}),
            ("one unit (fixed per-request cost: auth, session, scope)", f"/api/v1/ledger/units/{hefei}", {}, city_h),
            ("entries of 合肥, newest first (50, with total)", "/api/v1/ledger/entries", {"unit_id": hefei, "limit": 50}, city_h),
            ("due/overdue list of a street (year)", "/api/v1/ledger/compliance/due", {"unit_id": street, "year": 2023, "limit": 50}, street_h),
            ("due/overdue list of 合肥 (year, 50)", "/api/v1/ledger/compliance/due", {"unit_id": hefei, "year": 2023, "limit": 50}, city_h),
            ("month × unit grid of 合肥 (12 months × 6 districts)", "/api/v1/ledger/compliance/grid", {"unit_id": hefei, "year": 2023}, city_h),
            ("trend of 合肥 (12 months)", "/api/v1/ledger/compliance/trend", {"unit_id": hefei, "year": 2023}, city_h),
            ("trend of the province (12 months, office)", "/api/v1/ledger/compliance/trend", {"year": 2023}, office_h),
        ):
            lists[name] = runs(lambda p=path, q=prm, hh=h: api.get(p, params=q, headers=hh).raise_for_status(), args.repeat)

        # 4. bulk ingestion through the API (a street office records for its 12 communities)
        plan_items = dict(pg.execute(
            "SELECT i.code, i.id FROM ledger_plan_item i JOIN ledger_plan p ON p.id = i.plan_id "
            "WHERE p.unit_id = %s AND p.year = 2023", (street,)).fetchall())  # fmt: skip
        comms = [r[0] for r in pg.execute("SELECT id FROM ledger_unit WHERE parent_id = %s ORDER BY id", (street,)).fetchall()]
        batch = [
            {"unit_id": comms[n % len(comms)], "item_id": plan_items["12.3"], "entry_date": f"2023-07-{1 + n % 14:02d}",
             "title": "主题性志愿服务活动", "participants": 20, "place": "新时代文明实践站"}
            for n in range(1000)
        ]  # fmt: skip
        max_id = pg.execute("SELECT max(id) FROM ledger_entry").fetchone()[0]
        t0 = time.perf_counter()
        for _ in range(args.batches):
            r = api.post("/api/v1/ledger/entries/bulk", json={"items": batch}, headers=street_h)
            assert r.status_code == 201, r.text
        api_ingest = time.perf_counter() - t0
    rows = [(b["unit_id"], b["item_id"], date.fromisoformat(b["entry_date"]), b["title"], 20, b["place"]) for b in batch]
    t0 = time.perf_counter()
    for _ in range(args.batches):
        with pg.cursor() as cur, pg.transaction():
            cur.executemany(
                "INSERT INTO ledger_entry (unit_id, item_id, entry_date, title, participants, place, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, now())", rows)  # fmt: skip
    plain_ingest = time.perf_counter() - t0
    n_ingest = 1000 * args.batches
    # Put the ledger back as it was (entries, and the counts of the API's batches).
    with pg.transaction():
        pg.execute("DELETE FROM ledger_entry WHERE id > %s", (max_id,))
        if have_counts:
            for sql in RECOUNT_UNITS:
                pg.execute(sql, {"units": comms})

    # --- report ---
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")), platform.processor())
    pgver = pg.execute("SHOW server_version").fetchone()[0]
    load = os.getloadavg()
    print(f"\n## Ledger benchmark — {datetime.now().isoformat(timespec='minutes')}\n")
    print(f"Machine: {cpu}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, PostgreSQL {pgver}; "
          f"uvicorn (1 worker, --no-access-log) + httpx keep-alive; best (median) of {args.repeat} runs; "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; clock at {TODAY}, report month 2023-{MONTH:02d}.\n")  # fmt: skip
    print("Rows: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    if seed_s:
        print("Seeding: " + ", ".join(f"{k} {v:.1f} s" for k, v in seed_s.items()))
    heads = " | ".join(f"plain SQL over {k}" for k in plain_sets)
    ratios = " | ".join(f"API / SQL {k}" for k in plain_sets)
    print(f"\n| question | API | {heads} | {ratios} |\n|---|---|" + "---|---|" * len(plain_sets))
    for name, a_t, p_t in results:
        cells = " | ".join(fmt(t) for t in p_t.values())
        rat = " | ".join(f"{min(a_t) / min(t):.2f}× ({statistics.median(a_t) / statistics.median(t):.2f}×)" for t in p_t.values())
        print(f"| {name} | {fmt(a_t)} | {cells} | {rat} |")
    print(f"\nBare GROUP BY of the month's raw entries (no obligations, no states): 合肥 {floor_city * 1000:.0f} ms, province {floor_prov * 1000:.0f} ms.\n")
    print("| endpoint | API |\n|---|---|")
    for name, t in lists.items():
        print(f"| {name} | {fmt(t)} |")
    print(f"\nBulk ingestion, {args.batches} × 1,000 entries: API {n_ingest / api_ingest:,.0f} entries/s "
          f"({api_ingest / args.batches * 1000:.0f} ms per batch: validation, INSERT … RETURNING, counts, outbox events, history); "
          f"plain executemany INSERT {n_ingest / plain_ingest:,.0f} entries/s ({plain_ingest / args.batches * 1000:.0f} ms per batch) — "
          f"{api_ingest / plain_ingest:.2f}×.")  # fmt: skip

if __name__ == "__main__":
    main()

"""Deadline day (截止日): the whole workflow at once on PostgreSQL, at 16, 64 and 256 concurrent
clients, beside a bare app doing the same row writes and list read; then counts the rows.

    .venv/bin/python benchmarks/deadline/bench_deadline.py          # or: make bench-deadline

Settings (environment):
    BENCH_SECONDS=300               the mix at each client level (default 5 minutes)
    BENCH_CLIENTS=16,64,256         concurrent clients (virtual users), each level in turn
    BENCH_ONE_PROCESS_CLIENTS=64    the level also measured with 1 API process (0: skip);
                                    default 64 when listed, else the middle level
    BENCH_PAIR_SECONDS=30           each half (writes, reads) of each side (product, bare) of the
                                    like-for-like pair per level; default min(30, BENCH_SECONDS)
    BENCH_PAIR_WRITE_EVERY=0.5      seconds between the state changes beside the pair's readers
    BENCH_QUOTA=25, BENCH_HOT_QUOTA=2   quota limits per recommender × field (合肥's four: hot)
    BENCH_UNITS                     applicant units with accounts (default 10 × BENCH_SECONDS, ≥ 300)
    BENCH_UPLOAD_MB=2               the material each applicant uploads
    BENCH_ADMIN_URL                 default postgresql+psycopg://postgres@127.0.0.1:5432/test;
    BENCH_DB=deadline_bench         the database created (dropped first) through it
    BENCH_OUT                       the JSON results (default var/bench/deadline-<run id>.json;
                                    the Markdown report beside it, server logs in a folder beside it)

What runs, per client level N (benchmarks/README.md has the details):
1. **The mix** — `uvicorn demosites.main:app --workers 2` and the webhook worker delivering every
   event to a local receiver; N virtual users (asyncio + httpx, closed loop, no think time), each
   logged in as its own account: applicant units (log in, open the form, create, fill in with the
   1.8 KB deeds, upload a 2 MB PDF, read, submit, list, log out — then the next unit), the 19
   recommenders recommending against their quotas, the office passing 初审 in batches of 50 and
   naming assessment teams, assessment-team leaders recording scores, street offices recording
   台账 entries; everyone reads lists and details. Every product request uses the public HTTP API.
2. **The pair** — the same N clients all returning/resubmitting their own applications one at a
   time (a state change: status, history row, outbox event), then all reading the 50-row list
   while one change lands every 0.5 s: first against the product, then against `bare_app.py` (the
   same writes and read in plain SQL) with the same process count; their ratio is the product's
   cost.
Then the mix once more with 1 API process at one level (the 2-process ÷ 1-process ratio).

After each phase it counts what was written (through the API: applications, statuses, history,
materials, teams, quotas, ledger entries; the bare app's rows in SQL) against the 2xx answers
the clients received, reads `pg_stat_database.deadlocks` before and after, and notes the load
average. Results: a JSON file and a Markdown report (also printed).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Iterable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import users as u  # noqa: E402

VENV_BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = os.environ.get("BENCH_DB", "deadline_bench")
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
FIELDS = ("school", "enterprise", "community", "rural")
CITY_FIELDS = {"community": ("community", None), "rural": ("village", None), "school": ("primary_school", None),
               "enterprise": ("enterprise", "other")}  # fmt: skip
PROVINCIAL = {"edu": "school", "sasac": "enterprise", "fic": "enterprise"}
HOT = "hefei"  # its four quotas are small, so that the race for the last places happens every run
ASSESSOR_ORGS = ("cac", "gov_work", "civil", "agri", "union", "youth")  # member units that recommend nobody
# Requests at once while setting up and checking; writes while setting up go one or two at a
# time (BENCH_SETUP_WRITERS): with more, the product's deadlocks made setting up slower, not faster.
SETUP_CONCURRENCY = 8
SETUP_WRITERS = int(os.environ.get("BENCH_SETUP_WRITERS", 1))
PORT_PRODUCT, PORT_BARE, PORT_RECEIVER = 18610, 18620, 18630
PAIR_EVERY = float(os.environ.get("BENCH_PAIR_WRITE_EVERY", 0.5))  # seconds between changes beside the pair's readers


# ---- settings and the plan of who does what ---------------------------------------------------------


@dataclass
class Config:
    seconds: float
    clients: list[int]
    one_process: int
    pair_seconds: float
    quota: int
    hot_quota: int
    units: int
    upload_mb: float
    timeout: float
    out: Path
    run_id: str

    @classmethod
    def from_env(cls) -> Config:
        seconds = float(os.environ.get("BENCH_SECONDS", 300))
        clients = [int(c) for c in os.environ.get("BENCH_CLIENTS", "16,64,256").split(",") if c.strip()]
        if not clients or min(clients) < 6:
            raise SystemExit("BENCH_CLIENTS: each level needs at least 6 clients (one of each kind of user)")
        default_one = 64 if 64 in clients else sorted(clients)[len(clients) // 2]
        run_id = uuid.uuid4().hex[:6]
        out = Path(os.environ.get("BENCH_OUT") or ROOT / "var" / "bench" / f"deadline-{run_id}.json")
        return cls(
            seconds=seconds, clients=clients, one_process=int(os.environ.get("BENCH_ONE_PROCESS_CLIENTS", default_one)),
            pair_seconds=float(os.environ.get("BENCH_PAIR_SECONDS", min(30.0, seconds))),
            quota=int(os.environ.get("BENCH_QUOTA", 25)), hot_quota=int(os.environ.get("BENCH_HOT_QUOTA", 2)),
            units=int(os.environ.get("BENCH_UNITS", max(300, int(10 * seconds)))),
            upload_mb=float(os.environ.get("BENCH_UPLOAD_MB", 2)), timeout=float(os.environ.get("BENCH_TIMEOUT", 120)),
            out=out, run_id=run_id,
        )  # fmt: skip

    def levels(self) -> list[int]:
        return self.clients + ([self.one_process] if self.one_process else [])


@dataclass(frozen=True)
class Roles:
    applicants: int
    recommenders: int
    office: int
    assessors: int
    ledger: int

    @classmethod
    def of(cls, n: int) -> Roles:
        office, assessors, ledger = min(4, max(1, n // 16)), max(1, n // 10), max(1, n // 8)
        recommenders = max(1, round(n * 0.3))
        return cls(n - office - assessors - ledger - recommenders, recommenders, office, assessors, ledger)

    def describe(self) -> str:
        orgs = min(self.recommenders, 19)
        return (f"{self.applicants} applicant units, {self.recommenders} recommenders ({orgs} of the 19 bodies), "
                f"{self.office} office, {self.assessors} assessment-team leaders, {self.ledger} street ledger keepers")  # fmt: skip


def recommender_orgs() -> list[str]:
    from demosites.organizations.models import CITIES, CITY_CODES

    return [CITY_CODES[c] for c in CITIES] + list(PROVINCIAL)


def fields_of(org: str) -> tuple[str, ...]:
    return (PROVINCIAL[org],) if org in PROVINCIAL else FIELDS


def mix_backlog(n: int, orgs: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The applications waiting when the mix starts, made through the API before it: 5 submitted
    ones per recommender, a first batch of 50 recommended ones for each office user's share
    (one batch in all for one office user; 50 per field when the fields are shared out), 4 passed
    ones with a team per assessment-team leader. Recommended ones never come from the hot body."""
    roles = Roles.of(n)
    submitted = []
    for j in range(roles.recommenders):
        org = orgs[j % len(orgs)]
        fs = fields_of(org)
        submitted += [(org, fs[(j + k) % len(fs)]) for k in range(5)]
    recommended = []
    if roles.office == 1:
        pairs = [(o, f) for o in orgs if o != HOT for f in fields_of(o)]
        recommended = [pairs[k % len(pairs)] for k in range(u.BATCH)]
    else:
        for f in FIELDS:
            by = [o for o in orgs if o != HOT and f in fields_of(o)]
            recommended += [(by[k % len(by)], f) for k in range(u.BATCH)]
    pairs = [(o, f) for o in orgs if o != HOT for f in fields_of(o)]
    passed = [pairs[k % len(pairs)] for k in range(4 * roles.assessors)]
    return {"submitted": submitted, "recommended": recommended, "passed": passed}


def pair_backlog(n: int, orgs: list[str]) -> list[tuple[int, str, str]]:
    """(writer, body, field) of the applications the pair's N writers return and resubmit: at
    least 2 each and 100 in all, so that the list has its 50 rows."""
    writers = n
    per = max(2, math.ceil(100 / writers))
    out = []
    for j in range(writers):
        org = orgs[j % len(orgs)]
        fs = fields_of(org)
        out += [(j, org, fs[(j + k) % len(fs)]) for k in range(per)]
    return out


# ---- PostgreSQL ------------------------------------------------------------------------------------


def psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def bench_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(ADMIN_URL).set(database=DB_NAME).render_as_string(hide_password=False)


def preflight() -> None:
    """Says exactly what is missing instead of failing halfway."""
    try:
        import psycopg

        with psycopg.connect(psql_url(ADMIN_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        raise SystemExit(
            f"PostgreSQL is not reachable at BENCH_ADMIN_URL={ADMIN_URL} ({exc}).\n"
            "Start it (Debian: apt-get install -y postgresql; pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start) or point BENCH_ADMIN_URL at a server where this user may "
            "CREATE DATABASE."
        ) from exc
    if shutil.which("uvicorn", path=str(VENV_BIN)) is None:
        raise SystemExit(f"uvicorn is missing from {VENV_BIN}: run `make install-backend`")


def pg_query(sql: str, *params: Any, db: str | None = None) -> list[tuple[Any, ...]]:
    import psycopg

    url = psql_url(bench_url() if db is None else ADMIN_URL)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        cur = conn.execute(sql, params or None)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def deadlocks() -> int:
    rows = pg_query("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", DB_NAME, db="admin")
    return int(rows[0][0]) if rows else 0


async def settled_deadlocks() -> int:
    """The counter once the servers' idle connections have reported theirs: a backend sends its
    statistics at most once a second while busy and within 10 s of going idle (PostgreSQL 15)."""
    await asyncio.sleep(11)
    return deadlocks()


def pending_deliveries() -> int | None:
    try:
        return int(pg_query("SELECT count(*) FROM webhook_delivery WHERE status = 'pending'")[0][0])
    except Exception:  # the table may have moved on: say so rather than guess
        return None


# ---- seeding (once, in this process; everything after it goes through the API) --------------------


@dataclass
class Seeded:
    office: list[u.Account]  # [0] sets up and checks; the others are virtual users
    recommenders: dict[str, list[u.Account]]  # body code → [0] sets up, the others virtual users
    assessors: list[u.Account]
    streets: list[tuple[u.Account, int]]  # account, its organisation id
    units: list[u.Unit]  # applicant units with accounts (the mix's applicant users)
    setup_units: dict[tuple[str, str], list[int]]  # (body, field) → units its recommender files for
    org_ids: dict[str, int]


def seed(cfg: Config) -> Seeded:
    """Accounts, organisations, applicant units and the webhook subscription, written with the
    product's own service functions as the other benchmarks seed (the rounds, applications,
    ledger units and plans are made through the API when each phase starts)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine, text
    from sqlmodel import Session, select

    import demosites.organizations.service as org_service
    from demosites.applicants.schemas import ApplicantCreate
    from demosites.applicants.service import create_applicants
    from demosites.auth.deps import load_actor
    from demosites.core.db import get_engine
    from demosites.integration.models import AllowedWebhookHost, ServiceAccount, WebhookSubscription
    from demosites.organizations.models import CITIES, CITY_CODES, Organization, OrgKind, User
    from demosites.organizations.schemas import UserCreate

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    alembic_cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    alembic_cfg.attributes["url"] = bench_url()
    alembic_cfg.attributes["skip_logging"] = True
    command.upgrade(alembic_cfg, "heads")

    orgs = recommender_orgs()
    levels = cfg.levels()
    n_max = max(levels)
    per_org = math.ceil(max(max(Roles.of(n).recommenders for n in levels), n_max) / len(orgs))
    n_office = max(max(Roles.of(n).office, n) for n in levels)
    n_assessors = max(Roles.of(n).assessors for n in levels) + 1  # a second team member for the smallest
    n_streets = max(Roles.of(n).ledger for n in levels)
    need: Counter[tuple[str, str]] = Counter()
    for n in levels:
        mix: Counter[tuple[str, str]] = Counter(k for v in mix_backlog(n, orgs).values() for k in v)
        pair = Counter((org, f) for _, org, f in pair_backlog(n, orgs))
        for key in set(mix) | set(pair):
            need[key] = max(need[key], mix[key], pair[key])

    # One argon2id hash with the production parameters for every account (they share the
    # password): seeding thousands of accounts takes seconds, and every login still pays the
    # full production cost when the server verifies it.
    shared_hash = org_service.hash_password(u.PASSWORD)
    org_service.hash_password = lambda _password: shared_hash  # type: ignore[assignment]
    with Session(get_engine()) as s:
        org_service.seed_fixed_organizations(s)
        s.flush()
        by_code = {o.code: o for o in s.exec(select(Organization))}
        org_ids = {c: o.id or 0 for c, o in by_code.items()}

        def person(username: str, org_id: int, roles: list[str]) -> u.Account:
            user = org_service.create_user(
                s, None, UserCreate(username=username, display_name=f"{username} 基准", password=u.PASSWORD,
                                    organization_id=org_id, roles=roles),  # type: ignore[arg-type]
                must_change=False)  # fmt: skip
            return u.Account(username=username, user_id=user.id or 0, org_id=org_id)

        office = [person(f"dl_office_{i}", by_code["office"].id or 0, ["office"]) for i in range(n_office + 1)]
        recommenders = {code: [person(f"dl_{code}_{i}", by_code[code].id or 0, ["recommender"]) for i in range(per_org + 1)]
                        for code in orgs}  # fmt: skip
        assessors = [person(f"dl_assessor_{i}", by_code[ASSESSOR_ORGS[i % len(ASSESSOR_ORGS)]].id or 0, ["assessor"])
                     for i in range(n_assessors)]  # fmt: skip
        streets = []
        for i in range(n_streets):
            org = Organization(code=f"dl_street_{i}", name=f"基准街道{i}", kind=OrgKind.grassroots, city="合肥")
            s.add(org)
            s.flush()
            streets.append((person(f"dl_street_{i}", org.id or 0, ["unit"]), org.id or 0))
        office_actor = load_actor(s, s.exec(select(User).where(User.username == "dl_office_0")).one(), None)

        def spec(org: str, field_: str, name: str, city: str) -> ApplicantCreate:
            if org == "edu":
                return ApplicantCreate(name=name, kind="university_unit", city="合肥", university="安徽大学",  # type: ignore[arg-type]
                                       provincial_university=True)  # fmt: skip
            if org in ("sasac", "fic"):
                return ApplicantCreate(name=name, kind="enterprise", city=city,  # type: ignore[arg-type]
                                       ownership="provincial_soe" if org == "sasac" else "private")  # type: ignore[arg-type]
            kind, ownership = CITY_FIELDS[field_]
            return ApplicantCreate(name=name, kind=kind, city=city, ownership=ownership)  # type: ignore[arg-type]

        city_of = {CITY_CODES[c]: c for c in CITIES}
        # Units the recommenders file for when a phase sets up its backlog.
        setup_specs: list[tuple[tuple[str, str], ApplicantCreate]] = []
        for (org, f), count in sorted(need.items()):
            for k in range(count):
                setup_specs.append(((org, f), spec(org, f, f"基准{org}{f}备案单位{k}", city_of.get(org, "合肥"))))
        # The mix's applicant units, each with its own account: 85 % through their city, 5 % each
        # through 省委教育工委, 省国资委 and 省工商联.
        vu_specs: list[tuple[str, str, ApplicantCreate]] = []
        for i in range(cfg.units):
            r = i % 20
            if r < 3:
                org = list(PROVINCIAL)[r]
                f = PROVINCIAL[org]
                city = CITIES[i % len(CITIES)]
            else:
                city = CITIES[i % len(CITIES)]
                org, f = CITY_CODES[city], FIELDS[(i // len(CITIES)) % len(FIELDS)]
            vu_specs.append((org, f, spec(org, f, f"基准申报单位{i}", city)))
        setup_units: dict[tuple[str, str], list[int]] = {}
        all_specs = [sp for _, sp in setup_specs] + [sp for *_, sp in vu_specs]
        created = []
        for i in range(0, len(all_specs), 1000):
            created += create_applicants(s, office_actor, all_specs[i : i + 1000])
        for (key, _), unit in zip(setup_specs, created, strict=False):
            setup_units.setdefault(key, []).append(unit.id)
        units = []
        for i, ((org, f, _), unit) in enumerate(zip(vu_specs, created[len(setup_specs):], strict=True)):
            acc = person(f"dl_unit_{i}", unit.organization_id, ["applicant"])
            units.append(u.Unit(id=unit.id, username=acc.username, recommender_id=by_code[org].id or 0, field=f,
                                name=unit.name))  # fmt: skip
        # A service account subscribed to every event, delivered to the receiver on 127.0.0.1.
        account = ServiceAccount(client_id="deadline-bench", name="基准测试对接", secret_hash="x",
                                 organization_id=by_code["office"].id or 0, scopes=[], roles=["office"])  # fmt: skip
        s.add(account)
        s.add(AllowedWebhookHost(host="127.0.0.1"))
        s.flush()
        s.add(WebhookSubscription(service_account_id=account.id or 0, url=f"http://127.0.0.1:{PORT_RECEIVER}/hook",
                                  events=["*"], secret="s" * 32))  # fmt: skip
        s.commit()
    get_engine().dispose()
    # The units' creation events were fanned out before anyone listened: start the worker after them.
    try:
        pg_query("UPDATE webhook_fanout_cursor SET last_event_id = (SELECT coalesce(max(id), 0) FROM outbox_event)")
    except Exception as exc:
        print(f"note: could not move the webhook fan-out cursor past the seed ({exc})", file=sys.stderr)
    pg_query("VACUUM ANALYZE")
    return Seeded(office=office, recommenders=recommenders, assessors=assessors, streets=streets, units=units,
                  setup_units=setup_units, org_ids=org_ids)  # fmt: skip


# ---- processes ------------------------------------------------------------------------------------


def server_env(uploads: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": bench_url(), "UPLOAD_DIR": str(uploads), "SECRET_KEY": SECRET_KEY,
            "ENVIRONMENT": "development", "RATE_LIMIT_USER_PER_MINUTE": "0", "RATE_LIMIT_SERVICE_PER_MINUTE": "0",
            "BARE_DATABASE_URL": bench_url()}  # fmt: skip


@contextmanager
def processes(kind: str, workers: int, log: Path, uploads: Path) -> Any:
    """The product (uvicorn --workers N, and the webhook worker) or the bare app, until the block
    ends; their output goes to `log` (uvicorn at warning: errors and tracebacks)."""
    env = server_env(uploads)
    app, port = ("demosites.main:app", PORT_PRODUCT) if kind == "product" else ("bare_app:app", PORT_BARE)
    out = log.open("ab")
    cmd = [str(VENV_BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5"]  # fmt: skip
    if kind == "bare":
        cmd += ["--app-dir", str(HERE)]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)]
    if kind == "product":
        procs.append(subprocess.Popen([sys.executable, "-m", "demosites.integration.worker", "--interval", "0.5"],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise SystemExit(f"the {kind} server did not start: see {log}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.close()
        time.sleep(1.5)  # the database backends exit and report their statistics


def receiver_count() -> int | None:
    try:
        return int(httpx.get(f"http://127.0.0.1:{PORT_RECEIVER}/count", timeout=5).text)
    except httpx.HTTPError:
        return None


def errors_in(log: Path, start: int) -> dict[str, Any]:
    """What the servers wrote during one phase (from byte `start`): tracebacks, and each distinct
    message with its count (the worker's delivery lines and the missing-SPA note left out)."""
    text_ = log.read_bytes()[start:].decode("utf-8", "replace") if log.exists() else ""
    lines = text_.splitlines()
    messages: Counter[str] = Counter()
    for ln in lines:
        if not ln.strip() or ln.startswith((" ", "\t")) or "HTTP Request: POST" in ln or "frontend/dist missing" in ln:
            continue
        messages[re.sub(r"^\d{4}-\d\d-\d\d [\d:,.]+ ", "", ln)[:160]] += 1
    return {"tracebacks": sum(ln.startswith("Traceback") for ln in lines), "lines": sum(messages.values()),
            "messages": dict(messages.most_common(8))}  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    try:
        pg = pg_query("SHOW server_version", db="admin")[0][0]
    except Exception:
        pg = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "postgresql": pg,
            "hostname": platform.node()}  # fmt: skip


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return sha + ("+changes" if dirty else "")
    except OSError:
        return "?"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def beijing_today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


# ---- setup through the API --------------------------------------------------------------------------


async def bounded(jobs: Iterable[Awaitable[Any]], limit: int = SETUP_CONCURRENCY) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with sem:
            try:
                return await job
            except u.NoAnswer:
                return None

    return await asyncio.gather(*(one(j) for j in jobs))


async def setup_call(api: u.Api, op: str, method: str, url: str, token: str | None, ok: tuple[int, ...] = (200,),
                     **kw: Any) -> httpx.Response | None:  # fmt: skip
    """Setup is not measured: a request refused for the moment (503 — a deadlock victim, rolled
    back — or 429) is sent again after a pause. The refusals stay recorded under `op`."""
    for attempt in range(10):
        seen: list[str] = []
        r = await api.call(op, method, url, token, ok=ok, seen=seen, **kw)
        if r is not None or not seen or not seen[0].startswith(("503", "429")):
            return r
        await asyncio.sleep(min(3.0, 0.2 * 2**attempt))
    return None


async def login_all(api: u.Api, accounts: Iterable[u.Account]) -> None:
    accounts = list(accounts)

    async def login(a: u.Account) -> str | None:
        r = await setup_call(api, "setup: login", "POST", "/api/v1/auth/token", None,
                             data={"username": a.username, "password": u.PASSWORD})  # fmt: skip
        return r.json()["access_token"] if r is not None else None

    tokens = await bounded(login(a) for a in accounts)
    missing = [a.username for a, t in zip(accounts, tokens, strict=True) if not t]
    if missing:
        raise SystemExit(f"login failed for {len(missing)} accounts (e.g. {missing[:3]}): {setup_errors(api)}")
    for a, t in zip(accounts, tokens, strict=True):
        a.token = t


def setup_errors(api: u.Api) -> dict[str, dict[str, int]]:
    return {op: {k: v for k, v in o.answers.items() if k[:1] != "2"} for op, o in api.rec.ops.items()
            if any(k[:1] != "2" for k in o.answers)}  # fmt: skip


async def must(api: u.Api, op: str, method: str, url: str, token: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
    r = await setup_call(api, op, method, url, token, ok=ok, **kw)
    if r is None:
        raise SystemExit(f"setup step failed: {method} {url}: {setup_errors(api)}")
    return r.json() if r.content else None


async def open_round(api: u.Api, office: u.Account, year: int, cfg: Config, hot_id: int) -> int:
    """A round whose application window is open today and closes tomorrow (deadline day, kept
    open over Beijing midnight), its quotas set while it was still in the future, and the
    office's exceptions that let 初审 and assessments happen today too."""
    t = beijing_today()
    d = lambda k: str(t + timedelta(days=k))  # noqa: E731
    body = {"year": year, "name": f"{year}年度示范点创建（截止日基准测试）", "application_start": d(1),
            "application_end": d(2), "materials_deadline": d(2), "assessment_start": d(3), "assessment_end": d(60),
            "awarding_start": d(61), "awarding_end": d(70), "publicity_start": d(71), "publicity_end": d(200)}  # fmt: skip
    r = await must(api, "setup: round", "POST", "/api/v1/rounds", office.token, ok=(201,), json=body)
    rid = r["id"]
    board = await must(api, "setup: quotas", "GET", f"/api/v1/rounds/{rid}/quotas", office.token)
    await bounded(
        (must(api, "setup: quota limit", "PATCH", f"/api/v1/rounds/{rid}/quotas/{q['id']}", office.token,
              json={"limit": cfg.hot_quota if q["recommender_id"] == hot_id else cfg.quota})
         for q in board["items"]), SETUP_WRITERS,
    )  # fmt: skip
    await must(api, "setup: open the window", "PATCH", f"/api/v1/rounds/{rid}", office.token,
               json={"application_start": d(-30), "application_end": d(1), "materials_deadline": d(1),
                     "reason": "基准测试：申报窗口今日开放，明日截止"})  # fmt: skip
    for action in ("pass_preliminary", "record_assessment"):
        for k in (0, 1):
            await must(api, "setup: phase exception", "POST", f"/api/v1/rounds/{rid}/exceptions", office.token,
                       ok=(200, 201), json={"action": action, "on_date": d(k),
                                            "reason": "基准测试：截止日当天同步开展初审和考核"})  # fmt: skip
    return rid


async def setup_ledger(api: u.Api, office: u.Account, seeded: Seeded) -> list[u.Street]:
    """合肥 → one district → a street per keeper (linked to its organisation) with three
    communities, each street on the seed-003 template for this year."""
    year = beijing_today().year
    city = await must(api, "setup: ledger", "POST", "/api/v1/ledger/units", office.token, ok=(201,),
                      json={"name": "合肥市（基准）", "level": "city", "city": "合肥"})  # fmt: skip
    district = await must(api, "setup: ledger", "POST", "/api/v1/ledger/units", office.token, ok=(201,),
                          json={"name": "基准区", "level": "district", "parent_id": city["id"]})  # fmt: skip
    streets = []
    for i, (acc, org_id) in enumerate(seeded.streets):
        st = await must(api, "setup: ledger", "POST", "/api/v1/ledger/units", office.token, ok=(201,),
                        json={"name": f"基准街道{i}", "level": "street", "parent_id": district["id"],
                              "organization_id": org_id})  # fmt: skip
        comms = [(await must(api, "setup: ledger", "POST", "/api/v1/ledger/units", office.token, ok=(201,),
                             json={"name": f"基准街道{i}社区{k}", "level": "community", "parent_id": st["id"]}))["id"]
                 for k in range(3)]  # fmt: skip
        plan = await must(api, "setup: ledger", "POST", "/api/v1/ledger/plans", office.token, ok=(201,),
                          json={"unit_id": st["id"], "year": year, "source": "template", "template": "dianchang_2023"})  # fmt: skip
        streets.append(u.Street(account=acc, unit_id=st["id"], communities=comms,
                                street_item=plan_item(plan, "1.1", "self"),
                                community_item=plan_item(plan, "12.3", "each_child")))  # fmt: skip
    return streets


def plan_item(plan: dict[str, Any], code: str, scope: str) -> int:
    """The plan's item `code`; if the template has moved on, an item with a target of `scope`
    that needs no response time, else the first."""
    for it in plan["items"]:
        if it["code"] == code:
            return int(it["id"])
    for it in plan["items"]:
        targets = it.get("targets", [])
        if any(tg.get("scope") == scope for tg in targets) and not any(tg.get("kind") == "response_time" for tg in targets):
            return int(it["id"])
    return int(plan["items"][0]["id"])


async def file_and_submit(api: u.Api, t: u.Tracker, token: str, round_id: int, unit_id: int, org_id: int,
                          field_: str, op: str) -> int | None:  # fmt: skip
    """A recommender files an application on a unit's behalf and submits it (setup only)."""
    r = await setup_call(api, f"setup: {op}", "POST", "/api/v1/applications", token, ok=(201,),
                       json={"round_id": round_id, "applicant_id": unit_id, "name": f"基准示范点{unit_id}",
                             "summary": u.SUMMARY, "deeds": u.DEEDS})  # fmt: skip
    if r is None:
        return None
    app_id = int(r.json()["id"])
    t.created(app_id, org_id, field_)
    r = await setup_call(api, f"setup: {op}", "POST", f"/api/v1/applications/{app_id}/transitions", token,
                         json={"action": "submit"})  # fmt: skip
    if r is None:
        return None  # left as a draft (and counted as such)
    t.moved(app_id, "submit", "submitted")
    return app_id


async def recommend(api: u.Api, t: u.Tracker, token: str, app_id: int) -> bool:
    r = await setup_call(api, "setup: recommend", "POST", f"/api/v1/applications/{app_id}/transitions", token,
                         json={"action": "recommend", "opinion": "同意推荐。"})  # fmt: skip
    if r is not None:
        t.moved(app_id, "recommend", "recommended")
    return r is not None


# ---- the checks: rows against the 2xx answers --------------------------------------------------------

HOLDS_QUOTA = {"recommended", "preliminary_passed", "preliminary_failed", "assessed", "proposed", "not_proposed",
               "candidate", "review_rejected", "approved", "approval_rejected", "awarded"}  # fmt: skip
HISTORY_ACTIONS = ("create", "submit", "recommend", "pass_preliminary", "record_assessment", "upload_material", "return")


async def all_applications(api: u.Api, token: str, round_id: int) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    offset = 0
    while True:
        r = await must(api, "check: list", "GET", f"/api/v1/applications?round_id={round_id}&limit=200&offset={offset}", token)
        for it in r["items"]:
            out[it["id"]] = it
        offset += 200
        if offset >= r["total"] or not r["items"]:
            return out


async def history_counts(api: u.Api, token: str, ids: list[int]) -> dict[int, Counter[str]] | None:
    async def one(i: int) -> Counter[str] | None:
        r = await api.call("check: history", "GET", f"/api/v1/applications/{i}/history", token)
        return Counter(h["action"] for h in r.json()["items"]) if r is not None else None

    got = await bounded(one(i) for i in ids)
    if any(g is None for g in got):
        return None
    return dict(zip(ids, got, strict=True))


def compare_history(found: dict[int, Counter[str]] | None, expected: dict[int, Counter[str]],
                    actions: Iterable[str]) -> dict[str, Any]:  # fmt: skip
    if found is None:
        return {"ok": None, "note": "the history endpoint did not answer for every application"}
    out: dict[str, Any] = {}
    good = True
    for a in actions:
        resp = sum(expected[i][a] for i in found)
        rows = sum(found[i][a] for i in found)
        more = sorted(i for i in found if found[i][a] > expected[i][a])
        fewer = sorted(i for i in found if found[i][a] < expected[i][a])
        if resp or rows:
            out[a] = {"responses_2xx": resp, "rows": rows, "apps_with_more_rows": len(more),
                      "apps_with_fewer_rows": len(fewer), "examples": (more + fewer)[:5]}  # fmt: skip
        good = good and not more and not fewer
    out["ok"] = good
    return out


async def check_mix(api: u.Api, office: u.Account, round_id: int, t: u.Tracker, streets: list[u.Street],
                    before: dict[int, int]) -> dict[str, Any]:  # fmt: skip
    listing = await all_applications(api, office.token, round_id)
    certain = {i: a for i, a in t.apps.items() if not a.uncertain}
    created = [i for i, a in t.apps.items() if a.actions["create"]]
    phantom = sorted(set(listing) - set(t.apps))
    lost = sorted(i for i in created if i not in listing)
    wrong = [(i, a.status, listing[i]["status"]) for i, a in certain.items() if i in listing and listing[i]["status"] != a.status]
    teams = [(i, a.team, [x["user_id"] for x in listing[i]["assessors"]]) for i, a in certain.items()
             if a.team is not None and i in listing and [x["user_id"] for x in listing[i]["assessors"]] != a.team]  # fmt: skip
    checks: dict[str, Any] = {
        "applications": {"created_2xx": len(created), "rows": len(listing), "rows_without_a_2xx": len(phantom),
                         "creates_without_an_answer": t.create_no_answer, "created_2xx_but_missing": len(lost),
                         "examples": (phantom + lost)[:5],
                         "ok": not lost and len(phantom) <= t.create_no_answer},
        "statuses": {"checked": sum(1 for i in certain if i in listing), "uncertain_skipped": len(t.apps) - len(certain),
                     "by_status": dict(Counter(a["status"] for a in listing.values())),
                     "differ": len(wrong), "examples": wrong[:5], "ok": not wrong},
        "teams": {"assigned_2xx": sum(1 for a in certain.values() if a.team is not None), "differ": len(teams),
                  "examples": teams[:3], "ok": not teams},
    }  # fmt: skip
    ids = sorted(i for i in certain if i in listing)
    found = await history_counts(api, office.token, ids)
    checks["history"] = compare_history(found, {i: certain[i].actions for i in ids}, HISTORY_ACTIONS)

    async def materials(i: int) -> int | None:
        r = await api.call("check: materials", "GET", f"/api/v1/applications/{i}/materials", office.token)
        return int(r.json()["total"]) if r is not None else None

    uploaded = [i for i in ids if certain[i].uploads or certain[i].actions["create"]]
    files = await bounded(materials(i) for i in uploaded)
    bad = [(i, certain[i].uploads, f) for i, f in zip(uploaded, files, strict=True) if f != certain[i].uploads]
    checks["materials"] = {"uploads_2xx": sum(certain[i].uploads for i in uploaded),
                           "files": sum(f or 0 for f in files), "differ": len(bad), "examples": bad[:5], "ok": not bad}  # fmt: skip
    board = (await must(api, "check: quotas", "GET", f"/api/v1/rounds/{round_id}/quotas", office.token))["items"]
    held = Counter((a["recommender"]["id"], a["field"]) for a in listing.values() if a["status"] in HOLDS_QUOTA)
    over = [(q["recommender_code"], q["field"], q["used"], q["limit"]) for q in board if q["used"] > q["limit"]]
    disagree = [(q["recommender_code"], q["field"], q["used"], held[(q["recommender_id"], q["field"])]) for q in board
                if q["used"] != held[(q["recommender_id"], q["field"])]]  # fmt: skip
    uncertain_recommends = sum(1 for a in t.apps.values() if a.uncertain)
    used = sum(q["used"] for q in board)
    checks["quotas"] = {
        "quotas": len(board), "full": sum(q["used"] == q["limit"] for q in board), "used": used,
        "recommends_2xx": t.recommends_ok, "over_the_limit": over, "used_differs_from_applications_holding_a_place": disagree[:5],
        "ok": not over and not disagree and (used == t.recommends_ok or (uncertain_recommends and used >= t.recommends_ok)),
    }  # fmt: skip
    entries = {}
    for st in streets:
        r = await must(api, "check: ledger", "GET", "/api/v1/ledger/entries", office.token,
                       params={"unit_id": st.unit_id, "limit": 1})  # fmt: skip
        entries[st.unit_id] = int(r["total"]) - before.get(st.unit_id, 0)
    ok_entries = sum(t.entries_ok.values())
    no_answer = sum(t.entries_no_answer.values())
    checks["ledger_entries"] = {"created_2xx": ok_entries, "rows_added": sum(entries.values()), "without_an_answer": no_answer,
                                "ok": ok_entries <= sum(entries.values()) <= ok_entries + no_answer}  # fmt: skip
    return checks


async def ledger_totals(api: u.Api, office: u.Account, streets: list[u.Street]) -> dict[int, int]:
    out = {}
    for st in streets:
        r = await must(api, "check: ledger", "GET", "/api/v1/ledger/entries", office.token,
                       params={"unit_id": st.unit_id, "limit": 1})  # fmt: skip
        out[st.unit_id] = int(r["total"])
    return out


# ---- phases ----------------------------------------------------------------------------------------


@dataclass
class Run:
    cfg: Config
    seeded: Seeded
    logs: Path
    uploads: Path
    streets: list[u.Street] = field(default_factory=list)
    years: Iterable[int] = field(default_factory=lambda: iter(range(2101, 2200)))
    upload: bytes = b""

    def client(self, base: str, n: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=n + SETUP_CONCURRENCY, max_keepalive_connections=n + SETUP_CONCURRENCY)
        return httpx.AsyncClient(base_url=base, limits=limits, timeout=self.cfg.timeout)


@asynccontextmanager
async def measured(name: str) -> Any:
    """Load average, deadlocks and the load generator's own CPU around a phase."""
    facts: dict[str, Any] = {"load_before": load(), "cpu0": time.process_time(), "t0": time.monotonic()}
    yield facts
    facts["seconds"] = time.monotonic() - facts.pop("t0")
    facts["load_after"] = load()
    facts["loadgen_cpu_share"] = round((time.process_time() - facts.pop("cpu0")) / facts["seconds"], 3)


def phase_log(run: Run, name: str) -> tuple[Path, int]:
    log = run.logs / f"{name}.log"
    return log, log.stat().st_size if log.exists() else 0


async def mix_phase(run: Run, n: int, workers: int) -> dict[str, Any]:
    cfg, seeded = run.cfg, run.seeded
    roles = Roles.of(n)
    orgs = recommender_orgs()
    name = f"mix-{n}-clients-{workers}-process{'es' if workers > 1 else ''}"
    print(f"\n== {name}: {roles.describe()} ==", file=sys.stderr)
    log, log_start = phase_log(run, name)
    dl0, hooks0 = deadlocks(), receiver_count()
    with processes("product", workers, log, run.uploads) as base:
        async with run.client(base, n) as client:
            setup = u.Api(client, u.Recorder())
            t = u.Tracker()
            office0 = seeded.office[0]
            await login_all(setup, [office0] + [seeded.recommenders[o][0] for o in orgs])
            if not run.streets:
                run.streets = await setup_ledger(setup, office0, seeded)
            round_id = await open_round(setup, office0, next(run.years), cfg, seeded.org_ids[HOT])
            rec_vus = [seeded.recommenders[orgs[j % len(orgs)]][1 + j // len(orgs)] for j in range(roles.recommenders)]
            office_vus = seeded.office[1 : 1 + roles.office]
            assessor_vus = seeded.assessors[: roles.assessors]
            streets = run.streets[: roles.ledger]
            await login_all(setup, rec_vus + office_vus + assessor_vus + [s.account for s in streets])
            # The backlog a deadline day starts with, through the API.
            t0 = time.monotonic()
            backlog = mix_backlog(n, orgs)
            pools = {k: deque(v) for k, v in seeded.setup_units.items()}

            async def filed(purpose: str) -> list[tuple[str, int]]:
                jobs = []
                for org, f in backlog[purpose]:
                    acc = seeded.recommenders[org][0]
                    jobs.append((org, file_and_submit(setup, t, acc.token, round_id, pools[(org, f)].popleft(),
                                                      seeded.org_ids[org], f, purpose)))  # fmt: skip
                ids = await bounded([j for _, j in jobs], SETUP_WRITERS)
                return [(org, i) for (org, _), i in zip(jobs, ids, strict=True) if i is not None]

            await filed("submitted")
            to_recommend = (await filed("recommended")) + (passed := await filed("passed"))
            await bounded([recommend(setup, t, seeded.recommenders[org][0].token, i) for org, i in to_recommend], SETUP_WRITERS)
            passed_ids = [i for _, i in passed if t.apps[i].status == "recommended"]
            leaders = [a.user_id for a in assessor_vus]
            others = [a.user_id for a in seeded.assessors]
            for k in range(0, len(passed_ids), u.BATCH):
                ids = passed_ids[k : k + u.BATCH]
                await must(setup, "setup: pass", "POST", "/api/v1/applications/transitions", office0.token,
                           json={"action": "pass_preliminary", "opinion": "同意进入考核。", "application_ids": ids})  # fmt: skip
                for i in ids:
                    t.moved(i, "pass_preliminary", "preliminary_passed")
            team_no = iter(range(10**9))

            def next_team() -> list[int]:
                k = next(team_no)
                leader = leaders[k % len(leaders)]
                member = next(x for x in others[k % len(others):] + others if x != leader)
                return [leader, member]

            async def assign(i: int) -> None:
                team = next_team()
                await must(setup, "setup: team", "PUT", f"/api/v1/applications/{i}/assessors", office0.token,
                           json={"user_ids": team})  # fmt: skip
                t.apps[i].team = team

            await bounded([assign(i) for i in passed_ids], SETUP_WRITERS)
            setup_seconds = time.monotonic() - t0
            entries_before = await ledger_totals(setup, office0, streets)
            dl_setup = await settled_deadlocks()
            print(f"   set up in {setup_seconds:.0f} s ({len(t.apps)} applications, {dl_setup - dl0} deadlocks); "
                  f"the mix runs for {cfg.seconds:g} s", file=sys.stderr)  # fmt: skip
            units = deque(seeded.units)
            rec = u.Recorder()
            api = u.Api(client, rec)
            world = u.World(api=api, tracker=t, round_id=round_id, deadline=0.0, today=beijing_today(), units=units,
                            upload=run.upload, teams=next_team)  # fmt: skip
            # One office user takes every recommended application; several share the fields out.
            office_fields: list[list[str | None]] = (
                [[None]] if roles.office == 1 else [list(FIELDS[i :: roles.office]) for i in range(roles.office)]
            )
            async with measured(name) as facts:
                world.started = time.monotonic()
                world.deadline = world.started + cfg.seconds
                await asyncio.gather(
                    *(u.applicant_unit(world) for _ in range(roles.applicants)),
                    *(u.recommender(world, a) for a in rec_vus),
                    *(u.office(world, a, office_fields[i]) for i, a in enumerate(office_vus)),
                    *(u.assessor(world, a) for a in assessor_vus),
                    *(u.ledger_keeper(world, s) for s in streets),
                )
            print(f"   checking the rows of round {round_id} …", file=sys.stderr)
            checks = await check_mix(setup, office0, round_id, t, streets, entries_before)
            hooks1 = receiver_count()
    pending = pending_deliveries()
    dl1 = deadlocks()
    shutil.rmtree(run.uploads, ignore_errors=True)  # 2 MB a submission: gone after each phase
    return {
        "name": name, "kind": "mix", "clients": n, "processes": workers, "roles": roles.__dict__,
        "roles_text": roles.describe(), "round_id": round_id, "setup_seconds": round(setup_seconds, 1),
        "setup_not_2xx": setup_errors(setup), **facts, "ops": rec.summary(facts["seconds"]),
        "totals": totals(rec, facts["seconds"]), "deadlocks": dl1 - dl_setup, "deadlocks_in_setup": dl_setup - dl0,
        "webhooks": {"received": (hooks1 or 0) - (hooks0 or 0) if hooks1 is not None else None, "pending_after": pending},
        "applicant_units_exhausted_at_s": world.exhausted_at, "checks": checks, "server_log": errors_in(log, log_start),
    }  # fmt: skip


async def pair_run(client: httpx.AsyncClient, round_id: int, status: dict[int, str], mine: dict[int, list[int]],
                   writers: list[str | None], readers: list[str | None], bare: bool, seconds: float,
                   ) -> tuple[u.PairWorld, dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The two halves of one side of the pair: every client changing states (each its own
    applications, one change after the other), then every client reading the list while one
    change lands every PAIR_EVERY seconds — the same rate on both sides, so that the product's
    page cache is emptied as often as the bare app's rows change."""
    world = u.PairWorld(api=u.Api(client, u.Recorder()), deadline=0, round_id=round_id, status=status)
    ops: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for half in ("writes", "reads"):
        rec = u.Recorder()
        world.api = u.Api(client, rec)
        async with measured(half) as f:
            world.deadline = time.monotonic() + seconds
            if half == "writes":
                await asyncio.gather(*(u.pair_writer(world, writers[j], ids, bare) for j, ids in mine.items()))
            else:
                first = next(iter(mine))
                await asyncio.gather(u.pair_writer(world, writers[first], mine[first], bare, PAIR_EVERY),
                                     *(u.pair_reader(world, tok, bare) for tok in readers))  # fmt: skip
        ops.update(rec.summary(f["seconds"]))
        facts[half] = {**f, "totals": totals(rec, f["seconds"])}
    return world, facts, ops


def pair_result(name: str, side: str, n: int, workers: int, round_id: int, facts: dict[str, Any],
                ops: dict[str, Any], **more: Any) -> dict[str, Any]:  # fmt: skip
    w, r = facts["writes"], facts["reads"]
    seconds = w["seconds"] + r["seconds"]
    req = w["totals"]["requests"] + r["totals"]["requests"]
    ok = w["totals"]["ok"] + r["totals"]["ok"]
    not_ok: Counter[str] = Counter(w["totals"]["not_ok"]) + Counter(r["totals"]["not_ok"])
    return {"name": name, "kind": "pair", "side": side, "clients": n, "processes": workers, "round_id": round_id,
            "seconds": seconds, "halves": {k: {x: v[x] for x in ("seconds", "load_before", "load_after", "loadgen_cpu_share")}
                                           for k, v in facts.items()},
            "load_before": w["load_before"], "load_after": r["load_after"],
            "loadgen_cpu_share": round((w["loadgen_cpu_share"] * w["seconds"] + r["loadgen_cpu_share"] * r["seconds"]) / seconds, 3),
            "ops": ops, "totals": {"requests": req, "ok": ok, "rps": req / seconds, "ok_rps": ok / seconds,
                                   "not_ok": dict(sorted(not_ok.items()))}, **more}  # fmt: skip


async def pair_phase(run: Run, n: int, workers: int) -> list[dict[str, Any]]:
    """Like for like: N clients changing states, then N clients reading the list, on the product;
    then the same on the bare app, with the same processes and (copies of) the same applications."""
    cfg, seeded = run.cfg, run.seeded
    orgs = recommender_orgs()
    results = []
    name = f"pair-{n}-clients-product"
    print(f"\n== {name}: {n} clients changing states, then {n} reading ==", file=sys.stderr)
    log, log_start = phase_log(run, name)
    dl0 = deadlocks()
    with processes("product", workers, log, run.uploads) as base:
        async with run.client(base, n) as client:
            setup = u.Api(client, u.Recorder())
            office0 = seeded.office[0]
            await login_all(setup, [office0])
            round_id = await open_round(setup, office0, next(run.years), cfg, seeded.org_ids[HOT])
            writer_accs = [seeded.recommenders[orgs[j % len(orgs)]][1 + j // len(orgs)] for j in range(n)]
            reader_accs = seeded.office[1 : 1 + n]
            await login_all(setup, writer_accs + reader_accs)
            t = u.Tracker()
            pools = {k: deque(v) for k, v in seeded.setup_units.items()}
            plan = pair_backlog(n, orgs)
            ids = await bounded((file_and_submit(setup, t, writer_accs[j].token, round_id, pools[(org, f)].popleft(),
                                                 seeded.org_ids[org], f, "pair") for j, org, f in plan), SETUP_WRITERS)  # fmt: skip
            mine: dict[int, list[int]] = {}
            for (j, _, _), i in zip(plan, ids, strict=True):
                if i is not None:
                    mine.setdefault(j, []).append(i)
            dl_setup = await settled_deadlocks()
            print(f"   {sum(map(len, mine.values()))} applications filed; measuring", file=sys.stderr)
            world, facts, ops = await pair_run(client, round_id, {i: "submitted" for v in mine.values() for i in v}, mine,
                                          [a.token for a in writer_accs], [a.token for a in reader_accs], False,
                                          cfg.pair_seconds)  # fmt: skip
            listing = await all_applications(setup, office0.token, round_id)
            wrong = [(i, s, listing.get(i, {}).get("status")) for i, s in world.status.items()
                     if i not in world.uncertain and listing.get(i, {}).get("status") != s]  # fmt: skip
            expected = {i: Counter({"create": 1, "submit": 1 + world.ok[(i, "submit")], "return": world.ok[(i, "return")]})
                        for i in world.status if i not in world.uncertain}  # fmt: skip
            found = await history_counts(setup, office0.token, sorted(expected))
            checks = {"statuses": {"checked": len(world.status) - len(world.uncertain), "differ": len(wrong),
                                   "examples": wrong[:5], "ok": not wrong},
                      "history": compare_history(found, expected, ("submit", "return"))}  # fmt: skip
            final = {i: listing[i]["status"] for i in world.status if i in listing}
    dl1 = deadlocks()
    results.append(pair_result(name, "product", n, workers, round_id, facts, ops,
                               deadlocks=dl1 - dl_setup, deadlocks_in_setup=dl_setup - dl0, checks=checks,
                               server_log=errors_in(log, log_start)))  # fmt: skip

    name = f"pair-{n}-clients-bare"
    print(f"== {name} ==", file=sys.stderr)
    make_bare_tables(round_id)
    log, log_start = phase_log(run, name)
    dl0 = deadlocks()
    with processes("bare", workers, log, run.uploads) as base:
        async with run.client(base, n) as client:
            status = {i: s for i, s in final.items() if s in ("submitted", "draft")}
            bare_mine = {j: [i for i in v if i in status] for j, v in mine.items()}
            bare_mine = {j: v for j, v in bare_mine.items() if v}
            world, facts, ops = await pair_run(client, round_id, dict(status), bare_mine, [None] * n, [None] * n, True,
                                          cfg.pair_seconds)  # fmt: skip
    dl1 = deadlocks()
    writes = sum(world.ok.values())
    rows = dict(pg_query("SELECT 'history', count(*) FROM bare_history UNION ALL SELECT 'outbox', count(*) FROM bare_outbox"))
    now = dict(pg_query("SELECT id, status FROM bare_application WHERE id = ANY(%s)", list(status)))
    wrong = [(i, s, now.get(i)) for i, s in world.status.items() if i not in world.uncertain and now.get(i) != s]
    slack = len(world.uncertain)
    checks = {"statuses": {"checked": len(world.status) - len(world.uncertain), "differ": len(wrong), "examples": wrong[:5],
                           "ok": not wrong},
              "rows": {"writes_2xx": writes, "history_rows": rows["history"], "outbox_rows": rows["outbox"],
                       "ok": all(writes <= rows[k] <= writes + slack for k in ("history", "outbox"))}}  # fmt: skip
    results.append(pair_result(name, "bare", n, workers, round_id, facts, ops, deadlocks=dl1 - dl0,
                               deadlocks_in_setup=0, checks=checks, server_log=errors_in(log, log_start)))  # fmt: skip
    return results


def make_bare_tables(round_id: int) -> None:
    """The bare app's tables: a copy of the round's applications (same columns and indexes, none
    of the product's triggers), and a history and an outbox shaped like the product's."""
    statements = [
        "DROP TABLE IF EXISTS bare_application, bare_history, bare_outbox",
        "CREATE TABLE bare_application (LIKE application INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
        f"INSERT INTO bare_application SELECT * FROM application WHERE round_id = {int(round_id)}",
        """CREATE TABLE bare_history (id serial PRIMARY KEY, object_type varchar(32) NOT NULL, object_id integer NOT NULL,
             action varchar(64) NOT NULL, from_state varchar(32), to_state varchar(32), actor_user_id integer,
             actor_name varchar(100) NOT NULL, actor_role varchar(32), actor_org_id integer, actor_org_name varchar(200),
             at timestamp NOT NULL, opinion varchar, data json)""",
        "CREATE INDEX ix_bare_history_object ON bare_history (object_type, object_id, id)",
        "CREATE INDEX ix_bare_history_at ON bare_history (at)",
        """CREATE TABLE bare_outbox (id serial PRIMARY KEY, event_type varchar(64) NOT NULL, object_type varchar(32) NOT NULL,
             object_id integer NOT NULL, audience varchar(2000) NOT NULL, payload json NOT NULL, created_at timestamp NOT NULL)""",
        "CREATE INDEX ix_bare_outbox_object ON bare_outbox (object_type, object_id, id)",
        "CREATE INDEX ix_bare_outbox_event_type ON bare_outbox (event_type)",
        "VACUUM ANALYZE bare_application",
    ]
    for sql in statements:
        pg_query(sql)


def totals(rec: u.Recorder, seconds: float) -> dict[str, Any]:
    n = sum(sum(o.answers.values()) for o in rec.ops.values())
    ok = sum(v for o in rec.ops.values() for k, v in o.answers.items() if k[:1] == "2")
    by: Counter[str] = Counter()
    for o in rec.ops.values():
        for k, v in o.answers.items():
            if k[:1] != "2":
                by[k] += v
    return {"requests": n, "ok": ok, "rps": n / seconds, "ok_rps": ok / seconds, "not_ok": dict(sorted(by.items()))}


# ---- the report ------------------------------------------------------------------------------------


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def _answers(d: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in d.items()) or "–"


def _mark(ok: Any) -> str:
    return "✔" if ok is True else "✘" if ok is False else "?"


def _history_text(h: dict[str, Any]) -> str:
    if h.get("ok") is None:
        return h.get("note", "not checked")
    parts = [f"{a} {v['responses_2xx']:,} → {v['rows']:,}" for a, v in h.items() if isinstance(v, dict)]
    bad = [f"{a}: {v['apps_with_more_rows']} apps with more rows, {v['apps_with_fewer_rows']} with fewer (e.g. {v['examples']})"
           for a, v in h.items() if isinstance(v, dict) and (v["apps_with_more_rows"] or v["apps_with_fewer_rows"])]  # fmt: skip
    return "2xx answers → history rows: " + "; ".join(parts) + ("" if not bad else " — " + "; ".join(bad))


def mix_markdown(p: dict[str, Any]) -> list[str]:
    procs = f"{p['processes']} API process{'es' if p['processes'] > 1 else ''} (`uvicorn --workers {p['processes']}`)"
    c = p["checks"]
    wh = p["webhooks"]
    log = p["server_log"]
    out = [
        f"### {p['clients']} clients — {procs} + webhook worker: the mix for {p['seconds']:.0f} s", "",
        f"Virtual users: {p['roles_text']}. Setup through the API before the clock started: {p['setup_seconds']:.0f} s.",
        f"Load average before / after: {', '.join(map(str, p['load_before']))} / {', '.join(map(str, p['load_after']))}; "
        f"load generator {p['loadgen_cpu_share'] * 100:.0f} % of one core; **deadlocks: {p['deadlocks']}**; "
        f"webhook deliveries received {wh['received'] if wh['received'] is not None else '?'} "
        f"({wh['pending_after'] if wh['pending_after'] is not None else '?'} pending when the servers stopped); "
        f"server log: {log['tracebacks']} tracebacks, {log['lines']} other lines. Deadlocks while setting up: "
        f"{p['deadlocks_in_setup']}.",
        "",
        "| operation | requests | req/s | ok/s | p50 ms | p99 ms | not 2xx (status code: count) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    for name, o in p["ops"].items():
        out.append(f"| {name} | {o['requests']:,} | {o['rps']:,.1f} | {o['ok_rps']:,.1f} | {_ms(o['p50_ms'])} | "
                   f"{_ms(o['p99_ms'])} | {_answers(o['not_ok'])} |")  # fmt: skip
    t = p["totals"]
    out.append(f"| **all** | {t['requests']:,} | {t['rps']:,.1f} | {t['ok_rps']:,.1f} | | | {_answers(t['not_ok'])} |")
    a, s, q, m, le, tm = c["applications"], c["statuses"], c["quotas"], c["materials"], c["ledger_entries"], c["teams"]
    out += [
        "", "Rows counted after the run (through the API) against the 2xx answers the clients got:",
        f"- {_mark(a['ok'])} applications: {a['created_2xx']:,} created (2xx), {a['rows']:,} rows; "
        f"{a['rows_without_a_2xx']} rows without a 2xx ({a['creates_without_an_answer']} creates got no answer), "
        f"{a['created_2xx_but_missing']} created but missing",
        f"- {_mark(s['ok'])} statuses: {s['checked']:,} checked, {s['differ']} differ from the last 2xx "
        f"({s['uncertain_skipped']} skipped: a write to them got no answer); now "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(s["by_status"].items())),
        f"- {_mark(c['history']['ok'])} history: {_history_text(c['history'])}",
        f"- {_mark(m['ok'])} materials: {m['uploads_2xx']:,} uploads (2xx), {m['files']:,} files"
        + (f", {m['differ']} applications differ (e.g. {m['examples']})" if m["differ"] else ""),
        f"- {_mark(tm['ok'])} assessment teams: {tm['assigned_2xx']:,} assigned (2xx), {tm['differ']} differ",
        f"- {_mark(q['ok'])} quotas: {q['quotas']} quotas, {q['full']} full; used {q['used']:,} = recommends answered 2xx "
        f"{q['recommends_2xx']:,}; over the limit: {q['over_the_limit'] or 'none'}; used ≠ applications holding a place: "
        f"{q['used_differs_from_applications_holding_a_place'] or 'none'}",
        f"- {_mark(le['ok'])} ledger entries: {le['created_2xx']:,} created (2xx), {le['rows_added']:,} rows added "
        f"({le['without_an_answer']} without an answer)",
    ]  # fmt: skip
    if p.get("applicant_units_exhausted_at_s"):
        out.append(f"- ✘ the applicant units ran out after {p['applicant_units_exhausted_at_s']:.0f} s (raise BENCH_UNITS)")
    if p["setup_not_2xx"]:
        out.append(f"- setup answers that were not 2xx: {p['setup_not_2xx']}")
    if log["messages"]:
        out.append("- server log: " + "; ".join(f"{v} × `{k}`" for k, v in log["messages"].items()))
    return out + [""]


def pair_markdown(pairs: list[dict[str, Any]]) -> list[str]:
    out = [
        "### Product ÷ bare, like for like",
        "",
        "The same N clients against each side, one after the other: first all of them change states, each "
        "returning and resubmitting its own applications one at a time (status, history row, outbox event in one "
        f"transaction); then all of them read the 50-row list while one change lands every {PAIR_EVERY:g} s. "
        "Product: the public API with authentication (recommenders write, office staff read), same processes "
        "and webhook worker as the mix. Bare: `benchmarks/deadline/bare_app.py`, plain SQL on a copy of the same "
        "applications, the same number of processes.",
        "",
        "| clients | operation | product req/s | bare req/s | product ÷ bare | product p50 / p99 ms | bare p50 / p99 ms | not 2xx (product; bare) |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    by = {(p["clients"], p["side"]): p for p in pairs}
    for n in sorted({p["clients"] for p in pairs}):
        prod, bare = by.get((n, "product")), by.get((n, "bare"))
        if not prod or not bare:
            continue
        for op in ("state change (return/submit)", "list applications (50)"):
            a, b = prod["ops"].get(op), bare["ops"].get(op + ", bare")
            if not a or not b:
                continue
            ratio = a["ok_rps"] / b["ok_rps"] if b["ok_rps"] else float("nan")
            out.append(f"| {n} | {op} | {a['ok_rps']:,.1f} | {b['ok_rps']:,.1f} | **{ratio:.2f}** | "
                       f"{_ms(a['p50_ms'])} / {_ms(a['p99_ms'])} | {_ms(b['p50_ms'])} / {_ms(b['p99_ms'])} | "
                       f"{_answers(a['not_ok'])}; {_answers(b['not_ok'])} |")  # fmt: skip
    out.append("")
    for p in pairs:
        c = p["checks"]
        extra = _history_text(c["history"]) if "history" in c else (
            f"{c['rows']['writes_2xx']:,} writes (2xx) → {c['rows']['history_rows']:,} history and "
            f"{c['rows']['outbox_rows']:,} outbox rows")  # fmt: skip
        ok = all(v.get("ok") for v in c.values())
        bg = next((o["ok"] for k, o in p["ops"].items() if k.startswith("state change, one every")), 0)
        extra += f"; {bg} changes beside the readers"
        out.append(f"- {_mark(ok)} {p['name']}: statuses {c['statuses']['checked']} checked, {c['statuses']['differ']} differ; "
                   f"{extra}; deadlocks {p['deadlocks']} (setting up: {p.get('deadlocks_in_setup', 0)}); load {', '.join(map(str, p['load_before']))} → "
                   f"{', '.join(map(str, p['load_after']))}; load generator {p['loadgen_cpu_share'] * 100:.0f} % of a core; "
                   f"server log: {p['server_log']['tracebacks']} tracebacks, {p['server_log']['lines']} other lines")  # fmt: skip
    return out + [""]


def scale_markdown(two: dict[str, Any], one: dict[str, Any]) -> list[str]:
    out = [
        f"### 2 API processes ÷ 1 ({one['clients']} clients, the mix)", "",
        "| operation | 1 process ok/s | 2 processes ok/s | 2 ÷ 1 | p99 ms, 1 → 2 |", "|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for op, b in two["ops"].items():
        a = one["ops"].get(op)
        if not a:
            continue
        ratio = f"{b['ok_rps'] / a['ok_rps']:.2f}" if a["ok_rps"] else "–"
        out.append(f"| {op} | {a['ok_rps']:,.1f} | {b['ok_rps']:,.1f} | {ratio} | {_ms(a['p99_ms'])} → {_ms(b['p99_ms'])} |")
    ta, tb = one["totals"], two["totals"]
    out.append(f"| **all** | {ta['ok_rps']:,.1f} | {tb['ok_rps']:,.1f} | **{tb['ok_rps'] / ta['ok_rps']:.2f}** | |"
               if ta["ok_rps"] else "| **all** | 0 | | | |")  # fmt: skip
    return out + [""]


def ratios(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Product ÷ bare per level and operation (ok/s, p50, p99), and 2 processes ÷ 1 per operation."""
    out: dict[str, Any] = {"product_over_bare": [], "two_over_one": []}
    by = {(p["clients"], p.get("side")): p for p in phases if p["kind"] == "pair"}
    for (n, side), prod in sorted(by.items()):
        bare = by.get((n, "bare"))
        if side != "product" or bare is None:
            continue
        for op in ("state change (return/submit)", "list applications (50)"):
            a, b = prod["ops"].get(op), bare["ops"].get(op + ", bare")
            if a and b and b["ok_rps"]:
                out["product_over_bare"].append({"clients": n, "operation": op, "ok_rps": a["ok_rps"] / b["ok_rps"],
                                                 "p50": (a["p50_ms"] or 0) / (b["p50_ms"] or 1),
                                                 "p99": (a["p99_ms"] or 0) / (b["p99_ms"] or 1)})  # fmt: skip
    for one in (p for p in phases if p["kind"] == "mix" and p["processes"] == 1):
        two = next((p for p in phases if p["kind"] == "mix" and p["processes"] == 2 and p["clients"] == one["clients"]), None)
        if two and one["totals"]["ok_rps"]:
            out["two_over_one"].append({
                "clients": one["clients"], "all_ok_rps": two["totals"]["ok_rps"] / one["totals"]["ok_rps"],
                "operations": {op: two["ops"][op]["ok_rps"] / a["ok_rps"] for op, a in one["ops"].items()
                               if op in two["ops"] and a["ok_rps"]},
            })  # fmt: skip
    return out


def markdown(result: dict[str, Any]) -> str:
    cfg, m = result["config"], result["machine"]
    lines = [
        f"## Deadline day — run {result['run_id']}, {result['started']}, commit {result['commit']}", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, PostgreSQL {m['postgresql']} on the same host. "
        f"The mix {cfg['seconds']:g} s per level, the pair {cfg['pair_seconds']:g} s per half; clients {cfg['clients']}; "
        f"quotas {cfg['quota']} per recommender × field (合肥's {cfg['hot_quota']}); uploads {cfg['upload_mb']:g} MB; "
        "rate limits off; load generator asyncio + httpx in one process on the same machine.", "",
    ]  # fmt: skip
    phases = result["phases"]
    for p in phases:
        if p["kind"] == "mix":
            lines += mix_markdown(p)
    pairs = [p for p in phases if p["kind"] == "pair"]
    if pairs:
        lines += pair_markdown(pairs)
    ones = [p for p in phases if p["kind"] == "mix" and p["processes"] == 1]
    for one in ones:
        two = next((p for p in phases if p["kind"] == "mix" and p["processes"] == 2 and p["clients"] == one["clients"]), None)
        if two:
            lines += scale_markdown(two, one)
    failed = [f"{p['name']}: {k}" for p in phases for k, v in p["checks"].items() if isinstance(v, dict) and v.get("ok") is False]
    lines.append("**Checks failed: " + "; ".join(failed) + "**" if failed else "All row checks passed.")
    return "\n".join(lines) + "\n"


# ---- main --------------------------------------------------------------------------------------------


async def run_all(run: Run) -> list[dict[str, Any]]:
    phases: list[dict[str, Any]] = []
    for n in run.cfg.clients:
        phases.append(await mix_phase(run, n, 2))
        phases += await pair_phase(run, n, 2)
    if run.cfg.one_process:
        phases.append(await mix_phase(run, run.cfg.one_process, 1))
    return phases


def main() -> None:
    cfg = Config.from_env()
    preflight()
    started = datetime.now(UTC)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    logs = cfg.out.with_suffix("")
    logs.mkdir(parents=True, exist_ok=True)
    uploads = Path(os.environ.get("BENCH_UPLOAD_DIR") or logs / "uploads")
    os.environ.update({"DATABASE_URL": bench_url(), "SECRET_KEY": SECRET_KEY, "UPLOAD_DIR": str(uploads)})
    os.environ.pop("PASSWORD_HASH_FAST", None)  # logins cost what they cost in production
    print(f"deadline-day benchmark, run {cfg.run_id}: levels {cfg.clients} × {cfg.seconds:g} s"
          + (f", 1 process at {cfg.one_process}" if cfg.one_process else "") + f"; logs in {logs}", file=sys.stderr)  # fmt: skip
    t0 = time.monotonic()
    seeded = seed(cfg)
    print(f"seeded in {time.monotonic() - t0:.0f} s: {len(seeded.units):,} applicant units with accounts, "
          f"{sum(len(v) for v in seeded.setup_units.values()):,} more for the backlogs", file=sys.stderr)  # fmt: skip
    receiver = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(PORT_RECEIVER)])
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    size = int(cfg.upload_mb * 1024 * 1024)
    run = Run(cfg=cfg, seeded=seeded, logs=logs, uploads=uploads, upload=head + os.urandom(size - len(head) - 7) + b"\n%%EOF\n")
    try:
        phases = asyncio.run(run_all(run))
    finally:
        receiver.terminate()
        receiver.wait(10)
        shutil.rmtree(uploads, ignore_errors=True)
    result = {
        "run_id": cfg.run_id, "started": started.isoformat(timespec="seconds"), "commit": commit(), "machine": machine(),
        "config": {k: v for k, v in cfg.__dict__.items() if k not in ("out", "run_id")}, "phases": phases,
        "ratios": ratios(phases),
    }  # fmt: skip
    cfg.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    md = markdown(result)
    cfg.out.with_suffix(".md").write_text(md)
    print(md)
    print(f"results: {cfg.out} (and {cfg.out.with_suffix('.md').name}); server logs: {logs}", file=sys.stderr)
    failed = [p for p in phases for v in p["checks"].values() if isinstance(v, dict) and v.get("ok") is False]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""HTTP benchmarks of the workflow's busiest endpoints, each beside its baselines, on one machine in
one run against the same database; and the quota race at scale.

    .venv/bin/python benchmarks/http/bench_http.py [--backend sqlite|postgresql|both]
                                                   [--duration 4] [--runs 3] [--workers 1,2]

For each backend it migrates a database of its own (SQLite in a temporary directory; PostgreSQL
`http_bench`, created through BENCH_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test),
seeds a round open today with ~7,000 applications, then for each worker count starts
`uvicorn --workers N` (benchmarks/http/bench_app.py: the product app plus /bench/ping and
/bench/bare-applications, a plain Core select of the list summary's columns) — with N > 1 also the webhook worker, delivering every event to a local
receiver — and drives each endpoint with wrk (Debian's `wrk`, 1 thread, 8 connections), best of
`--runs` runs of `--duration` seconds. Then 200 recommendations at once against a quota of 10.
Prints one Markdown table per backend and configuration (copied into benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "Bench-password-2024"
CONNECTIONS = 8
RECOMMEND_POOL = 6000
SHOWCASE = 300
RACE = 200
WRITE_INTERVAL = 0.5


def sh(cmd: list[str], **kw: Any) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({sh(['nproc']).strip()} usable), {cpu}, Python {platform.python_version()}"


def load() -> str:
    return sh(["uptime"]).split("load average:")[1].strip()


# ---- the database -------------------------------------------------------------------------------


def make_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "http_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "http_bench"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database="http_bench").render_as_string(hide_password=False)


def seed(url: str) -> dict[str, Any]:
    """Runs in this process (settings already point at `url`); returns ids and tokens."""
    from alembic import command
    from alembic.config import Config
    from sqlmodel import Session, col, select, update

    from demosites.applicants.models import ApplicantUnit
    from demosites.applicants.schemas import ApplicantCreate
    from demosites.applicants.service import attach_unit
    from demosites.applications.models import Application, AssessmentAssignment, Status
    from demosites.audit import service as audit
    from demosites.auth.deps import load_actor
    from demosites.auth.service import open_session
    from demosites.core.clock import clock
    from demosites.core.db import get_engine
    from demosites.integration.models import AllowedWebhookHost, ServiceAccount, WebhookSubscription
    from demosites.organizations.models import Organization, OrgKind
    from demosites.organizations.schemas import UserCreate
    from demosites.organizations.service import (
        create_user,
        get_org_by_code,
        seed_fixed_organizations,
    )
    from demosites.rounds import service as rounds
    from demosites.rounds.models import Quota
    from demosites.rounds.schemas import RoundCreate

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")
    today = date.today()
    clock.set(datetime.combine(today - timedelta(days=40), datetime.min.time(), UTC) + timedelta(hours=4))
    with Session(get_engine()) as s:
        seed_fixed_organizations(s)
        s.flush()

        def person(username: str, org_code: str, roles: list[str]) -> Any:
            org = get_org_by_code(s, org_code)
            return create_user(s, None, UserCreate(username=username, display_name=f"{username} 测试",
                               password=PASSWORD, organization_id=org.id or 0, roles=roles),  # type: ignore[arg-type]
                               must_change=False)  # fmt: skip

        office, hefei_rec, edu_rec = person("b_office", "office", ["office"]), person("b_hefei", "hefei", ["recommender"]), person("b_edu", "edu", ["recommender"])  # fmt: skip
        assessor = person("b_assessor", "cac", ["assessor"])
        d = today
        r = rounds.create_round(s, load_actor(s, office, None), RoundCreate(
            year=d.year, name=f"{d.year}年度示范点创建（基准测试）",
            application_start=d - timedelta(days=30), application_end=d + timedelta(days=10),
            materials_deadline=d + timedelta(days=15), assessment_start=d + timedelta(days=20),
            assessment_end=d + timedelta(days=60), awarding_start=d + timedelta(days=61),
            awarding_end=d + timedelta(days=70), publicity_start=d + timedelta(days=71),
            publicity_end=d + timedelta(days=200)))  # fmt: skip
        hefei, edu = get_org_by_code(s, "hefei"), get_org_by_code(s, "edu")
        assert hefei and edu
        now = clock.now()
        seq = iter(range(1, 10**6))

        def unit(kind: str, city: str, **extra: Any) -> ApplicantUnit:
            n = next(seq)
            org = Organization(code=f"b_unit_{n}", name=f"基准测试申报主体{n}", kind=OrgKind.applicant_unit, city=city)
            s.add(org)
            s.flush()
            return attach_unit(s, org, ApplicantCreate(name=org.name, kind=kind, city=city, **extra))  # type: ignore[arg-type]

        def application(u: ApplicantUnit, rec: Organization, status: Status, **fields: Any) -> Application:
            a = Application(round_id=r.id or 0, applicant_id=u.id or 0, recommender_id=rec.id or 0,
                            created_by_org_id=u.organization_id, field=u.field, city=u.city,
                            name=f"{u.name}思政示范点", summary="简要事迹" * 20, deeds="先进事迹材料" * 100,
                            status=status, priority_claims=[], live_key=u.id, created_at=now, updated_at=now,
                            submitted_at=now, **fields)  # fmt: skip
            s.add(a)
            return a

        # What the office's first pages show: recommended and 初审-passed applications, some
        # priority, each with an assessor and a recommendation opinion in its history.
        cities = ["合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "安庆", "黄山", "滁州"]
        city_org = {c: get_org_by_code(s, code) for c, code in
                    zip(cities, ["hefei", "wuhu", "bengbu", "huainan", "maanshan", "anqing", "huangshan", "chuzhou"], strict=True)}  # fmt: skip
        rec_actor = load_actor(s, hefei_rec, None)
        showcase = []
        for i in range(SHOWCASE):
            c = cities[i % len(cities)]
            a = application(unit("community", c), city_org[c], Status.recommended if i % 3 else Status.preliminary_passed,  # type: ignore[arg-type]
                            priority=i % 7 == 0)  # fmt: skip
            s.flush()
            s.add(AssessmentAssignment(application_id=a.id or 0, user_id=assessor.id or 0, assigned_at=now))
            audit.record(s, rec_actor, "application", a.id or 0, "recommend", from_state="submitted",
                         to_state="recommended", role="recommender", opinion="同意推荐")  # fmt: skip
            showcase.append(a.id)
        pool = [application(unit("community", "合肥"), hefei, Status.submitted) for _ in range(RECOMMEND_POOL)]
        race = [application(unit("university_unit", "合肥", university="安徽大学", provincial_university=True), edu,
                            Status.submitted) for _ in range(RACE)]  # fmt: skip
        s.flush()
        s.execute(update(Quota).where(col(Quota.round_id) == r.id, col(Quota.recommender_id) == hefei.id,
                                      col(Quota.field) == "community").values(limit=10**6))  # fmt: skip
        race_quota = s.exec(select(Quota).where(Quota.round_id == r.id, Quota.recommender_id == edu.id,
                                                Quota.field == "school")).one()  # fmt: skip
        # A service account subscribed to every event, delivered to a receiver on 127.0.0.1.
        account = ServiceAccount(client_id="bench", name="基准测试对接", secret_hash="x",
                                 organization_id=get_org_by_code(s, "office").id or 0, scopes=[], roles=["office"])  # type: ignore[union-attr]  # fmt: skip
        s.add(account)
        s.add(AllowedWebhookHost(host="127.0.0.1"))
        s.flush()
        sub = WebhookSubscription(service_account_id=account.id or 0, url="http://127.0.0.1:1/hook", events=["*"],
                                  secret="s" * 32)  # fmt: skip
        s.add(sub)
        clock.set(None)
        tokens = {}
        for name, u in (("office", office), ("hefei", hefei_rec), ("edu", edu_rec)):
            token, _ = open_session(s, u, "127.0.0.1", "bench")
            tokens[name] = token
        s.commit()
        return {
            "round_id": r.id, "showcase": showcase, "pool": [a.id for a in pool], "race": [a.id for a in race],
            "race_quota": race_quota.id, "race_limit": race_quota.limit, "tokens": tokens,
            "subscription": sub.id,
        }  # fmt: skip


def analyze(url: str) -> None:
    """Planner statistics and the visibility map, as autovacuum keeps them on a live database
    (freshly bulk-loaded tables have neither: PostgreSQL then guessed 16 rows for 6,500)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    eng.dispose()


def reset_race(data: dict[str, Any]) -> None:
    from sqlalchemy import text

    from demosites.core.db import get_engine

    with get_engine().begin() as conn:
        ids = ",".join(str(i) for i in data["race"])
        conn.execute(text(f"UPDATE application SET status='submitted', quota_id=NULL, version=version+1 WHERE id IN ({ids})"))
        conn.execute(text("UPDATE quota SET used=0 WHERE id=:q"), {"q": data["race_quota"]})


def point_subscription(data: dict[str, Any], url: str) -> None:
    from sqlalchemy import text

    from demosites.core.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(text("UPDATE webhook_subscription SET url=:u WHERE id=:i"), {"u": url, "i": data["subscription"]})


def pending_deliveries() -> int:
    from sqlalchemy import text

    from demosites.core.db import get_engine

    with get_engine().connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM webhook_delivery WHERE status='pending'")).scalar() or 0)


# ---- processes ----------------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    count = 0


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.count += 1  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def start_server(env: dict[str, str], workers: int, port: int) -> subprocess.Popen[bytes]:
    import httpx

    proc = subprocess.Popen(
        [str(VENV_BIN / "uvicorn"), "bench_app:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


# ---- wrk ----------------------------------------------------------------------------------------


def wrk(url: str, duration: float, script: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = sh(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--latency", "--timeout", "10s", "-s", f.name, url])
    finally:
        os.unlink(f.name)

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": int(bad.group(1)) if bad else 0, "n": total}


def lua(method: str = "GET", path: str = "/", headers: dict[str, str] | None = None, body: str | None = None,
        ids: list[int] | None = None) -> str:  # fmt: skip
    lines = [f'wrk.method = "{method}"']
    for k, v in (headers or {}).items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    if ids is None:
        lines.append(f'wrk.path = "{path}"')
    else:
        lines.append("ids = {" + ",".join(map(str, ids)) + "}")
        lines.append("i = 0")
        lines.append("request = function()\n  i = i + 1\n  local id = ids[i] or ids[#ids]\n"
                     f'  return wrk.format(nil, string.format("{path}", id))\nend')  # fmt: skip
    return "\n".join(lines) + "\n"


def best_of(runs: int, base: str, duration: float, make_script: Any) -> dict[str, float]:
    results = [wrk(base, duration, make_script()) for _ in range(runs)]
    for r in results:
        if r["errors"]:
            raise SystemExit(f"{r['errors']} non-2xx answers: {make_script()[:300]}")
    return max(results, key=lambda r: r["rps"])


class Writer:
    """Recommends one fresh application every `interval` seconds while a list is measured (the
    list's rows change under the readers, as on a deadline day)."""

    def __init__(self, base: str, headers: dict[str, str], pool: list[int], interval: float) -> None:
        self.base, self.headers, self.pool, self.interval = base, headers, pool, interval
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=30) as c:
            while not self._stop.wait(self.interval) and self.pool:
                # From the far end of the pool, away from the ids wrk's recommend runs consume.
                app_id = self.pool.pop()
                r = c.post(f"/api/v1/applications/{app_id}/transitions", headers=self.headers,
                           json={"action": "recommend", "opinion": "同意推荐"})  # fmt: skip
                assert r.status_code == 200, r.text
                self.done += 1

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(30)


def quota_race(base: str, data: dict[str, Any]) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {data['tokens']['edu']}"}
    start = threading.Barrier(RACE + 1)
    limits = httpx.Limits(max_connections=RACE, max_keepalive_connections=RACE)
    with httpx.Client(base_url=base, timeout=120, limits=limits) as c:
        c.get("/bench/ping")

        def one(app_id: int) -> tuple[int, str | None, float]:
            start.wait()
            try:
                r = c.post(f"/api/v1/applications/{app_id}/transitions", headers=headers,
                           json={"action": "recommend", "opinion": "同意推荐"})  # fmt: skip
            except httpx.HTTPError:
                return 0, "no answer", time.monotonic()
            return r.status_code, r.json().get("code"), time.monotonic()

        with ThreadPoolExecutor(RACE) as pool:
            futures = [pool.submit(one, i) for i in data["race"]]
            start.wait()
            t0 = time.monotonic()
            answers = [f.result() for f in futures]
    took = max(t for *_, t in answers) - t0
    ok = sum(1 for s, *_ in answers if s == 200)
    refused = sum(1 for s, code, _ in answers if s == 409 and code == "quota_exceeded")
    others: dict[str, int] = {}
    for s, code, _ in answers:
        if s not in (200, 409):
            others[f"{s} {code}"] = others.get(f"{s} {code}", 0) + 1
    from sqlalchemy import text

    from demosites.core.db import get_engine

    with get_engine().connect() as conn:
        used = conn.execute(text("SELECT used FROM quota WHERE id=:q"), {"q": data["race_quota"]}).scalar()
        recommended = conn.execute(text("SELECT count(*) FROM application WHERE quota_id=:q"), {"q": data["race_quota"]}).scalar()  # fmt: skip
    # The invariant holds whatever else happens: never more than the quota, and the counter
    # agrees with the applications that hold a place.
    assert ok == used == recommended <= data["race_limit"], (ok, refused, used, recommended)
    return {"ok": ok, "refused": refused, "others": others, "seconds": took}


# ---- one backend --------------------------------------------------------------------------------


def run_backend(backend: str, duration: float, runs: int, worker_counts: list[int]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="http-bench-"))
    url = make_database(backend, tmp)
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": str(tmp / "uploads"),
           "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789", "RATE_LIMIT_USER_PER_MINUTE": "0",
           "RATE_LIMIT_SERVICE_PER_MINUTE": "0", "ENVIRONMENT": "development"}  # fmt: skip
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "UPLOAD_DIR", "SECRET_KEY")})
    t0 = time.monotonic()
    data = seed(url)
    analyze(url)
    print(f"<!-- {backend}: seeded in {time.monotonic() - t0:.0f} s -->", file=sys.stderr)
    office = {"Authorization": f"Bearer {data['tokens']['office']}"}
    hefei = {"Authorization": f"Bearer {data['tokens']['hefei']}", "Content-Type": "application/json"}
    pool = list(data["pool"])
    detail_id = data["showcase"][0]
    for workers in worker_counts:
        port = 18000 + workers + (0 if backend == "sqlite" else 10)
        base = f"http://127.0.0.1:{port}"
        receiver = worker = None
        if workers > 1:
            receiver = Receiver(("127.0.0.1", 0), _Hook)
            threading.Thread(target=receiver.serve_forever, daemon=True).start()
            point_subscription(data, f"http://127.0.0.1:{receiver.server_address[1]}/hook")
            worker = subprocess.Popen([sys.executable, "-m", "demosites.integration.worker", "--interval", "0.5"],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        server = start_server(env, workers, port)
        load_before = load()
        rows: list[tuple[str, dict[str, float]]] = []
        try:
            cases: list[tuple[str, Any]] = [
                ("`/bench/ping` (ceiling)", lambda: lua(path="/bench/ping")),
                ("`/bench/bare-applications` — Core select of the summary's columns, 50 rows (floor)",
                 lambda: lua(path=f"/bench/bare-applications?limit=50&round_id={data['round_id']}")),
                ("`GET /applications?limit=50` (office; names, assessors, allowed actions) — made anew every time",
                 lambda: lua(path=f"/api/v1/applications?limit=50&round_id={data['round_id']}", headers=office)),
                ("`GET /applications/{id}` (office)", lambda: lua(path=f"/api/v1/applications/{detail_id}", headers=office)),
                ("`GET /rounds/{id}/quotas` — quota board (office)",
                 lambda: lua(path=f"/api/v1/rounds/{data['round_id']}/quotas", headers=office)),
                ("`POST /applications/{id}/transitions` recommend (recommender)", None),
                ("`POST /auth/login` (recommender, argon2id)",
                 lambda: lua("POST", "/api/v1/auth/login", {"Content-Type": "application/json"},
                             json.dumps({"username": "b_hefei", "password": PASSWORD}))),
            ]  # fmt: skip
            # A deadline day: the list read while recommends land.
            list_script = lambda: lua(path=f"/api/v1/applications?limit=50&round_id={data['round_id']}", headers=office)  # noqa: E731
            with Writer(base, hefei, pool, WRITE_INTERVAL) as writer:
                busy = best_of(runs, base, duration, list_script)
            busy_label = (f"`GET /applications?limit=50` (same) — while a recommend lands every "
                          f"{WRITE_INTERVAL:g} s ({writer.done} during the runs)")  # fmt: skip
            for label, make in cases:
                if make is not None:
                    rows.append((label, best_of(runs, base, duration, make)))
                    continue
                # Each recommend takes a fresh submitted application (a run never reuses one).
                results = []
                for _ in range(runs):
                    script = lua("POST", "/api/v1/applications/%d/transitions", hefei,
                                 json.dumps({"action": "recommend", "opinion": "同意推荐"}), ids=pool[:4000])  # fmt: skip
                    r = wrk(base, duration, script)
                    assert not r["errors"], r
                    del pool[: int(r["n"]) + CONNECTIONS]  # requests cut off at the end may have landed
                    results.append(r)
                rows.append((label, max(results, key=lambda r: r["rps"])))
            rows.insert(3, (busy_label, busy))
            reset_race(data)
            race = quota_race(base, data)
            deliveries = pending_deliveries() if workers > 1 else None
        finally:
            server.terminate()
            server.wait(30)
            if worker is not None:
                worker.terminate()
                worker.wait(30)
        load_after = load()
        ping, bare = rows[0][1]["rps"], rows[1][1]["rps"]
        print(f"\n#### {backend}, `uvicorn --workers {workers}`"
              + (" + webhook worker delivering every event" if workers > 1 else "") + "\n")  # fmt: skip
        print(f"Load average before / after: {load_before} / {load_after}\n")
        print("| endpoint | req/s | p50 ms | p99 ms | ÷ bare list | ÷ ping |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, r in rows:
            print(f"| {label} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps'] / bare:.2f} | {r['rps'] / ping:.2f} |")
        other = "".join(f", {n} answered {k}" for k, n in sorted(race["others"].items()))
        print(f"\nQuota race: {RACE} concurrent recommends against a quota of {data['race_limit']}: "
              f"{race['ok']} succeeded, {race['refused']} refused `quota_exceeded`{other}; quota used = "
              f"{race['ok']}; all answered in {race['seconds']:.2f} s.")  # fmt: skip
        if receiver is not None:
            print(f"Webhook deliveries received by the local receiver during the run: {receiver.count:,} "
                  f"({deliveries:,} still pending when the server stopped).")  # fmt: skip
            receiver.shutdown()
        sys.stdout.flush()
    if backend == "sqlite" and not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if args.backend == "both":
        print(f"Figures of {date.today()}, {machine()}; wrk 1 thread × {CONNECTIONS} connections, "
              f"best of {args.runs} runs of {args.duration:g} s. Run id {uuid.uuid4().hex[:6]}.")  # fmt: skip
        for backend in ("sqlite", "postgresql"):
            subprocess.run([sys.executable, __file__, "--backend", backend, "--duration", str(args.duration),
                            "--runs", str(args.runs), "--workers", args.workers], check=True)  # fmt: skip
        return
    run_backend(args.backend, args.duration, args.runs, [int(w) for w in args.workers.split(",")])


if __name__ == "__main__":
    main()

"""The virtual users of the deadline-day benchmark (asyncio + httpx), what they record, and what
they remember having written so that the rows can be counted afterwards.

Every product request goes through the public HTTP API, as the SPA or a script would send it, so
the benchmark keeps working while the backend's insides change. Each virtual user runs in a closed
loop without think time (one request after the other) and logs in as its own account.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

PASSWORD = "Deadline-bench-2026!"
DEEDS = "本单位坚持把思想政治工作融入基层治理，" * 45  # ~1.8 KB of 先进事迹材料 text
SUMMARY = "以“红色星期五”思政课堂为抓手，常态化开展理论宣讲和志愿服务。"
SCORES = {"political": 92, "contemporary": 88, "effective": 90, "exemplary": 91}
BATCH = 50  # the office passes 初审 in batches of 50

# Operation names, in the order the report lists them.
OPS = (
    "login (argon2id)", "form: recommenders of the unit", "create application (draft)",
    "fill in the form (PATCH, 1.8 KB deeds)", "upload material (2 MB PDF)", "submit",
    "recommend", "pass 初审, batch of 50", "assign assessment team", "record assessment",
    "record ledger entry", "list applications (50)", "application detail", "quota board",
    "ledger entries (50)", "ledger entry detail", "logout",
    "state change (return/submit)", "state change (return/submit), bare", "list applications (50), bare",
)  # fmt: skip


class NoAnswer(Exception):
    """The request got no HTTP answer (timeout, connection reset): its outcome is unknown."""


@dataclass
class Op:
    latencies: list[float] = field(default_factory=list)  # ms, every answered request
    answers: Counter[str] = field(default_factory=Counter)  # "200", "409 quota_exceeded", "no answer: …"


class Recorder:
    def __init__(self) -> None:
        self.ops: dict[str, Op] = {}

    def add(self, op: str, answer: str, ms: float | None) -> None:
        o = self.ops.setdefault(op, Op())
        o.answers[answer] += 1
        if ms is not None:
            o.latencies.append(ms)

    def summary(self, seconds: float) -> dict[str, dict[str, Any]]:
        out = {}
        for name in sorted(self.ops, key=lambda n: OPS.index(n) if n in OPS else len(OPS)):
            o = self.ops[name]
            lat = sorted(o.latencies)
            n = sum(o.answers.values())
            ok = sum(v for k, v in o.answers.items() if k[:1] == "2")
            out[name] = {
                "requests": n, "ok": ok, "rps": n / seconds, "ok_rps": ok / seconds,
                "p50_ms": pct(lat, 0.50), "p90_ms": pct(lat, 0.90), "p99_ms": pct(lat, 0.99),
                "max_ms": lat[-1] if lat else None,
                "not_ok": {k: v for k, v in sorted(o.answers.items()) if k[:1] != "2"},
            }  # fmt: skip
        return out


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


class Api:
    """One shared connection pool; each call is timed and recorded under its operation name."""

    def __init__(self, client: httpx.AsyncClient, rec: Recorder) -> None:
        self.client, self.rec = client, rec

    async def call(self, op: str, method: str, url: str, token: str | None = None, ok: tuple[int, ...] = (200,),
                   seen: list[str] | None = None, **kw: Any) -> httpx.Response | None:  # fmt: skip
        """The response when its status is in `ok`, else None (recorded with status and problem
        code, and appended to `seen` when given); raises NoAnswer when there was none."""
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        t0 = time.perf_counter()
        try:
            r = await self.client.request(method, url, headers=headers, **kw)
        except httpx.TimeoutException as exc:
            self.rec.add(op, f"no answer: {type(exc).__name__}", None)
            raise NoAnswer(op) from exc
        except httpx.TransportError as exc:
            self.rec.add(op, f"no answer: {type(exc).__name__}", None)
            raise NoAnswer(op) from exc
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code in ok:
            self.rec.add(op, str(r.status_code), ms)
            return r
        code = None
        if r.headers.get("content-type", "").startswith(("application/problem+json", "application/json")):
            try:
                body = r.json()
                if isinstance(body, dict):
                    code = body.get("code") or (str(body["detail"])[:60] if body.get("detail") else None)
            except ValueError:
                pass
        answer = f"{r.status_code} {code}" if code else str(r.status_code)
        self.rec.add(op, answer, ms)
        if seen is not None:
            seen.append(answer)
        return None

    async def login(self, username: str) -> str | None:
        r = await self.call("login (argon2id)", "POST", "/api/v1/auth/token",
                            data={"username": username, "password": PASSWORD})  # fmt: skip
        return r.json()["access_token"] if r is not None else None


# ---- what was written ----------------------------------------------------------------------------


@dataclass
class AppTrack:
    status: str = "draft"  # after the last transition answered 2xx
    uncertain: bool = False  # a write to it got no answer: its outcome is unknown
    actions: Counter[str] = field(default_factory=Counter)  # history actions answered 2xx
    uploads: int = 0
    team: list[int] | None = None
    recommender_id: int = 0
    field: str = ""


class Tracker:
    """Successful writes as the clients saw them, to count against the rows afterwards."""

    def __init__(self) -> None:
        self.apps: dict[int, AppTrack] = {}
        self.create_no_answer = 0
        self.recommends_ok = 0
        self.entries_ok: Counter[int] = Counter()  # per street (ledger root)
        self.entries_no_answer: Counter[int] = Counter()

    def created(self, app_id: int, recommender_id: int, field_: str) -> None:
        self.apps[app_id] = AppTrack(recommender_id=recommender_id, field=field_)
        self.apps[app_id].actions["create"] += 1

    def moved(self, app_id: int, action: str, status: str) -> None:
        t = self.apps.setdefault(app_id, AppTrack())
        t.status = status
        t.actions[action] += 1
        if action == "recommend":
            self.recommends_ok += 1

    def uncertain(self, *app_ids: int) -> None:
        for i in app_ids:
            self.apps.setdefault(i, AppTrack()).uncertain = True


# ---- the people ----------------------------------------------------------------------------------


@dataclass
class Unit:
    """An applicant unit (申报主体) with its own account and the recommender it goes to."""

    id: int
    username: str
    recommender_id: int
    field: str
    name: str


@dataclass
class Account:
    username: str
    token: str = ""
    user_id: int = 0
    org_id: int = 0


@dataclass
class Street:
    """A street office keeping its own ledger and its communities'."""

    account: Account
    unit_id: int
    communities: list[int]
    street_item: int  # an item of its plan recorded for the street itself
    community_item: int  # an item recorded for each community


@dataclass
class World:
    """What the virtual users of one phase share."""

    api: Api
    tracker: Tracker
    round_id: int
    deadline: float
    today: date
    units: deque[Unit]
    upload: bytes
    teams: Callable[[], list[int]]  # the next assessment team (user ids, leader first)
    exhausted_at: float | None = None
    started: float = field(default_factory=time.monotonic)

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def list_path(self, **filters: Any) -> str:
        q = "&".join(f"{k}={v}" for k, v in filters.items())
        return f"/api/v1/applications?round_id={self.round_id}&limit=50" + (f"&{q}" if q else "")


async def guarded(world: World, body: Callable[[], Awaitable[None]]) -> None:
    """Runs a user's loop until the deadline; a request without an answer is recorded and the user
    goes on with its next step (the Tracker has already marked what it touched)."""
    while not world.over():
        try:
            await body()
        except NoAnswer:
            await asyncio.sleep(0.05)


async def applicant_unit(world: World) -> None:
    """申报主体 on deadline day: log in, open the form, fill it in, upload the deeds (2 MB), read it
    back, submit, look at the list, log out — then the next unit's person does the same."""
    api, t = world.api, world.tracker

    async def one() -> None:
        if not world.units:
            world.exhausted_at = world.exhausted_at or time.monotonic() - world.started
            await asyncio.sleep(world.deadline - time.monotonic())
            return
        unit = world.units.popleft()
        token = await api.login(unit.username)
        if token is None or world.over():
            return
        r = await api.call("form: recommenders of the unit", "GET", f"/api/v1/applicants/{unit.id}/recommenders",
                           token, params={"round_id": world.round_id})  # fmt: skip
        offered = [q["recommender_id"] for q in r.json()["items"]] if r is not None else []
        recommender = unit.recommender_id if unit.recommender_id in offered or not offered else offered[0]
        try:
            r = await api.call("create application (draft)", "POST", "/api/v1/applications", token, ok=(201,),
                               json={"round_id": world.round_id, "recommender_id": recommender,
                                     "name": f"{unit.name}思政示范点"})  # fmt: skip
        except NoAnswer:
            t.create_no_answer += 1
            raise
        if r is None:
            return
        app_id = r.json()["id"]
        t.created(app_id, recommender, unit.field)
        steps: list[tuple[str, str, str, dict[str, Any], tuple[int, ...]]] = [
            ("fill in the form (PATCH, 1.8 KB deeds)", "PATCH", f"/api/v1/applications/{app_id}",
             {"json": {"summary": SUMMARY, "deeds": DEEDS}}, (200,)),
            ("upload material (2 MB PDF)", "POST", f"/api/v1/applications/{app_id}/materials",
             {"files": {"file": (f"先进事迹材料{app_id}.pdf", world.upload[:-16] + app_id.to_bytes(16, "big"),
                                 "application/pdf")}, "data": {"purpose": "deeds"}}, (201,)),
            ("application detail", "GET", f"/api/v1/applications/{app_id}", {}, (200,)),
            ("submit", "POST", f"/api/v1/applications/{app_id}/transitions", {"json": {"action": "submit"}}, (200,)),
        ]  # fmt: skip
        for op, method, url, kw, ok in steps:
            if world.over():
                return
            try:
                r = await api.call(op, method, url, token, ok=ok, **kw)
            except NoAnswer:
                if method != "GET":
                    t.uncertain(app_id)
                raise
            if r is None:
                break
            if op.startswith("upload"):
                t.apps[app_id].uploads += 1
                t.apps[app_id].actions["upload_material"] += 1
            elif op == "submit":
                t.moved(app_id, "submit", "submitted")
        if not world.over():
            await api.call("list applications (50)", "GET", world.list_path(), token)
        if not world.over():
            await api.call("logout", "POST", "/api/v1/auth/logout", token, ok=(204,))

    await guarded(world, one)


async def recommender(world: World, me: Account) -> None:
    """推荐单位: the inbox of submitted applications; read one, recommend it against the quota.
    Like the SPA's quota board, it leaves alone the fields whose quota it saw full."""
    api, t = world.api, world.tracker
    full: set[str] = set()

    async def board() -> None:
        r = await api.call("quota board", "GET", f"/api/v1/rounds/{world.round_id}/quotas", me.token)
        if r is not None:
            full.update(q["field"] for q in r.json()["items"] if q["recommender_id"] == me.org_id and q["left"] <= 0)

    async def one() -> None:
        r = await api.call("list applications (50)", "GET", world.list_path(status="submitted"), me.token)
        items = r.json()["items"] if r is not None else []
        can = [i for i in items if "recommend" in i["allowed_actions"] and i["field"] not in full]
        if not can:
            await board()
            if not world.over():
                await api.call("list applications (50)", "GET", world.list_path(), me.token)
            return
        app = random.choice(can)
        await api.call("application detail", "GET", f"/api/v1/applications/{app['id']}", me.token)
        if world.over():
            return
        try:
            r = await api.call("recommend", "POST", f"/api/v1/applications/{app['id']}/transitions", me.token,
                               json={"action": "recommend", "opinion": "经审核，同意推荐。"})  # fmt: skip
        except NoAnswer:
            t.uncertain(app["id"])
            raise
        if r is not None:
            t.moved(app["id"], "recommend", "recommended")
        elif not world.over():
            await board()  # refused: perhaps the quota is full now

    await guarded(world, one)


async def office(world: World, me: Account, fields: list[str | None]) -> None:
    """办公室: 初审 of the recommended applications of its fields in batches of 50 (all or none),
    then an assessment team for each; in between it reads the lists, a detail, the quota board."""
    api, t = world.api, world.tracker

    async def one() -> None:
        for f in fields:
            path = world.list_path(status="recommended", **({"field": f} if f else {}))
            r = await api.call("list applications (50)", "GET", path, me.token)
            items = r.json()["items"] if r is not None else []
            ids = [i["id"] for i in items if "pass_preliminary" in i["allowed_actions"]][:BATCH]
            if len(ids) < BATCH or world.over():
                continue
            try:
                r = await api.call("pass 初审, batch of 50", "POST", "/api/v1/applications/transitions", me.token,
                                   json={"action": "pass_preliminary", "opinion": "材料齐全，同意进入考核。",
                                         "application_ids": ids})  # fmt: skip
            except NoAnswer:
                t.uncertain(*ids)
                raise
            if r is None:
                continue
            for i in ids:
                t.moved(i, "pass_preliminary", "preliminary_passed")
            for i in ids:
                if world.over():
                    return
                team = world.teams()
                try:
                    r = await api.call("assign assessment team", "PUT", f"/api/v1/applications/{i}/assessors",
                                       me.token, json={"user_ids": team})  # fmt: skip
                except NoAnswer:
                    t.uncertain(i)
                    raise
                if r is not None:
                    t.apps[i].team = team
        if world.over():
            return
        r = await api.call("list applications (50)", "GET", world.list_path(), me.token)
        items = r.json()["items"] if r is not None else []
        if items and not world.over():
            await api.call("application detail", "GET", f"/api/v1/applications/{random.choice(items)['id']}", me.token)
        if not world.over():
            await api.call("quota board", "GET", f"/api/v1/rounds/{world.round_id}/quotas", me.token)

    await guarded(world, one)


async def assessor(world: World, me: Account) -> None:
    """考核组 leader: the applications assigned to it after 初审; reads one and records the team's
    scores on the four standards, the visit date and the 考核组审核意见."""
    api, t = world.api, world.tracker

    async def one() -> None:
        r = await api.call("list applications (50)", "GET", world.list_path(status="preliminary_passed"), me.token)
        items = r.json()["items"] if r is not None else []
        mine = [i for i in items if i["assessors"] and i["assessors"][0]["user_id"] == me.user_id
                and "record_assessment" in i["allowed_actions"]]  # fmt: skip
        if not mine:
            r = await api.call("list applications (50)", "GET", world.list_path(), me.token)
            items = r.json()["items"] if r is not None else []
            if items and not world.over():
                await api.call("application detail", "GET", f"/api/v1/applications/{items[0]['id']}", me.token)
            else:
                await asyncio.sleep(0.2)  # nothing assigned yet: the next look in a moment
            return
        app = mine[0]
        await api.call("application detail", "GET", f"/api/v1/applications/{app['id']}", me.token)
        if world.over():
            return
        body = {"action": "record_assessment", "opinion": "经实地考核，符合示范点标准。", "scores": SCORES,
                "visit_date": str(world.today)}  # fmt: skip
        try:
            r = await api.call("record assessment", "POST", f"/api/v1/applications/{app['id']}/transitions",
                               me.token, json=body)  # fmt: skip
        except NoAnswer:
            t.uncertain(app["id"])
            raise
        if r is not None:
            t.moved(app["id"], "record_assessment", "assessed")

    await guarded(world, one)


async def ledger_keeper(world: World, street: Street) -> None:
    """A street office's 台账 keeper: records an activity (for the street or one of its
    communities), reads the entries, now and then opens one."""
    api, t = world.api, world.tracker
    me = street.account
    targets = [(street.unit_id, street.street_item)] + [(c, street.community_item) for c in street.communities]
    n = 0

    async def one() -> None:
        nonlocal n
        n += 1
        unit_id, item_id = targets[n % len(targets)]
        day = max(world.today - timedelta(days=n % 5), date(world.today.year, 1, 1))
        body = {"unit_id": unit_id, "item_id": item_id, "entry_date": str(day), "title": "新时代文明实践主题活动",
                "description": "组织志愿者开展政策宣讲和邻里互助。", "participants": 20 + n % 30,
                "place": "新时代文明实践站"}  # fmt: skip
        try:
            r = await api.call("record ledger entry", "POST", "/api/v1/ledger/entries", me.token, ok=(201,), json=body)
        except NoAnswer:
            t.entries_no_answer[street.unit_id] += 1
            raise
        entry_id = None
        if r is not None:
            t.entries_ok[street.unit_id] += 1
            entry_id = r.json()["id"]
        if world.over():
            return
        await api.call("ledger entries (50)", "GET", "/api/v1/ledger/entries", me.token,
                       params={"unit_id": street.unit_id, "limit": 50})  # fmt: skip
        if entry_id and n % 4 == 0 and not world.over():
            await api.call("ledger entry detail", "GET", f"/api/v1/ledger/entries/{entry_id}", me.token)

    await guarded(world, one)


# ---- the like-for-like pair: one state change and one list, product and bare ----------------------


@dataclass
class PairWorld:
    api: Api
    deadline: float
    round_id: int
    status: dict[int, str]  # application id → its status as the last 2xx left it
    ok: Counter[tuple[int, str]] = field(default_factory=Counter)
    uncertain: set[int] = field(default_factory=set)

    def over(self) -> bool:
        return time.monotonic() >= self.deadline


STATE_CHANGE = "state change (return/submit)"
BACKGROUND = "state change, one every {:g} s beside the readers"
LIST = "list applications (50)"


async def pair_writer(world: PairWorld, token: str | None, app_ids: list[int], bare: bool, every: float = 0.0) -> None:
    """Returns and resubmits its own applications in turn (submitted → draft → submitted …), one
    after the other, or one every `every` seconds."""
    api = world.api
    op = (BACKGROUND.format(every) if every else STATE_CHANGE) + (", bare" if bare else "")
    prefix = "/bare" if bare else "/api/v1"
    n = 0
    next_at = time.monotonic()
    while not world.over():
        if every:  # on a fixed schedule, whatever each change takes
            next_at += every
            await asyncio.sleep(max(0.0, min(next_at, world.deadline) - time.monotonic()))
            if world.over():
                return
        app_id = app_ids[n % len(app_ids)]
        n += 1
        if app_id in world.uncertain:
            if all(a in world.uncertain for a in app_ids):
                return
            continue
        action = "return" if world.status[app_id] == "submitted" else "submit"
        body = {"action": action, "opinion": "请补充材料后重新报送。" if action == "return" else None}
        try:
            r = await api.call(op, "POST", f"{prefix}/applications/{app_id}/transitions", token, json=body)
        except NoAnswer:
            world.uncertain.add(app_id)
            continue
        if r is not None:
            world.status[app_id] = "draft" if action == "return" else "submitted"
            world.ok[(app_id, action)] += 1


async def pair_reader(world: PairWorld, token: str | None, bare: bool) -> None:
    api = world.api
    op = LIST + (", bare" if bare else "")
    path = f"/bare/applications?round_id={world.round_id}&limit=50" if bare else \
        f"/api/v1/applications?round_id={world.round_id}&limit=50"  # fmt: skip
    while not world.over():
        try:
            await api.call(op, "GET", path, token)
        except NoAnswer:
            await asyncio.sleep(0.05)

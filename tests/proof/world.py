"""A realistic world built once per database: the demo seed plus one person per role and the
objects the authorisation tests aim at (an application, a site, a community's ledger, admin
objects), each with people who own it and people who must not see it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import UploadFile
from sqlalchemy import Connection, Engine, update
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.models import Application, Status
from demosites.auth.deps import load_actor
from demosites.auth.models import UserSession
from demosites.auth.service import open_session
from demosites.core import db as core_db
from demosites.core.clock import clock
from demosites.core.db import get_session, unit_of_work
from demosites.documents import jobs
from demosites.events.service import emit
from demosites.files.service import store_upload
from demosites.integration import service as integration
from demosites.integration.models import WebhookDelivery, WebhookSubscription
from demosites.ledger.models import LedgerEntry, LedgerUnit
from demosites.organizations.models import Organization, OrgKind, User
from demosites.organizations.service import get_org_by_code
from demosites.rounds.models import Quota, Round
from demosites.seed import DEMO_SEEDERS, seed_demo_accounts
from demosites.sites.models import (
    Inspection,
    Objection,
    ObjectionStatus,
    PublicNotice,
    PublicNoticeEntry,
    Rectification,
    Site,
)
from tests import factories

DEMO_PASSWORD = "Demo-Anhui-2026!"
ROLES = (
    "office", "assessor", "committee", "approver", "recommender", "applicant", "unit",
    "sysadmin", "secadmin", "auditor",
)  # fmt: skip
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    """Who is who and which ids are real. `ids` maps an object key to its id; `secrets` maps it
    to strings only that object carries (its names and texts), which no outsider may read."""

    engine: Engine
    users: dict[str, int] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, list[str]] = field(default_factory=dict)

    def as_(self, persona: str | None) -> dict[str, str]:
        return dict(self.headers[persona]) if persona else {}


@contextmanager
def requests_in_rollback(engine: Engine, keep: bool = False) -> Iterator[Connection]:
    """While active, every request of the app runs in a savepoint that is rolled back when it
    ends: the world stays as built, whatever a request (or a bug) writes. With `keep`, what
    requests commit stays visible on the yielded connection until the block ends."""
    from tests.conftest import _APP

    conn = engine.connect()
    outer = conn.begin()
    previous = core_db._engine
    core_db.set_engine(engine)
    launch = jobs.launch
    jobs.launch = lambda _job_id: None  # no background threads against the rolled-back rows

    def _session() -> Iterator[Session]:
        nested = conn.begin_nested()
        s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            with unit_of_work(s):
                yield s
        finally:
            s.close()
            if nested.is_active:
                if keep:
                    nested.commit()
                else:
                    nested.rollback()

    _APP.dependency_overrides[get_session] = _session
    try:
        yield conn
    finally:
        _APP.dependency_overrides.clear()
        jobs.launch = launch
        core_db.set_engine(previous)
        outer.rollback()
        conn.close()
        clock.set(None)


def _person(s: Session, w: World, name: str, roles: list[str], org: Organization | str) -> User:
    u = factories.user(s, roles, org, username=f"w_{name}")
    w.users[name] = u.id or 0
    return u


def _org_of_unit(s: Session, applicant_id: int) -> Organization:
    unit = s.get(ApplicantUnit, applicant_id)
    assert unit is not None
    org = s.get(Organization, unit.organization_id)
    assert org is not None
    return org


def build(engine: Engine) -> World:
    w = World(engine=engine)
    previous = core_db._engine
    core_db.set_engine(engine)
    try:
        with Session(engine, expire_on_commit=False) as s:
            seed_demo_accounts(s, DEMO_PASSWORD)
            for seeder in DEMO_SEEDERS:
                seeder(s, DEMO_PASSWORD)
            s.commit()
            _people_and_objects(s, w)
            s.commit()
            _tokens(s, w)
            s.commit()
    finally:
        core_db.set_engine(previous)
    return w


def _people_and_objects(s: Session, w: World) -> None:  # noqa: PLR0915 (one linear story)
    year = clock.today().year
    this_round = s.exec(select(Round).where(Round.year == year)).one()
    hefei = get_org_by_code(s, "hefei")
    assert hefei is not None
    # The application aimed at: submitted to 合肥 this year.
    app = s.exec(
        select(Application)
        .where(
            Application.round_id == this_round.id,
            Application.recommender_id == hefei.id,
            col(Application.status).in_([Status.submitted, Status.recommended]),
        )
        .order_by(col(Application.id))
    ).first()
    assert app is not None, "the demo seed has an application submitted to 合肥"
    app_org = _org_of_unit(s, app.applicant_id)

    # The site aimed at: the demo's site under rectification (recommended by its city).
    rect = s.exec(select(Rectification).order_by(col(Rectification.id))).first()
    assert rect is not None, "the demo seed has a rectification"
    site = s.get(Site, rect.site_id)
    assert site is not None
    site_app = s.get(Application, site.application_id)
    assert site_app is not None
    site_city = s.get(Organization, site_app.recommender_id)
    assert site_city is not None and site_city.kind == OrgKind.city_propaganda
    assert site_city.id != hefei.id
    other_site = s.exec(
        select(Site).where(Site.id != site.id, Site.organization_id != site.organization_id,
                           Site.organization_id != app_org.id).order_by(col(Site.id))
    ).first()  # fmt: skip
    assert other_site is not None
    inspection = s.get(Inspection, rect.inspection_id)
    assert inspection is not None

    # One person per role (each holds only that role): the function-level matrix calls as them.
    office = _person(s, w, "office", ["office"], "office")
    _person(s, w, "assessor", ["assessor"], "youth")  # assigned to nothing
    _person(s, w, "committee", ["committee"], "union")
    _person(s, w, "approver", ["approver"], "office")
    _person(s, w, "recommender", ["recommender"], hefei)  # the application's recommender
    owner = _person(s, w, "applicant", ["applicant"], app_org)  # the application's own unit
    dc_c1 = get_org_by_code(s, "dc_c1")
    dc_c2 = get_org_by_code(s, "dc_c2")
    assert dc_c1 is not None and dc_c2 is not None
    keeper = _person(s, w, "unit", ["unit"], dc_c1)  # keeps 电厂社区's ledger
    _person(s, w, "sysadmin", ["sysadmin"], "office")
    _person(s, w, "secadmin", ["secadmin"], "office")
    _person(s, w, "auditor", ["auditor"], "office")
    # Outsiders of the objects above.
    _person(s, w, "rec_site_city", ["recommender"], site_city)  # recommended the site
    _person(s, w, "rec_other_city", ["recommender"], "bengbu")
    _person(s, w, "rec_member", ["recommender"], "edu")
    lone = factories.org(
        s, "w_lone_unit", name="无申报的申报主体", kind=OrgKind.applicant_unit, city="合肥"
    )
    _person(s, w, "applicant_other", ["applicant"], lone)
    _person(s, w, "unit_sibling", ["unit"], dc_c2)
    site_people = _person(
        s, w, "site_people", ["applicant"], s.get(Organization, site.organization_id)
    )  # type: ignore[arg-type]
    _person(s, w, "site_other", ["applicant"], s.get(Organization, other_site.organization_id))  # type: ignore[arg-type]
    s.flush()

    owner_actor = load_actor(s, owner, None)
    # Application with a material of its own.
    material = store_upload(
        s, owner_actor, UploadFile(io.BytesIO(PDF), filename="w-secret-material.pdf"),
        "application", app.id or 0, "deeds",
    )  # fmt: skip
    w.ids.update(application=app.id, application_file=material.id, applicant=app.applicant_id,
                 hefei=hefei.id)  # fmt: skip
    unit_row = s.get(ApplicantUnit, app.applicant_id)
    w.secrets["application"] = [app.name, app.summary, app_org.name, "w-secret-material"]
    w.secrets["applicant"] = [unit_row.name if unit_row else app_org.name]

    # Site with its rectification and evidence.
    evidence = store_upload(
        s, load_actor(s, site_people, None),
        UploadFile(io.BytesIO(PDF), filename="w-secret-evidence.pdf"),
        "rectification", rect.id or 0, "evidence",
    )  # fmt: skip
    w.ids.update(site=site.id, rectification=rect.id, site_file=evidence.id,
                 inspection=inspection.id, plaque_no=site.plaque_no)  # fmt: skip
    w.secrets["site"] = [site.name, site.plaque_no, "w-secret-evidence", rect.findings or site.name]

    # 电厂社区's own plan, section, item, entry and attachment (its sibling must see none).
    unit = s.exec(select(LedgerUnit).where(LedgerUnit.organization_id == dc_c1.id)).one()
    from demosites.ledger import plans as ledger_plans
    from demosites.ledger.access import scope_of
    from demosites.ledger.schemas import ItemCreate, PlanCreate, SectionCreate

    keeper_actor = load_actor(s, keeper, None)
    scope = scope_of(s, keeper_actor)
    plan = ledger_plans.create_plan(
        s,
        scope,
        PlanCreate(unit_id=unit.id or 0, year=year, title="w-secret-plan 电厂社区工作计划"),
    )
    plan_id = plan.id
    section_id = ledger_plans.add_section(
        s, scope, plan_id, SectionCreate(title="w-secret-section")
    ).id
    item_id = ledger_plans.add_item(
        s, scope, plan_id, ItemCreate(section_id=section_id, title="w-secret-item 主题活动")
    ).id
    entry = LedgerEntry(
        unit_id=unit.id or 0, item_id=item_id, entry_date=clock.today(), title="w-secret-entry 志愿服务",
        description="w-secret-entry-description", created_by=keeper.id, created_at=clock.now(),
    )  # fmt: skip
    s.add(entry)
    s.flush()
    attachment = store_upload(
        s, keeper_actor, UploadFile(io.BytesIO(PDF), filename="w-secret-attachment.pdf"),
        "ledger_entry", entry.id or 0, "evidence",
    )  # fmt: skip
    w.ids.update(ledger_unit=unit.id, plan=plan_id, section=section_id, item=item_id,
                 entry=entry.id, entry_file=attachment.id, template="dianchang_2023")  # fmt: skip
    w.secrets["ledger"] = ["w-secret-plan", "w-secret-section", "w-secret-item", "w-secret-entry",
                           "w-secret-attachment"]  # fmt: skip

    # Admin objects: a service account with a webhook and a delivery; a user's session; a job.
    sysadmin_actor = load_actor(s, s.get(User, w.users["sysadmin"]), None)  # type: ignore[arg-type]
    account, _secret = integration.create_service_account(
        s, sysadmin_actor, "w-secret-account 省直系统", office.organization_id,
        ["applications:read"], ["office"],
    )  # fmt: skip
    # Inserted directly: the URL check resolves host names, and this machine has no DNS.
    sub = WebhookSubscription(service_account_id=account.id or 0, events=["*"],
                              url="https://w-secret-hook.example.org/hook", secret="whsec_w_secret")  # fmt: skip
    s.add(sub)
    s.flush()
    event = emit(s, "application.submitted", "application", app.id or 0, {"w": "w-secret-payload"},
                 organization_ids=[hefei.id or 0])  # fmt: skip
    delivery = WebhookDelivery(subscription_id=sub.id or 0, event_id=event.id or 0,
                               object_key=f"application:{app.id}")  # fmt: skip
    s.add(delivery)
    job = jobs.start(s, owner_actor, "forms", {"application_ids": [app.id]}, 1)
    s.info.pop("document_jobs_to_start", None)  # no thread: the job only has to exist
    w.ids.update(account=account.id, webhook=sub.id, delivery=None, job=job.id,
                 user=owner.id, quota=s.exec(select(Quota.id).where(Quota.round_id == this_round.id)).first(),
                 round=this_round.id)  # fmt: skip
    s.flush()
    w.ids["delivery"] = delivery.id
    secadmin = s.get(User, w.users["secadmin"])
    assert secadmin is not None
    w.ids["allowed_host"] = integration.allow_host(s, load_actor(s, secadmin, None), "10.9.8.7").id
    w.secrets["admin"] = ["w-secret-account", "w-secret-hook", "w-secret-payload"]

    # A public notice of the round with an objection (office business only).
    notice = PublicNotice(round_id=this_round.id or 0, starts_on=clock.today(), ends_on=clock.today(),
                          created_at=clock.now(), updated_at=clock.now())  # fmt: skip
    s.add(notice)
    s.flush()
    s.add(PublicNoticeEntry(notice_id=notice.id or 0, application_id=app.id or 0))
    objection = Objection(
        notice_id=notice.id or 0, application_id=app.id or 0, name="w-secret-objector",
        contact="13800000000", content="w-secret-objection", client_address="127.0.0.1",
        status=ObjectionStatus.open, created_at=clock.now(),
    )  # fmt: skip
    s.add(objection)
    s.flush()
    w.ids.update(notice=notice.id, objection=objection.id)
    w.secrets["admin"] += ["w-secret-objector", "w-secret-objection"]


def _tokens(s: Session, w: World) -> None:
    for name, user_id in w.users.items():
        user = s.get(User, user_id)
        assert user is not None
        token, row = open_session(s, user, "127.0.0.1", "proof")
        w.headers[name] = {"Authorization": f"Bearer {token}"}
        if name == "applicant":
            w.ids["session"] = row.id
    s.flush()
    # The world lives for the whole run: no idle timeout while other tests run in between.
    s.execute(update(UserSession).values(idle_minutes=24 * 60))

"""Builders for the after-award tests: awarded sites of a 2022 round, their people, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlmodel import Session, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.models import Application, Status
from demosites.core.clock import clock
from demosites.organizations.models import Organization, User
from demosites.rounds.models import Round
from demosites.sites.models import Objection, ObjectionStatus, PublicNotice, PublicNoticeEntry, Site
from tests.applications import builders as b
from tests.applications.builders import Api

CITIES = ("合肥", "芜湖", "蚌埠", "安庆")
CITY_CODE = {"合肥": "hefei", "芜湖": "wuhu", "蚌埠": "bengbu", "安庆": "anqing"}


@dataclass
class Awarded:
    site_id: int
    application_id: int
    plaque_no: str
    unit: ApplicantUnit
    owner: User  # an applicant user of the site's own unit


def approved_application(
    session: Session, r: Round, city: str, kind: str = "community"
) -> Application:
    u = b.unit(session, kind, city)
    return b.application(
        session, r, u, b.org(session, CITY_CODE[city]), Status.approved, name=f"{city}示范点"
    )


def award(api: Api, office: User, app: Application) -> httpx.Response:
    b.set_day(b.AWARDING)
    return api.act(office, app.id or 0, "award")


def awarded_sites(api: Api, session: Session, r: Round, office: User, n: int) -> list[Awarded]:
    """n applications of different cities awarded through the API (the hook makes the sites)."""
    out = []
    for city in CITIES[:n]:
        app = approved_application(session, r, city)
        resp = award(api, office, app)
        assert resp.status_code == 200, resp.text
        site = session.exec(select(Site).where(Site.application_id == app.id)).one()
        unit = session.get(ApplicantUnit, app.applicant_id)
        assert unit is not None
        owner = b.person(session, ["applicant"], session.get(Organization, unit.organization_id))  # type: ignore[arg-type]
        out.append(Awarded(site.id or 0, app.id or 0, site.plaque_no, unit, owner))
    return out


def day(d: date) -> None:
    b.set_day(d)


def upheld_objection(session: Session, app: Application) -> Objection:
    """An objection the office found upheld (what `uphold_objection` requires), on a notice."""
    notice = session.exec(select(PublicNotice).where(PublicNotice.round_id == app.round_id)).first()
    if notice is None:
        notice = PublicNotice(
            round_id=app.round_id, starts_on=b.ASSESSING, ends_on=b.ASSESSING, created_at=clock.now(),
            updated_at=clock.now(),
        )  # fmt: skip
        session.add(notice)
        session.flush()
    session.add(PublicNoticeEntry(notice_id=notice.id or 0, application_id=app.id or 0))
    o = Objection(
        notice_id=notice.id or 0, application_id=app.id or 0, name="张三", contact="13800000000",
        content="事迹材料不属实", client_address="127.0.0.1", status=ObjectionStatus.upheld,
        investigation="经核实，反映问题属实。", decided_at=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    session.add(o)
    session.flush()
    return o


def act(api: Api, user: User, site_id: int, action: str, **body: Any) -> httpx.Response:
    return api.post(user, f"/api/v1/sites/{site_id}/transitions", json={"action": action, **body})

"""Demo data after the award (`make run`): the awarded round's sites, one inspected and passed,
one under rectification, and publicity records. Runs after the workflow's seeder."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from demosites.applications.models import Application, Status
from demosites.auth.deps import load_actor
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.organizations.models import User
from demosites.sites import service
from demosites.sites.models import Inspection, InspectionKind, PublicityKind, Site
from demosites.sites.schemas import InspectionCreate, PublicityCreate, SiteTransitionRequest


def _office(session: Session) -> Actor | None:
    user = session.exec(select(User).where(User.username == "office")).first()
    return load_actor(session, user, None) if user else None


def seed_sites(session: Session, demo_password: str) -> None:
    """Idempotent: sites are created for awarded applications that lack one; the inspections
    and publicity are seeded once (when no inspection exists yet)."""
    office = _office(session)
    if office is None:
        return
    awarded = session.exec(
        select(Application)
        .where(Application.status == Status.awarded)
        .order_by(col(Application.id))
    ).all()
    for app in awarded:  # the award hook made them already unless it was not registered then
        service.create_site_for(session, office, app)
    sites = list(session.exec(select(Site).order_by(col(Site.plaque_no))))
    if len(sites) < 2 or session.exec(select(Inspection.id)).first() is not None:
        return
    today = clock.today()
    year = today.year
    passed, rectifying = sites[0], sites[1]
    for site in (passed, rectifying):
        service.create_inspection(
            session,
            office,
            site.id or 0,
            InspectionCreate(kind=InspectionKind.inspection, year=year),
        )
    insp = {i.site_id: i for i in session.exec(select(Inspection).where(Inspection.year == year))}
    service.transition(session, office, passed.id or 0, SiteTransitionRequest(
        action="pass", inspection_id=insp[passed.id or 0].id, findings="理论学习、阵地建设、活动台账齐全规范。",  # type: ignore[arg-type]
        opinion="检查合格。"))  # fmt: skip
    service.transition(session, office, rectifying.id or 0, SiteTransitionRequest(
        action="rectify", inspection_id=insp[rectifying.id or 0].id,  # type: ignore[arg-type]
        findings="志愿服务台账不完整，3月份以来主题活动记录缺失。", deadline=today + timedelta(days=10),
        opinion="限期整改，请于期限内提交整改报告。"))  # fmt: skip
    records = (
        PublicityCreate(kind=PublicityKind.forum, title="“皖若春风”思政论坛交流发言", happened_on=date(year, 1, 1),
                        description="在论坛上介绍示范点工作经验。"),
        PublicityCreate(kind=PublicityKind.media_report, title="思政课堂里的“红色星期五”", happened_on=date(year, 1, 1),
                        outlet="安徽日报", level="provincial", link="https://www.ahwmw.cn/"),  # type: ignore[arg-type]
    )  # fmt: skip
    for rec in records:
        service.add_publicity(session, office, passed.id or 0, rec)
    session.flush()

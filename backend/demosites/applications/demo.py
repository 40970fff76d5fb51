"""Demo data of the creation workflow (`make run`): last year's round awarded, this year's open."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import UploadFile
from sqlmodel import Session, select

from demosites.applicants.models import ApplicantUnit
from demosites.applicants.schemas import ApplicantCreate
from demosites.applicants.service import attach_unit
from demosites.applications import service
from demosites.applications.models import Application
from demosites.applications.schemas import (
    ApplicationCreate,
    PriorityClaimIn,
    Scores,
    TransitionRequest,
)
from demosites.auth.deps import load_actor
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY
from demosites.organizations.models import Organization, OrgKind, User
from demosites.organizations.service import get_org_by_code
from demosites.rounds import service as rounds
from demosites.rounds.models import Round
from demosites.rounds.schemas import MeetingCreate, RoundCreate

# code, name, kind, city, extra (university / provincial_university / ownership)
UNITS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("hf_school", "合肥市第四十五中学", "primary_school", "合肥", {}),
    ("wh_community", "芜湖市镜湖区范罗山街道新时代社区", "community", "芜湖", {}),
    ("aq_village", "安庆市潜山市源潭镇石关村", "village", "安庆", {}),
    ("ahu_marx", "安徽大学马克思主义学院", "university_unit", "合肥",
     {"university": "安徽大学", "provincial_university": True}),
    ("ah_energy", "安徽省能源集团有限公司", "enterprise", "合肥", {"ownership": "provincial_soe"}),
    ("hf_private", "合肥科大讯飞股份有限公司", "enterprise", "合肥", {"ownership": "private"}),
    ("demo_hf_no1", "合肥市第一中学", "primary_school", "合肥", {}),
    ("demo_wh_fls", "芜湖市镜湖区范罗山社区", "community", "芜湖", {}),
    ("demo_bb_caoshan", "蚌埠市龙子湖区曹山街道", "community", "蚌埠", {}),
    ("demo_bb_glass", "蚌埠玻璃工业设计研究院", "enterprise", "蚌埠", {"ownership": "other"}),
    ("demo_hs_hongcun", "黄山市黟县宏村镇宏村", "village", "黄山", {}),
    ("demo_fy_wenfeng", "阜阳市颍州区文峰街道", "community", "阜阳", {}),
    ("demo_la_no2", "六安市第二中学", "primary_school", "六安", {}),
    ("demo_ahnu_lit", "安徽师范大学文学院", "university_unit", "芜湖",
     {"university": "安徽师范大学", "provincial_university": True}),
    ("demo_ustc_marx", "中国科学技术大学马克思主义学院", "university_unit", "合肥",
     {"university": "中国科学技术大学", "provincial_university": False}),
    ("demo_hn_energy", "淮河能源控股集团有限责任公司", "enterprise", "淮南", {"ownership": "provincial_soe"}),
    ("demo_wh_squirrel", "三只松鼠股份有限公司", "enterprise", "芜湖", {"ownership": "private"}),
    ("demo_cz_xiaogang", "滁州市凤阳县小岗村", "village", "滁州", {}),
    ("demo_tl_nonferrous", "铜陵有色金属集团控股有限公司", "enterprise", "铜陵", {"ownership": "provincial_soe"}),
)  # fmt: skip

# Last year's applications: unit code, recommender code, name, how far it went.
EARLIER = (
    ("demo_hf_no1", "hefei", "“红色星期五”思政大课堂", "awarded"),
    ("demo_wh_fls", "wuhu", "“邻里红管家”社区思政工作站", "awarded"),
    ("aq_village", "anqing", "“石关夜话”村民议事厅", "awarded"),
    ("demo_bb_glass", "bengbu", "“玻璃匠心”职工思政课堂", "awarded"),
    ("demo_ahnu_lit", "edu", "“文润江淮”课程思政工作坊", "awarded"),
    ("demo_hn_energy", "sasac", "“煤海先锋”党建思政品牌", "awarded"),
    ("demo_wh_squirrel", "fic", "“松鼠之家”民企思政驿站", "awarded"),
    ("demo_hs_hongcun", "huangshan", "“徽韵宏村”乡风文明讲堂", "preliminary_failed"),
    ("demo_fy_wenfeng", "fuyang", "“文峰夜校”居民思政课", "not_proposed"),
    ("demo_la_no2", "luan", "“大别山红色研学”思政实践基地", "review_rejected"),
)
# This year's applications: unit code, recommender code, name, status, filed by the unit itself.
CURRENT = (
    ("hf_school", "hefei", "“红领巾议事会”少先队思政课堂", "draft", True),
    ("wh_community", "wuhu", "“新时代文明实践”邻里议事厅", "submitted", True),
    ("ahu_marx", "edu", "“青马工程”理论宣讲团", "submitted", True),
    ("ah_energy", "sasac", "“能源先锋”职工思政讲堂", "recommended", True),
    ("hf_private", "fic", "“讯飞红芯”民企党建思政品牌", "recommended", True),
    ("demo_bb_caoshan", "bengbu", "“曹山红管家”网格思政服务", "recommended", False),
    ("demo_cz_xiaogang", "chuzhou", "“大包干精神”村史思政课", "submitted", False),
    ("demo_ustc_marx", "hefei", "“科大思政+”科学家精神讲堂", "submitted", False),
    ("demo_tl_nonferrous", "sasac", "“铜都匠心”劳模思政工作室", "draft", False),
)
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Acts as if on `day` (Beijing noon), so history and windows read as they would have."""
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))
    yield


def _actor(session: Session, username: str) -> Actor:
    user = session.exec(select(User).where(User.username == username)).one()
    return load_actor(session, user, None)


def _units(session: Session) -> dict[str, ApplicantUnit]:
    out: dict[str, ApplicantUnit] = {}
    for code, name, kind, city, extra in UNITS:
        org = get_org_by_code(session, code)
        if org is None:
            org = Organization(code=code, name=name, kind=OrgKind.applicant_unit, city=city)
            session.add(org)
            session.flush()
        unit = session.exec(
            select(ApplicantUnit).where(ApplicantUnit.organization_id == org.id)
        ).first()
        if unit is None:
            unit = attach_unit(
                session, org, ApplicantCreate(name=name, kind=kind, city=city, **extra)
            )  # type: ignore[arg-type]
        out[code] = unit
    return out


def _windows(start: date, end: date, deadline: date, assess: tuple[date, date], award: tuple[date, date],
             publicity: tuple[date, date]) -> dict[str, date]:  # fmt: skip
    return {
        "application_start": start, "application_end": end, "materials_deadline": deadline,
        "assessment_start": assess[0], "assessment_end": assess[1], "awarding_start": award[0],
        "awarding_end": award[1], "publicity_start": publicity[0], "publicity_end": publicity[1],
    }  # fmt: skip


def _file(session: Session, actor: Actor, unit: ApplicantUnit, recommender: str, r: Round, name: str,
          by_unit: bool, priority: bool = False) -> Application:  # fmt: skip
    rec = get_org_by_code(session, recommender)
    assert rec is not None
    claims = (
        [PriorityClaimIn(kind="media_report", description="其做法被《安徽日报》专题报道")]
        if priority
        else []
    )  # type: ignore[arg-type]
    data = ApplicationCreate(
        round_id=r.id or 0, applicant_id=None if by_unit else unit.id, recommender_id=rec.id, name=name,
        summary=f"{unit.name}坚持以习近平新时代中国特色社会主义思想为指导，创新开展{name}，覆盖群众逾千人次。",
        deeds="一、基本情况……\n二、主要做法……\n三、工作成效……", priority_claims=claims,
    )  # fmt: skip
    app = service.create_application(session, actor, data)
    if priority:
        upload = UploadFile(io.BytesIO(PDF), filename="安徽日报报道.pdf")
        service.upload_material(session, actor, app.id or 0, upload, "evidence_media_report")  # type: ignore[arg-type]
    return app


def _act(session: Session, actor: Actor, app: Application, action: str, **body: object) -> None:
    service.transition(session, actor, app.id or 0, TransitionRequest(action=action, **body))  # type: ignore[arg-type]


def _earlier_round(session: Session, units: dict[str, ApplicantUnit], year: int) -> None:
    d = lambda m, dd, y=year: date(y, m, dd)  # noqa: E731
    windows = _windows(d(6, 1), d(8, 5), d(8, 10), (d(8, 15), d(11, 10)), (d(11, 21), d(11, 30)),
                       (d(12, 1), d(6, 30, year + 1)))  # fmt: skip
    office = _actor(session, "office")
    with _on(d(5, 20)):
        r = rounds.create_round(
            session,
            office,
            RoundCreate(year=year, name=f"{year}年度安徽省基层思想政治工作示范点创建", **windows),
        )
    apps: list[tuple[Application, str, str]] = []
    with _on(d(7, 10)):
        for i, (code, rec, name, outcome) in enumerate(EARLIER):
            recommender = _actor(session, rec)
            app = _file(
                session, recommender, units[code], rec, r, name, by_unit=False, priority=i == 0
            )
            _act(session, recommender, app, "submit")
            _act(session, recommender, app, "recommend", opinion="经审核，材料真实，同意推荐。")
            apps.append((app, outcome, rec))
    cac, union = _actor(session, "cac"), _actor(session, "union")
    with _on(d(8, 20)):
        for app, outcome, _ in apps:
            if outcome == "preliminary_failed":
                _act(
                    session,
                    office,
                    app,
                    "fail_preliminary",
                    opinion="思想政治工作特色不够鲜明，不列入考核名单。",
                )
                continue
            _act(
                session, office, app, "pass_preliminary", opinion="符合申报条件，建议列入考核名单。"
            )
            service.assign_assessors(
                session, office, app.id or 0, [cac.user_id or 0, union.user_id or 0], ANY
            )
    with _on(d(9, 20)):
        for app, outcome, _ in apps:
            if outcome == "preliminary_failed":
                continue
            _act(session, cac, app, "record_assessment", opinion="实地考核情况属实，工作成效明显。",
                 scores=Scores(political=93, contemporary=88, effective=90, exemplary=91), visit_date=d(9, 12))  # fmt: skip
            _act(session, office, app, "not_propose" if outcome == "not_proposed" else "propose")
    with _on(d(10, 20)):
        committee, approver = _actor(session, "committee"), _actor(session, "approver")
        review = rounds.create_meeting(session, office, r.id or 0, MeetingCreate(
            kind="review", held_on=d(10, 20), reference=f"{year}年联席会议评审会",  # type: ignore[arg-type]
            attendees=["省委网信办", "省直机关工委", "省委教育工委", "省总工会", "省工商联"]))  # fmt: skip
        for app, outcome, _ in apps:
            if outcome in ("awarded", "review_rejected"):
                _act(session, committee, app, "adopt" if outcome == "awarded" else "reject",
                     opinion="经评审会审议" + ("通过。" if outcome == "awarded" else "，暂不列入候选名单。"),
                     meeting_id=review.id)  # fmt: skip
    with _on(d(11, 5)):
        approval = rounds.create_meeting(session, office, r.id or 0, MeetingCreate(
            kind="approval", held_on=d(11, 5), reference=f"{year}年第32次部务会", attendees=["部务会成员"]))  # type: ignore[arg-type]  # fmt: skip
        for app, outcome, _ in apps:
            if outcome == "awarded":
                _act(session, approver, app, "approve", opinion="同意授予“安徽省基层思想政治工作示范点”称号。",
                     meeting_id=approval.id)  # fmt: skip
    with _on(d(11, 25)):
        for app, outcome, _ in apps:
            if outcome == "awarded":
                _act(session, office, app, "award")


def _current_round(session: Session, units: dict[str, ApplicantUnit], today: date) -> None:
    t = lambda days: today + timedelta(days=days)  # noqa: E731
    windows = _windows(t(-20), t(40), t(45), (t(50), t(120)), (t(130), t(140)), (t(141), t(320)))
    office = _actor(session, "office")
    with _on(t(-21)):
        r = rounds.create_round(
            session,
            office,
            RoundCreate(
                year=today.year, name=f"{today.year}年度安徽省基层思想政治工作示范点创建", **windows
            ),
        )
    with _on(t(-5)):
        for code, rec, name, status, by_unit in CURRENT:
            actor = _actor(session, code if by_unit else rec)
            app = _file(
                session,
                actor,
                units[code],
                rec,
                r,
                name,
                by_unit=by_unit,
                priority=code == "ah_energy",
            )
            if status in ("submitted", "recommended"):
                _act(session, actor, app, "submit")
            if status == "recommended":
                _act(
                    session,
                    _actor(session, rec),
                    app,
                    "recommend",
                    opinion="经审核初评，同意推荐。",
                )


def seed_workflow(session: Session, demo_password: str) -> None:
    """Idempotent: each round is seeded once (looked up by year)."""
    today = clock.today()
    frozen = getattr(
        clock, "_frozen", None
    )  # restored below: seeding moves the clock through phases
    try:
        units = _units(session)
        if session.exec(select(Round).where(Round.year == today.year - 1)).first() is None:
            _earlier_round(session, units, today.year - 1)
        if session.exec(select(Round).where(Round.year == today.year)).first() is None:
            _current_round(session, units, today)
    finally:
        clock.set(frozen)
    session.flush()

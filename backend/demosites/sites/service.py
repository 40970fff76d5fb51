"""Rules of sites: creation on award, reading with allowed actions, inspections and campaigns,
rectification evidence, publicity and the office's reminders. State changes: transitions.py's
table, performed by the engine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.errors import ConflictOfInterest
from demosites.applications.models import Application
from demosites.audit import service as audit
from demosites.audit.models import HistoryEntry
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY, IfMatch, etag
from demosites.core.errors import Forbidden, ValidationFailed
from demosites.events import service as events
from demosites.files import service as files
from demosites.files.models import StoredFile
from demosites.organizations.models import User, UserRole
from demosites.sites import repository, transitions
from demosites.sites.errors import (
    DeadlinePassed,
    InspectionExists,
    InspectionNotFound,
    InspectionRecorded,
    NoReport,
    RectificationNotFound,
    SiteNotFound,
)
from demosites.sites.models import (
    OPEN_RECTIFICATION,
    Inspection,
    InspectionKind,
    PublicityKind,
    PublicityRecord,
    Rectification,
    RectificationStatus,
    Site,
    SiteStatus,
)
from demosites.sites.schemas import (
    EvidenceRead,
    InspectionCreate,
    InspectionRead,
    PublicityCreate,
    PublicityRead,
    RectificationRead,
    RectificationReminder,
    Reminders,
    SiteRead,
    SiteRef,
    SiteTransitionRequest,
    UninspectedSite,
)
from demosites.statemachine.errors import InvalidTransition

REMIND_DAYS = 14  # rectifications due within this many days are listed for the office
HOLDS_PLAQUE = (SiteStatus.active, SiteStatus.rectifying)


# ---- creation on award -----------------------------------------------------------------------


def create_site_for(session: Session, actor: Actor, app: Application) -> Site:
    """The award's reaction (registered at start-up: demosites.wiring): the awarded application
    becomes a site (示范点) holding its plaque."""
    existing = session.exec(select(Site).where(Site.application_id == app.id)).first()
    if existing is not None:
        return existing
    unit = session.get(ApplicantUnit, app.applicant_id)
    assert unit is not None and app.plaque_no is not None
    now = clock.now()
    site = Site(
        application_id=app.id or 0, round_id=app.round_id, applicant_id=unit.id or 0,
        organization_id=unit.organization_id, name=app.name, unit_name=unit.name, field=app.field,
        city=app.city, summary=app.summary, plaque_no=app.plaque_no, awarded_on=clock.today(),
        status=SiteStatus.active, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(site)
    session.flush()
    audit.record(
        session, actor, "site", site.id or 0, "create", to_state=site.status, role=actor.role_for("office"),
        data={"application_id": app.id, "plaque_no": site.plaque_no, "round_id": site.round_id},
    )  # fmt: skip
    events.emit(
        session, "site.created", "site", site.id or 0,
        {"id": site.id, "application_id": app.id, "plaque_no": site.plaque_no, "name": site.name,
         "round_id": site.round_id, "status": site.status},
        organization_ids=[site.organization_id],
    )  # fmt: skip
    return site


# ---- reading ---------------------------------------------------------------------------------


def rectification_read(r: Rectification) -> RectificationRead:
    today = clock.today()
    return RectificationRead(
        id=r.id or 0, site_id=r.site_id, inspection_id=r.inspection_id, findings=r.findings,
        deadline=r.deadline, status=r.status,  # type: ignore[arg-type]
        overdue=r.status in OPEN_RECTIFICATION and r.deadline < today, report=r.report,
        report_submitted_at=r.report_submitted_at, decision_opinion=r.decision_opinion,
        decided_at=r.decided_at, created_at=r.created_at,
    )  # fmt: skip


def to_reads(session: Session, actor: Actor, sites: list[Site]) -> list[SiteRead]:
    """Reads of many sites with a fixed number of queries (no N+1)."""
    rects = repository.open_rectifications(session, [s.id or 0 for s in sites])
    today = clock.today()
    out = []
    for s in sites:
        r = rects.get(s.id or 0)
        out.append(
            SiteRead(
                id=s.id or 0,
                application_id=s.application_id,
                round_id=s.round_id,
                applicant_id=s.applicant_id,
                organization_id=s.organization_id,
                name=s.name,
                unit_name=s.unit_name,
                field=s.field,  # type: ignore[arg-type]
                city=s.city,
                summary=s.summary,
                plaque_no=s.plaque_no,
                awarded_on=s.awarded_on,
                status=s.status,
                delist_reason=s.delist_reason,
                delisted_on=s.delisted_on,  # type: ignore[arg-type]
                open_rectification=rectification_read(r) if r else None,
                allowed_actions=transitions.MACHINE.allowed_actions(session, actor, s, r, today),  # type: ignore[arg-type]
                version=s.version,
                etag=etag(s.version),
                created_at=s.created_at,
                updated_at=s.updated_at,
            )  # fmt: skip
        )
    return out


def to_read(session: Session, actor: Actor, site: Site) -> SiteRead:
    return to_reads(session, actor, [site])[0]


def readable(session: Session, actor: Actor, site_id: int) -> Site:
    site = repository.get_readable(session, actor, site_id)
    if site is None:
        raise SiteNotFound(f"Site {site_id} not found / 未找到示范点 {site_id}")
    return site


def get_site(session: Session, actor: Actor, site_id: int) -> SiteRead:
    return to_read(session, actor, readable(session, actor, site_id))


def list_sites(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[SiteRead], int]:
    rows, total = repository.list_readable(session, actor, filters, limit, offset)
    return to_reads(session, actor, rows), total


def history(session: Session, actor: Actor, site_id: int) -> list[HistoryEntry]:
    readable(session, actor, site_id)
    return audit.history_of(session, "site", site_id)


def transition(
    session: Session,
    actor: Actor,
    site_id: int,
    body: SiteTransitionRequest,
    if_match: IfMatch = ANY,
) -> Site:
    site = readable(session, actor, site_id)
    return transitions.MACHINE.perform(
        session, actor, site.id or 0, body.action, body, opinion=body.opinion, if_match=if_match
    )


# ---- inspections (检查 / 复核) --------------------------------------------------------------


def _inspection_reads(session: Session, rows: list[Inspection]) -> list[InspectionRead]:
    names = dict(
        session.exec(select(Site.id, Site.name).where(col(Site.id).in_({i.site_id for i in rows}))).all()
    ) if rows else {}  # fmt: skip
    return [
        InspectionRead(
            id=i.id or 0,
            site_id=i.site_id,
            site_name=names.get(i.site_id, ""),
            kind=i.kind,  # type: ignore[arg-type]
            year=i.year,
            inspector_ids=list(i.inspector_ids),
            outcome=i.outcome,  # type: ignore[arg-type]
            findings=i.findings,
            inspected_on=i.inspected_on,
            recorded_at=i.recorded_at,
            created_at=i.created_at,
        )  # fmt: skip
        for i in rows
    ]


def _check_inspectors(session: Session, user_ids: list[int], sites: list[Site]) -> None:
    """Inspectors are active office or member-unit (assessor) staff, never the site's own people."""
    if not user_ids:
        return
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids)))}
    qualified = set(
        session.exec(
            select(UserRole.user_id).where(
                col(UserRole.user_id).in_(user_ids), col(UserRole.role).in_(["office", "assessor"])
            )
        ).all()
    )
    own_orgs = {s.organization_id for s in sites}
    for uid in user_ids:
        u = users.get(uid)
        if u is None or not u.is_active or uid not in qualified:
            raise ValidationFailed(
                f"User {uid} is not an office or assessor account / 用户 {uid} 不能担任检查人员",
                user_id=uid,
            )
        if u.organization_id in own_orgs:
            raise ConflictOfInterest(
                f"{u.display_name} belongs to the site / {u.display_name} 来自被检查单位，须回避",
                user_id=uid,
            )


def _check_year(year: int) -> None:
    if year > clock.today().year:
        raise ValidationFailed(f"{year} has not begun / {year} 年尚未开始")


def _open_inspection(
    session: Session, actor: Actor, site: Site, data: InspectionCreate
) -> Inspection:
    insp = Inspection(
        site_id=site.id or 0, kind=data.kind, year=data.year, inspector_ids=list(data.inspector_ids),
        created_at=clock.now(),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(insp)
            session.flush()
    except IntegrityError as exc:  # a concurrent request opened it first
        raise InspectionExists() from exc
    audit.record(
        session, actor, "site", site.id or 0, "open_inspection", role="office",
        data={"inspection_id": insp.id, "kind": str(data.kind), "year": data.year, "inspector_ids": insp.inspector_ids},
    )  # fmt: skip
    return insp


def create_inspection(
    session: Session, actor: Actor, site_id: int, data: InspectionCreate
) -> InspectionRead:
    site = readable(session, actor, site_id)
    _check_year(data.year)
    if site.status not in HOLDS_PLAQUE:
        raise InvalidTransition(f"The site is {site.status} / 示范点已摘牌，不再检查")
    _check_inspectors(session, data.inspector_ids, [site])
    exists = session.exec(
        select(Inspection.id).where(
            Inspection.site_id == site.id,
            Inspection.kind == data.kind,
            Inspection.year == data.year,
        )
    ).first()
    if exists is not None:
        raise InspectionExists(
            f"Site {site.id} already has a {data.kind} in {data.year} (inspection {exists}) / 该示范点 {data.year} 年已有同类检查",
            inspection_id=exists,
        )
    return _inspection_reads(session, [_open_inspection(session, actor, site, data)])[0]


def open_campaign(
    session: Session, actor: Actor, data: InspectionCreate
) -> tuple[list[InspectionRead], int]:
    """The year's 检查 or 复核 for every site holding a plaque; sites that have one are skipped."""
    _check_year(data.year)
    sites = list(
        session.exec(select(Site).where(col(Site.status).in_(HOLDS_PLAQUE)).order_by(col(Site.id)))
    )
    _check_inspectors(session, data.inspector_ids, sites)
    have = set(
        session.exec(
            select(Inspection.site_id).where(
                Inspection.kind == data.kind, Inspection.year == data.year
            )
        ).all()
    )
    created = [_open_inspection(session, actor, s, data) for s in sites if s.id not in have]
    return _inspection_reads(session, created), len(sites) - len(created)


def list_inspections(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[InspectionRead], int]:
    from sqlmodel import func

    stmt = (
        select(Inspection)
        .join(Site, col(Site.id) == Inspection.site_id)
        .where(repository.readable_by(actor))
    )
    for name in ("site_id", "kind", "year"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Inspection, name) == filters[name])
    if filters.get("recorded") is not None:
        stmt = stmt.where(
            col(Inspection.outcome).is_not(None)
            if filters["recorded"]
            else col(Inspection.outcome).is_(None)
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = list(
        session.exec(
            stmt.order_by(col(Inspection.year).desc(), col(Inspection.id))
            .limit(limit)
            .offset(offset)
        )
    )
    return _inspection_reads(session, rows), int(total)


def assign_inspectors(
    session: Session, actor: Actor, inspection_id: int, user_ids: list[int]
) -> InspectionRead:
    insp = session.exec(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    site = session.get(Site, insp.site_id) if insp else None
    if insp is None or site is None:
        raise InspectionNotFound()
    if insp.outcome is not None:
        raise InspectionRecorded()
    _check_inspectors(session, user_ids, [site])
    if sorted(insp.inspector_ids) != sorted(user_ids):
        insp.inspector_ids = list(user_ids)
        session.add(insp)
        session.flush()
        audit.record(
            session, actor, "site", site.id or 0, "assign_inspectors", role="office",
            data={"inspection_id": insp.id, "inspector_ids": list(user_ids)},
        )  # fmt: skip
    return _inspection_reads(session, [insp])[0]


# ---- rectifications and their evidence -------------------------------------------------------


def list_rectifications(session: Session, actor: Actor, site_id: int) -> list[RectificationRead]:
    readable(session, actor, site_id)
    rows = session.exec(
        select(Rectification)
        .where(Rectification.site_id == site_id)
        .order_by(col(Rectification.id))
    )
    return [rectification_read(r) for r in rows]


def _rectification(
    session: Session, actor: Actor, site_id: int, rectification_id: int
) -> tuple[Site, Rectification]:
    site = readable(session, actor, site_id)
    r = session.get(Rectification, rectification_id)
    if r is None or r.site_id != site.id:
        raise RectificationNotFound()
    return site, r


def _evidence_read(site_id: int, f: StoredFile) -> EvidenceRead:
    return EvidenceRead(
        id=f.id or 0, filename=f.filename, content_type=f.content_type, size=f.size, sha256=f.sha256,
        uploaded_at=f.uploaded_at,
        download_url=f"/api/v1/sites/{site_id}/rectifications/{f.owner_id}/evidence/{f.id}",
    )  # fmt: skip


def upload_evidence(
    session: Session, actor: Actor, site_id: int, rectification_id: int, upload: UploadFile
) -> EvidenceRead:
    """The site's own people attach evidence while the rectification awaits their report."""
    site, r = _rectification(session, actor, site_id, rectification_id)
    if transitions.acting_role(actor, ("applicant",), site) is None:
        raise Forbidden(
            "Only the site's own people upload rectification evidence / 仅示范点本单位可上传整改材料"
        )
    if r.status not in (RectificationStatus.open, RectificationStatus.refused):
        raise NoReport(f"The rectification is {r.status} / 当前整改状态不能上传材料")
    if clock.today() > r.deadline:
        raise DeadlinePassed(f"The deadline was {r.deadline} / 整改期限为 {r.deadline}，已逾期")
    f = files.store_upload(session, actor, upload, "rectification", r.id or 0, "evidence")
    return _evidence_read(site.id or 0, f)


def list_evidence(
    session: Session, actor: Actor, site_id: int, rectification_id: int
) -> list[EvidenceRead]:
    site, r = _rectification(session, actor, site_id, rectification_id)
    return [
        _evidence_read(site.id or 0, f) for f in files.files_of(session, "rectification", r.id or 0)
    ]


def evidence_file(
    session: Session, actor: Actor, site_id: int, rectification_id: int, file_id: int
) -> tuple[Path, StoredFile]:
    _site, r = _rectification(session, actor, site_id, rectification_id)
    row = files.get_file(session, "rectification", r.id or 0, file_id)
    return files.path_of(row), row


# ---- publicity (宣传推介) --------------------------------------------------------------------


def _publicity_read(p: PublicityRecord) -> PublicityRead:
    return PublicityRead(
        id=p.id or 0, site_id=p.site_id, kind=p.kind, title=p.title, happened_on=p.happened_on,  # type: ignore[arg-type]
        outlet=p.outlet, level=p.level, link=p.link, description=p.description, created_at=p.created_at,  # type: ignore[arg-type]
    )  # fmt: skip


def list_publicity(session: Session, actor: Actor, site_id: int) -> list[PublicityRead]:
    readable(session, actor, site_id)
    rows = session.exec(
        select(PublicityRecord).where(PublicityRecord.site_id == site_id)
        .order_by(col(PublicityRecord.happened_on).desc(), col(PublicityRecord.id))
    )  # fmt: skip
    return [_publicity_read(p) for p in rows]


def add_publicity(
    session: Session, actor: Actor, site_id: int, data: PublicityCreate
) -> PublicityRead:
    """The office or the site's own people record a forum or a media report."""
    site = readable(session, actor, site_id)
    role = "office" if actor.has("office") else transitions.acting_role(actor, ("applicant",), site)
    if role is None:
        raise Forbidden(
            "Only the office or the site's own people record publicity / 仅办公室或示范点本单位可登记"
        )
    if data.kind == PublicityKind.media_report and (not data.outlet or data.level is None):
        raise ValidationFailed(
            "A media report needs its outlet and level / 媒体报道须填写媒体名称和级别"
        )
    if data.happened_on > clock.today():
        raise ValidationFailed("The date cannot be in the future / 日期不能晚于今天")
    media = data.kind == PublicityKind.media_report
    rec = PublicityRecord(
        site_id=site.id or 0, kind=data.kind, title=data.title, happened_on=data.happened_on,
        outlet=data.outlet if media else None, level=data.level if media else None, link=data.link,
        description=data.description, created_by=actor.user_id, created_at=clock.now(),
    )  # fmt: skip
    session.add(rec)
    session.flush()
    audit.record(
        session, actor, "site", site.id or 0, "add_publicity", role=role,
        data={"publicity_id": rec.id, "kind": str(data.kind), "title": data.title, "outlet": rec.outlet,
              "level": rec.level, "happened_on": str(data.happened_on)},
    )  # fmt: skip
    events.emit(
        session, "site.publicity_added", "site", site.id or 0,
        {"id": site.id, "publicity_id": rec.id, "kind": str(data.kind), "title": data.title},
        organization_ids=[site.organization_id],
    )  # fmt: skip
    return _publicity_read(rec)


# ---- the office's reminders ------------------------------------------------------------------


def _ref(s: Site) -> SiteRef:
    return SiteRef(id=s.id or 0, name=s.name, plaque_no=s.plaque_no, city=s.city, status=s.status)  # type: ignore[arg-type]


def reminders(session: Session, actor: Actor, year: int | None) -> Reminders:
    today = clock.today()
    year = year or today.year
    sites = {
        s.id: s
        for s in session.exec(
            select(Site).where(col(Site.status).in_(HOLDS_PLAQUE)).order_by(col(Site.plaque_no))
        )
    }
    done: dict[int, set[str]] = {}
    for site_id, kind in session.exec(
        select(Inspection.site_id, Inspection.kind).where(
            Inspection.year == year, col(Inspection.outcome).is_not(None)
        )
    ):
        done.setdefault(site_id, set()).add(kind)
    not_inspected = []
    for s in sites.values():
        missing = [k for k in InspectionKind if k not in done.get(s.id or 0, set())]
        if missing and s.awarded_on.year <= year:
            not_inspected.append(UninspectedSite(**_ref(s).model_dump(), missing=missing))
    due_soon: list[RectificationReminder] = []
    overdue: list[RectificationReminder] = []
    for r in session.exec(
        select(Rectification)
        .where(col(Rectification.status).in_(OPEN_RECTIFICATION))
        .where(Rectification.deadline <= today + timedelta(days=REMIND_DAYS))
        .order_by(col(Rectification.deadline), col(Rectification.id))
    ):
        site = sites.get(r.site_id)
        if site is None:
            continue
        item = RectificationReminder(
            site=_ref(site),
            rectification=rectification_read(r),
            days_left=(r.deadline - today).days,
        )
        (overdue if r.deadline < today else due_soon).append(item)
    return Reminders(year=year, not_inspected=not_inspected, due_soon=due_soon, overdue=overdue)

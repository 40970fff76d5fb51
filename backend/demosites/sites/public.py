"""What anyone may read without logging in: the public list (安徽文明网), the plaque register
and the running public notices (公示)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.models import Application
from demosites.core.clock import clock
from demosites.rounds.models import Round
from demosites.sites.errors import PlaqueNotFound
from demosites.sites.models import PublicNotice, PublicNoticeEntry, Site, SiteStatus
from demosites.sites.schemas import (
    PlaqueVerification,
    PublicNoticeRead,
    PublicRoundRead,
    PublicSiteRead,
)
from demosites.sites.schemas import (
    PublicNoticeEntry as PublicEntryRead,
)

# A site under rectification still holds its plaque: the public sees it as active.
HOLDS_PLAQUE = (SiteStatus.active, SiteStatus.rectifying)


def public_status(site: Site) -> str:
    return "delisted" if site.status == SiteStatus.delisted else "active"


def list_sites(
    session: Session, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[PublicSiteRead], int]:
    stmt = (
        select(Site, Round.year)
        .join(Round, col(Round.id) == Site.round_id)
        .where(col(Site.status).in_(HOLDS_PLAQUE))
    )
    for name in ("round_id", "city", "field"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Site, name) == filters[name])
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Site.plaque_no)).limit(limit).offset(offset)).all()
    items = [
        PublicSiteRead(
            plaque_no=s.plaque_no,
            name=s.name,
            unit_name=s.unit_name,
            field=s.field,
            city=s.city,  # type: ignore[arg-type]
            round_id=s.round_id,
            round_year=year,
            awarded_on=s.awarded_on,
            summary=s.summary,
        )  # fmt: skip
        for s, year in rows
    ]
    return items, int(total)


def rounds_with_sites(session: Session) -> list[PublicRoundRead]:
    """Rounds with sites on the public list (holding a plaque), newest first."""
    rows = session.exec(
        select(Round.id, Round.year, Round.name, func.count(col(Site.id)))
        .join(Site, col(Site.round_id) == Round.id)
        .where(col(Site.status).in_(HOLDS_PLAQUE))
        .group_by(col(Round.id), col(Round.year), col(Round.name))
        .order_by(col(Round.year).desc(), col(Round.id).desc())
    ).all()
    return [PublicRoundRead(id=i or 0, year=y, name=n, sites=c) for i, y, n, c in rows]


def verify_plaque(session: Session, plaque_no: str) -> PlaqueVerification:
    row = session.exec(
        select(Site, Round.year)
        .join(Round, col(Round.id) == Site.round_id)
        .where(Site.plaque_no == plaque_no.strip())
    ).first()
    if row is None:
        raise PlaqueNotFound(f"No site has plaque {plaque_no} / 无牌匾编号为 {plaque_no} 的示范点")
    s, year = row
    return PlaqueVerification(
        plaque_no=s.plaque_no, status=public_status(s), name=s.name, unit_name=s.unit_name,
        field=s.field, city=s.city, round_year=year, awarded_on=s.awarded_on,  # type: ignore[arg-type]
        delisted_on=s.delisted_on,
    )  # fmt: skip


def running_notices(session: Session) -> list[PublicNoticeRead]:
    """Notices running today, each with the list as published."""
    today = clock.today()
    notices = session.exec(
        select(PublicNotice, Round.name)
        .join(Round, col(Round.id) == PublicNotice.round_id)
        .where(
            col(PublicNotice.enabled).is_(True),
            PublicNotice.starts_on <= today,
            PublicNotice.ends_on >= today,
        )  # noqa: E712
        .order_by(col(PublicNotice.id))
    ).all()
    ids = [n.id for n, _ in notices]
    entries: dict[int, list[PublicEntryRead]] = {i or 0: [] for i in ids}
    if ids:
        for notice_id, a, unit_name in session.exec(
            select(PublicNoticeEntry.notice_id, Application, ApplicantUnit.name)
            .join(Application, col(Application.id) == PublicNoticeEntry.application_id)
            .join(ApplicantUnit, col(ApplicantUnit.id) == Application.applicant_id)
            .where(col(PublicNoticeEntry.notice_id).in_(ids))
            .order_by(col(Application.id))
        ):
            entries[notice_id].append(
                PublicEntryRead(application_id=a.id or 0, name=a.name, unit_name=unit_name, city=a.city,
                                field=a.field, summary=a.summary)  # type: ignore[arg-type]
            )  # fmt: skip
    return [
        PublicNoticeRead(id=n.id or 0, round_id=n.round_id, round_name=name, starts_on=n.starts_on,
                         ends_on=n.ends_on, entries=entries[n.id or 0])
        for n, name in notices
    ]  # fmt: skip

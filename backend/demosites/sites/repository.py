"""Queries of sites, starting with what an actor may read (a foreign site is not found)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, true
from sqlmodel import Session, col, func, select

from demosites.applications.models import Application
from demosites.core.actor import Actor
from demosites.sites.models import OPEN_RECTIFICATION, Inspection, Rectification, Site


def readable_by(actor: Actor) -> Any:
    """office → every site; the site's own people (applicant users of its unit) → their site;
    a recommender → the sites it recommended. Several roles see the union."""
    if actor.has("office"):
        return true()
    conds: list[Any] = []
    if actor.has("applicant"):
        conds.append(col(Site.organization_id) == actor.organization_id)
    if actor.has("recommender"):
        recommended = select(Application.id).where(
            Application.recommender_id == actor.organization_id
        )
        conds.append(col(Site.application_id).in_(recommended))
    return or_(*conds) if conds else false()


def get_readable(session: Session, actor: Actor, site_id: int) -> Site | None:
    return session.exec(select(Site).where(Site.id == site_id, readable_by(actor))).first()


def lock(session: Session, site_id: int) -> Site:
    """Re-reads the row under a lock (FOR UPDATE on PostgreSQL; SQLite holds BEGIN IMMEDIATE)."""
    return session.exec(
        select(Site)
        .where(Site.id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def list_readable(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[Site], int]:
    stmt = select(Site).where(readable_by(actor))
    for name in ("round_id", "status", "city", "field"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Site, name) == filters[name])
    if filters.get("q"):
        stmt = stmt.where(col(Site.name).contains(filters["q"]))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Site.plaque_no)).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def open_rectifications(session: Session, site_ids: list[int]) -> dict[int, Rectification]:
    """site id → its open rectification (at most one per site)."""
    if not site_ids:
        return {}
    rows = session.exec(
        select(Rectification).where(
            col(Rectification.site_id).in_(site_ids),
            col(Rectification.status).in_(OPEN_RECTIFICATION),
        )
    )
    return {r.site_id: r for r in rows}


def open_inspection(session: Session, site_id: int, inspection_id: int) -> Inspection | None:
    return session.exec(
        select(Inspection)
        .where(Inspection.id == inspection_id, Inspection.site_id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()

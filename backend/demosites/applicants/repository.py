"""Queries of applicant units, including what an actor may read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, true
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantUnit
from demosites.core.actor import Actor


def readable_by(actor: Actor) -> Any:
    """Applicants see their own unit; a city's recommender the units of its city; provincial
    recommenders, the office and the assessment and meeting roles see every unit."""
    if actor.has("office", "assessor", "committee", "approver"):
        return true()
    conds = []
    if actor.has("recommender"):
        if actor.organization_city:
            conds.append(col(ApplicantUnit.city) == actor.organization_city)
        else:
            return true()
    if actor.has("applicant"):
        conds.append(col(ApplicantUnit.organization_id) == actor.organization_id)
    if not conds:
        return false()
    out = conds[0]
    for c in conds[1:]:
        out = out | c
    return out


def get_readable(session: Session, actor: Actor, applicant_id: int) -> ApplicantUnit | None:
    return session.exec(
        select(ApplicantUnit).where(ApplicantUnit.id == applicant_id, readable_by(actor))
    ).first()


def of_organization(session: Session, organization_id: int) -> ApplicantUnit | None:
    return session.exec(
        select(ApplicantUnit).where(ApplicantUnit.organization_id == organization_id)
    ).first()

"""Rules of applicant units: who may create one, and reading them."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlmodel import Session, col, select

from demosites.applicants import repository
from demosites.applicants.errors import ApplicantNotFound, DuplicateOrganizationCode
from demosites.applicants.models import FIELD_OF_KIND, ApplicantKind, ApplicantUnit
from demosites.applicants.schemas import ApplicantCreate, ApplicantRead
from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.errors import Forbidden
from demosites.events import service as events
from demosites.organizations.models import Organization, OrgKind
from demosites.organizations.service import get_org_by_code
from demosites.rounds import service as rounds
from demosites.rounds.schemas import QuotaRead


def applicant_read(unit: ApplicantUnit, org_code: str) -> ApplicantRead:
    return ApplicantRead(
        id=unit.id or 0, organization_id=unit.organization_id, organization_code=org_code,
        name=unit.name, kind=unit.kind, field=unit.field, city=unit.city,  # type: ignore[arg-type]
        university=unit.university, provincial_university=unit.provincial_university,
        ownership=unit.ownership,  # type: ignore[arg-type]
        created_at=unit.created_at,
    )  # fmt: skip


def attach_unit(session: Session, org: Organization, data: ApplicantCreate) -> ApplicantUnit:
    """Makes `org` an applicant unit (used by creation and by the demo seed for existing orgs)."""
    unit = ApplicantUnit(
        organization_id=org.id or 0, name=data.name, kind=data.kind,
        field=FIELD_OF_KIND[ApplicantKind(data.kind)], city=data.city,
        university=data.university if data.kind == ApplicantKind.university_unit else None,
        provincial_university=data.provincial_university, ownership=data.ownership,
        created_at=clock.now(),
    )  # fmt: skip
    session.add(unit)
    session.flush()
    return unit


def create_applicant(session: Session, actor: Actor, data: ApplicantCreate) -> ApplicantRead:
    """The office anywhere; a city's recommender only in its own city (provincial ones anywhere)."""
    if not actor.has("office") and actor.organization_city and data.city != actor.organization_city:
        raise Forbidden(
            f"{actor.organization_name} registers units of {actor.organization_city} only / "
            f"只能登记本市（{actor.organization_city}）的申报主体"
        )
    code = data.code or f"au_{uuid.uuid4().hex[:12]}"
    if get_org_by_code(session, code):
        raise DuplicateOrganizationCode(f"Code {code} exists / 代码 {code} 已存在")
    org = Organization(code=code, name=data.name, kind=OrgKind.applicant_unit, city=data.city)
    session.add(org)
    session.flush()
    unit = attach_unit(session, org, data)
    audit.record(
        session, actor, "applicant_unit", unit.id or 0, "create", role=actor.role_for("office", "recommender"),
        data={"name": unit.name, "kind": unit.kind, "city": unit.city, "organization_id": org.id},
    )  # fmt: skip
    events.emit(
        session, "applicant_unit.created", "applicant_unit", unit.id or 0,
        {"id": unit.id, "name": unit.name, "kind": unit.kind, "city": unit.city},
        organization_ids=[org.id or 0, actor.organization_id],
    )  # fmt: skip
    return applicant_read(unit, org.code)


def get_applicant(session: Session, actor: Actor, applicant_id: int) -> ApplicantRead:
    unit = repository.get_readable(session, actor, applicant_id)
    if unit is None:
        raise ApplicantNotFound(
            f"Applicant unit {applicant_id} not found / 未找到申报主体 {applicant_id}"
        )
    org = session.get(Organization, unit.organization_id)
    return applicant_read(unit, org.code if org else "")


def list_applicants(
    session: Session,
    actor: Actor,
    *,
    city: str | None,
    kind: str | None,
    field: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ApplicantRead], int]:
    stmt = (
        select(ApplicantUnit, Organization.code)
        .join(Organization, col(Organization.id) == ApplicantUnit.organization_id)
        .where(repository.readable_by(actor))
    )
    if city:
        stmt = stmt.where(ApplicantUnit.city == city)
    if kind:
        stmt = stmt.where(ApplicantUnit.kind == kind)
    if field:
        stmt = stmt.where(ApplicantUnit.field == field)
    if q:
        stmt = stmt.where(col(ApplicantUnit.name).contains(q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(ApplicantUnit.city), col(ApplicantUnit.id)).limit(limit).offset(offset)
    ).all()
    return [applicant_read(u, code) for u, code in rows], int(total)


def recommenders_for(
    session: Session, actor: Actor, applicant_id: int, round_id: int
) -> list[QuotaRead]:
    """推荐单位 that may recommend the unit (one the caller may read, else 404) in the round."""
    unit = repository.get_readable(session, actor, applicant_id)
    if unit is None:
        raise ApplicantNotFound()
    return rounds.recommenders_for(session, round_id, unit)

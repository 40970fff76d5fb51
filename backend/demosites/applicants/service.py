"""Rules of applicant units: who may create one, and reading them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert
from sqlmodel import Session, SQLModel, col, select

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
from demosites.rounds import service as rounds
from demosites.rounds.schemas import QuotaRead

CHUNK = 500  # names or codes per IN (…) list


def applicant_read(unit: ApplicantUnit, org_code: str) -> ApplicantRead:
    return ApplicantRead(
        id=unit.id or 0, organization_id=unit.organization_id, organization_code=org_code,
        name=unit.name, kind=unit.kind, field=unit.field, city=unit.city,  # type: ignore[arg-type]
        university=unit.university, provincial_university=unit.provincial_university,
        ownership=unit.ownership,  # type: ignore[arg-type]
        created_at=unit.created_at,
    )  # fmt: skip


def _unit_values(data: ApplicantCreate, organization_id: int, now: datetime) -> dict[str, Any]:
    """The applicant_unit row of `data`: its field follows from its kind (domain.md §2)."""
    return {
        "organization_id": organization_id, "name": data.name, "kind": str(data.kind),
        "field": FIELD_OF_KIND[ApplicantKind(data.kind)], "city": data.city,
        "university": data.university if data.kind == ApplicantKind.university_unit else None,
        "provincial_university": data.provincial_university,
        "ownership": str(data.ownership) if data.ownership is not None else None,
        "created_at": now,
    }  # fmt: skip


def attach_unit(session: Session, org: Organization, data: ApplicantCreate) -> ApplicantUnit:
    """Makes `org` an applicant unit (used by the demo seed for existing orgs)."""
    unit = ApplicantUnit(**_unit_values(data, org.id or 0, clock.now()))
    session.add(unit)
    session.flush()
    return unit


def taken_codes(session: Session, codes: Sequence[str]) -> set[str]:
    """Those of `codes` that an organisation already has (read by chunks)."""
    unique = sorted(set(codes))
    taken: set[str] = set()
    for i in range(0, len(unique), CHUNK):
        taken.update(
            session.exec(
                select(Organization.code).where(col(Organization.code).in_(unique[i : i + CHUNK]))
            )
        )
    return taken


def create_applicant(session: Session, actor: Actor, data: ApplicantCreate) -> ApplicantRead:
    """The office anywhere; a city's recommender only in its own city (provincial ones anywhere)."""
    return create_applicants(session, actor, [data])[0]


def create_applicants(
    session: Session, actor: Actor, items: Sequence[ApplicantCreate]
) -> list[ApplicantRead]:
    """Creates the units in order, each with its organisation, its history entry and its
    `applicant_unit.created` event, under the rules of `create_applicant` (all or none: the first
    broken rule raises). Written in a few multi-row INSERTs whatever the count, so that the Excel
    import of a city's thousands of units takes seconds, not a minute."""
    if not items:
        return []
    own_city = None if actor.has("office") else actor.organization_city
    for data in items:
        if own_city and data.city != own_city:
            raise Forbidden(
                f"{actor.organization_name} registers units of {own_city} only / "
                f"只能登记本市（{own_city}）的申报主体"
            )
    codes = [data.code or _new_code() for data in items]
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise DuplicateOrganizationCode(f"Code {code} is given twice / 代码 {code} 重复")
        seen.add(code)
    while taken := taken_codes(session, codes):
        for n, data in enumerate(items):
            if codes[n] in taken:
                if data.code:
                    raise DuplicateOrganizationCode(
                        f"Code {data.code} exists / 代码 {data.code} 已存在"
                    )
                codes[n] = _new_code()  # a generated code that happens to exist: draw again
    session.flush()  # what the session holds is written before these rows
    now = clock.now()
    org_table, unit_table = _table(Organization), _table(ApplicantUnit)
    orgs = [
        {"code": code, "name": data.name, "kind": str(OrgKind.applicant_unit), "city": data.city,
         "is_member_unit": False, "is_recommender": False, "created_at": now}
        for code, data in zip(codes, items, strict=True)
    ]  # fmt: skip
    # RETURNING rows come back in no promised order: matched by the unique code / organisation.
    returned = session.execute(insert(org_table).returning(org_table.c.code, org_table.c.id), orgs)
    org_ids: dict[str, int] = dict(returned.tuples().all())
    values = [
        _unit_values(data, org_ids[code], now) for code, data in zip(codes, items, strict=True)
    ]
    returned = session.execute(
        insert(unit_table).returning(unit_table.c.organization_id, unit_table.c.id), values
    )
    unit_ids: dict[int, int] = dict(returned.tuples().all())
    created = [
        ApplicantRead(id=unit_ids[v["organization_id"]], organization_code=code, **v)
        for code, v in zip(codes, values, strict=True)
    ]
    audit.record_many(
        session, actor, "applicant_unit", "create",
        [(u.id, {"name": u.name, "kind": str(u.kind), "city": u.city, "organization_id": u.organization_id})
         for u in created],
        role=actor.role_for("office", "recommender"),
    )  # fmt: skip
    events.emit_many(
        session, "applicant_unit.created", "applicant_unit",
        [(u.id, {"id": u.id, "name": u.name, "kind": str(u.kind), "city": u.city},
          [u.organization_id, actor.organization_id]) for u in created],
    )  # fmt: skip
    return created


def _new_code() -> str:
    return f"au_{uuid.uuid4().hex[:12]}"


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


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

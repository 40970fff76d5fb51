"""Queries of applications, starting with what an actor may read (a foreign id is not found)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import JSON, and_, false, literal_column, or_, true, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.models import Application, AssessmentAssignment, Status
from demosites.core.actor import Actor
from demosites.organizations.models import Organization, User, UserRole

# What the review meeting (committee) and the department meeting (approver) work on.
COMMITTEE_STATES = (
    Status.proposed, Status.candidate, Status.review_rejected,
    Status.approved, Status.approval_rejected, Status.awarded,
)  # fmt: skip
APPROVER_STATES = (Status.candidate, Status.approved, Status.approval_rejected, Status.awarded)


def readable_by(actor: Actor) -> Any:
    """The data scope of domain.md: applicant → its own unit's; recommender → those submitted to
    it (and drafts it filed itself); assessor → assigned ones; committee → proposed and later;
    approver → candidates and later; office → all. Several roles see the union."""
    if actor.has("office"):
        return true()
    conds: list[Any] = []
    if actor.has("applicant"):
        own_units = select(ApplicantUnit.id).where(
            ApplicantUnit.organization_id == actor.organization_id
        )
        conds.append(col(Application.applicant_id).in_(own_units))
    if actor.has("recommender"):
        conds.append(
            and_(
                col(Application.recommender_id) == actor.organization_id,
                or_(
                    col(Application.status) != Status.draft,
                    col(Application.created_by_org_id) == actor.organization_id,
                ),
            )
        )
    if actor.has("assessor") and actor.user_id is not None:
        assigned = select(AssessmentAssignment.application_id).where(
            AssessmentAssignment.user_id == actor.user_id
        )
        conds.append(col(Application.id).in_(assigned))
    if actor.has("committee"):
        conds.append(col(Application.status).in_(COMMITTEE_STATES))
    if actor.has("approver"):
        conds.append(col(Application.status).in_(APPROVER_STATES))
    return or_(*conds) if conds else false()


def get_readable(
    session: Session, actor: Actor, application_id: int, for_update: bool = False
) -> Application | None:
    stmt = select(Application).where(Application.id == application_id, readable_by(actor))
    if for_update:
        stmt = stmt.with_for_update(of=Application).execution_options(populate_existing=True)  # type: ignore[arg-type]
    return session.exec(stmt).first()


def lock(session: Session, application_id: int) -> Application:
    """Re-reads the row under a lock (FOR UPDATE on PostgreSQL; SQLite holds BEGIN IMMEDIATE)."""
    return session.exec(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _filtered(stmt: Any, actor: Actor, filters: dict[str, Any]) -> Any:
    stmt = stmt.where(readable_by(actor))
    for name in (
        "round_id",
        "status",
        "field",
        "recommender_id",
        "priority",
        "city",
        "applicant_id",
    ):
        value = filters.get(name)
        if value is not None:
            stmt = stmt.where(getattr(Application, name) == value)
    if filters.get("q"):
        stmt = stmt.where(col(Application.name).contains(filters["q"]))
    return stmt


def _count(session: Session, actor: Actor, filters: dict[str, Any]) -> int:
    stmt = _filtered(sa_select(func.count()).select_from(Application), actor, filters)
    return int(session.execute(stmt).scalar_one())


# Priority applications sort first in every review list (domain.md §4).
ORDER = (col(Application.priority).desc(), col(Application.id))


def list_readable(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[Application], int]:
    stmt = _filtered(select(Application), actor, filters)
    rows = session.exec(stmt.order_by(*ORDER).limit(limit).offset(offset)).all()
    return list(rows), _count(session, actor, filters)


# The list's columns: the application without its long texts, with its unit and recommender.
SUMMARY_COLUMNS: tuple[Any, ...] = (
    col(Application.id), col(Application.round_id), col(Application.applicant_id),
    col(Application.recommender_id), col(Application.field), col(Application.city),
    col(Application.name), col(Application.summary), col(Application.status),
    col(Application.priority), col(Application.priority_claims), col(Application.scores),
    col(Application.visit_date), col(Application.plaque_no), col(Application.awarded_at),
    col(Application.submitted_at), col(Application.version), col(Application.created_at),
    col(Application.updated_at),
    col(ApplicantUnit.organization_id).label("unit_org_id"),
    col(ApplicantUnit.name).label("unit_name"), col(ApplicantUnit.kind).label("unit_kind"),
    col(ApplicantUnit.city).label("unit_city"),
    col(Organization.code).label("rec_code"), col(Organization.name).label("rec_name"),
)  # fmt: skip


@functools.cache
def _assessors_json(dialect: str) -> Any:
    """The application's assessment team as a JSON array of [user id, display name,
    organisation id, organisation name], in order of assignment (a correlated subquery)."""
    aa, org = AssessmentAssignment, aliased(Organization)
    item = (col(User.id), col(User.display_name), org.id, org.name)
    team = (
        sa_select()
        .select_from(aa)
        .join(User, col(User.id) == aa.user_id)
        .join(org, col(org.id) == User.organization_id)
        .where(col(aa.application_id) == Application.id)
    )
    if dialect == "postgresql":
        agg = func.json_agg(aggregate_order_by(func.json_build_array(*item), col(aa.id)))
        expr = team.add_columns(func.coalesce(agg, literal_column("'[]'::json")))
    else:
        # SQLite before 3.44 has no ORDER BY inside an aggregate: aggregate an ordered subquery.
        ordered = team.add_columns(func.json_array(*item).label("item")).order_by(col(aa.id))
        sub = ordered.correlate(Application).subquery()
        expr = sa_select(func.json_group_array(func.json(sub.c.item)))
    return type_coerce(expr.scalar_subquery(), JSON)


def list_summary_rows(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """The page as plain rows, in one statement: the applications of the page (with the total
    as a window count), their unit, recommender and assessment team."""
    page = (
        _filtered(sa_select(col(Application.id).label("pid"), func.count().over().label("total")),
                  actor, filters)
        .order_by(*ORDER).limit(limit).offset(offset).subquery("page")
    )  # fmt: skip
    dialect = session.get_bind().dialect.name
    stmt = (
        sa_select(*SUMMARY_COLUMNS, page.c.total, _assessors_json(dialect).label("team"))
        .join(page, page.c.pid == Application.id)
        .join(ApplicantUnit, col(ApplicantUnit.id) == Application.applicant_id)
        .join(Organization, col(Organization.id) == Application.recommender_id)
        .order_by(*ORDER)
    )
    rows = session.execute(stmt).all()
    if rows:
        return list(rows), int(rows[0].total)
    return [], (_count(session, actor, filters) if offset else 0)


def assessors_of(
    session: Session, application_ids: list[int]
) -> dict[int, list[tuple[int, str, int, str]]]:
    """application id → [(user id, display name, organisation id, organisation name)]."""
    out: dict[int, list[tuple[int, str, int, str]]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    # Five columns: more than sqlmodel's typed select() takes, so SQLAlchemy's own.
    rows = session.execute(
        sa_select(
            col(AssessmentAssignment.application_id),
            col(User.id),
            col(User.display_name),
            col(Organization.id),
            col(Organization.name),
        )
        .join(User, col(User.id) == AssessmentAssignment.user_id)
        .join(Organization, col(Organization.id) == User.organization_id)
        .where(col(AssessmentAssignment.application_id).in_(application_ids))
        .order_by(col(AssessmentAssignment.id))
    ).all()
    for app_id, uid, name, org_id, org_name in rows:
        out[app_id].append((uid or 0, name, org_id or 0, org_name))
    return out


def list_assessors(
    session: Session, q: str | None, organization_id: int | None, limit: int, offset: int
) -> tuple[list[tuple[User, str]], int]:
    """Active users with the assessor role, each with its organisation's name, by organisation."""
    stmt = (
        select(User, Organization.name)
        .join(Organization, col(Organization.id) == User.organization_id)
        .where(User.is_active == True)  # noqa: E712
        .where(col(User.id).in_(select(UserRole.user_id).where(UserRole.role == "assessor")))
    )
    if organization_id is not None:
        stmt = stmt.where(User.organization_id == organization_id)
    if q:
        stmt = stmt.where(
            col(User.display_name).contains(q)
            | col(User.username).contains(q)
            | col(Organization.name).contains(q)
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(Organization.id), col(User.id)).limit(limit).offset(offset)
    ).all()
    return [(u, name) for u, name in rows], int(total)


def live_application_of(session: Session, round_id: int, applicant_id: int) -> Application | None:
    return session.exec(
        select(Application).where(
            Application.round_id == round_id, Application.live_key == applicant_id
        )
    ).first()

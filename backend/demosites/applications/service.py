"""Rules of applications: filing and editing the form, reading with allowed actions, assessors,
materials and dashboard counts. State changes: transitions.py's table, performed by the engine."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy import tuple_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from demosites.applicants import repository as applicants_repo
from demosites.applicants.errors import ApplicantNotFound
from demosites.applicants.models import ApplicantUnit
from demosites.applications import repository, transitions
from demosites.applications.errors import (
    ApplicationNotFound,
    ConflictOfInterest,
    DuplicateApplication,
    NotAnAssessor,
    NotEligible,
    OutsidePhase,
)
from demosites.applications.models import Application, AssessmentAssignment, Status
from demosites.applications.schemas import (
    ApplicantRef,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSummaryPage,
    ApplicationUpdate,
    AssessorRead,
    AssessorRef,
    BatchTransitionRequest,
    CountRow,
    MaterialPurpose,
    MaterialRead,
    Opinion,
    OpinionStage,
    PriorityClaimRead,
    RecommenderRef,
    RoundStats,
    Scores,
    TransitionRequest,
)
from demosites.audit import service as audit
from demosites.audit.models import HistoryEntry
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY, IfMatch, etag
from demosites.core.errors import DomainError, Forbidden, ValidationFailed
from demosites.events import service as events
from demosites.files import service as files
from demosites.files.models import StoredFile
from demosites.organizations.models import Organization, User, UserRole
from demosites.rounds import service as rounds
from demosites.rounds.models import Quota, Round
from demosites.statemachine.errors import InvalidTransition

OPINION_STAGES = {
    "recommend": OpinionStage.recommendation,
    "decline": OpinionStage.recommendation,
    "pass_preliminary": OpinionStage.preliminary,
    "fail_preliminary": OpinionStage.preliminary,
    "record_assessment": OpinionStage.assessment,
    "adopt": OpinionStage.review,
    "reject": OpinionStage.review,
    "approve": OpinionStage.approval,
    "disapprove": OpinionStage.approval,
}
STAGE_ORDER = list(OpinionStage)
BEIJING = timedelta(hours=8)  # opinions are dated as officials date them (clock.today())
EDITABLE = {"applicant": {Status.draft}, "recommender": {Status.draft, Status.submitted}}


# ---- reading ----------------------------------------------------------------------------------


def _material_read(f: StoredFile) -> MaterialRead:
    return MaterialRead(
        id=f.id or 0, purpose=f.purpose, filename=f.filename, content_type=f.content_type,  # type: ignore[arg-type]
        size=f.size, sha256=f.sha256, uploaded_at=f.uploaded_at,
        download_url=f"/api/v1/applications/{f.owner_id}/materials/{f.id}",
    )  # fmt: skip


def to_reads(session: Session, actor: Actor, apps: list[Application]) -> list[ApplicationRead]:
    """Builds the reads of many applications with a fixed number of queries (no N+1)."""
    if not apps:
        return []
    ids = [a.id or 0 for a in apps]
    units = {
        u.id or 0: u
        for u in session.exec(
            select(ApplicantUnit).where(col(ApplicantUnit.id).in_({a.applicant_id for a in apps}))
        )
    }
    orgs = {
        o.id or 0: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({a.recommender_id for a in apps}))
        )
    }
    assessors = repository.assessors_of(session, ids)
    evidence: dict[int, list[StoredFile]] = defaultdict(list)
    for f in session.exec(
        select(StoredFile)
        .where(StoredFile.owner_type == "application", col(StoredFile.owner_id).in_(ids))
        .where(col(StoredFile.purpose).startswith("evidence_"))
        .order_by(col(StoredFile.id))
    ):
        evidence[f.owner_id].append(f)
    opinions: dict[int, dict[OpinionStage, Opinion]] = defaultdict(dict)
    for h in session.exec(
        select(HistoryEntry)
        .where(HistoryEntry.object_type == "application", col(HistoryEntry.object_id).in_(ids))
        .where(col(HistoryEntry.action).in_(list(OPINION_STAGES)))
        .order_by(col(HistoryEntry.id))
    ):
        stage = OPINION_STAGES[h.action]
        opinions[h.object_id][stage] = Opinion(
            stage=stage, action=h.action, opinion=h.opinion,  # type: ignore[arg-type]
            date=(h.at + BEIJING).date(),
            organization_name=h.actor_org_name, actor_name=h.actor_name, role=h.actor_role,
        )  # fmt: skip
    today = clock.today()
    facts = transitions.load_facts(session, apps, today, assessors=assessors, units=units)
    out = []
    for a in apps:
        unit, org = units[a.applicant_id], orgs[a.recommender_id]
        files_by_kind = defaultdict(list)
        for f in evidence.get(a.id or 0, []):
            files_by_kind[f.purpose.removeprefix("evidence_")].append(_material_read(f))
        out.append(
            ApplicationRead(
                id=a.id or 0,
                round_id=a.round_id,
                applicant=ApplicantRef(
                    id=unit.id or 0,
                    organization_id=unit.organization_id,
                    name=unit.name,
                    kind=unit.kind,
                    city=unit.city,
                ),  # type: ignore[arg-type]
                recommender=RecommenderRef(id=org.id or 0, code=org.code, name=org.name),
                field=a.field,
                city=a.city,
                name=a.name,
                summary=a.summary,
                deeds=a.deeds,  # type: ignore[arg-type]
                status=a.status,
                priority=a.priority,  # type: ignore[arg-type]
                priority_claims=[
                    PriorityClaimRead(
                        kind=c["kind"],
                        description=c["description"],
                        evidence=files_by_kind.get(c["kind"], []),
                    )
                    for c in a.priority_claims
                ],
                scores=Scores(**a.scores) if a.scores else None,
                visit_date=a.visit_date,
                plaque_no=a.plaque_no,
                awarded_at=a.awarded_at,
                submitted_at=a.submitted_at,
                assessors=[
                    AssessorRef(
                        user_id=uid, display_name=name, organization_id=oid, organization_name=oname
                    )
                    for uid, name, oid, oname in assessors.get(a.id or 0, [])
                ],
                opinions=sorted(
                    opinions.get(a.id or 0, {}).values(), key=lambda o: STAGE_ORDER.index(o.stage)
                ),
                allowed_actions=transitions.MACHINE.allowed_actions(
                    session, actor, a, facts[a.id or 0], today
                ),  # type: ignore[arg-type]
                version=a.version,
                etag=etag(a.version),
                created_at=a.created_at,
                updated_at=a.updated_at,
            )  # fmt: skip
        )
    return out


def to_read(session: Session, actor: Actor, app: Application) -> ApplicationRead:
    return to_reads(session, actor, [app])[0]


def readable(
    session: Session, actor: Actor, application_id: int, for_update: bool = False
) -> Application:
    app = repository.get_readable(session, actor, application_id, for_update=for_update)
    if app is None:
        raise ApplicationNotFound(
            f"Application {application_id} not found / 未找到申报 {application_id}"
        )
    return app


def get_application(session: Session, actor: Actor, application_id: int) -> ApplicationRead:
    return to_read(session, actor, readable(session, actor, application_id))


def list_applications(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[ApplicationRead], int]:
    rows, total = repository.list_readable(session, actor, filters, limit, offset)
    return to_reads(session, actor, rows), total


def list_summaries(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> ApplicationSummaryPage:
    """The list's page in two statements: the rows (with the total, unit, recommender and
    assessment team) and the rounds with today's phase exceptions (for the allowed actions).
    Rows are read as tuples, not ORM objects, and validated once as a whole page."""
    rows, total = repository.list_summary_rows(session, actor, filters, limit, offset)
    if not rows:
        return ApplicationSummaryPage(items=[], total=total)
    today = clock.today()
    teams = {r.id: r.team for r in rows}
    facts = transitions.load_facts(
        session, rows, today, assessors=teams,
        applicant_orgs={r.applicant_id: r.unit_org_id for r in rows},
    )  # fmt: skip
    items = [
        {
            "id": r.id,
            "round_id": r.round_id,
            "applicant": {
                "id": r.applicant_id,
                "organization_id": r.unit_org_id,
                "name": r.unit_name,
                "kind": r.unit_kind,
                "city": r.unit_city,
            },
            "recommender": {"id": r.recommender_id, "code": r.rec_code, "name": r.rec_name},
            "field": r.field,
            "city": r.city,
            "name": r.name,
            "summary": r.summary,
            "status": r.status,
            "priority": r.priority,
            "priority_claims": r.priority_claims,
            "scores": r.scores,
            "visit_date": r.visit_date,
            "plaque_no": r.plaque_no,
            "awarded_at": r.awarded_at,
            "submitted_at": r.submitted_at,
            "assessors": [
                {
                    "user_id": uid,
                    "display_name": name,
                    "organization_id": oid,
                    "organization_name": oname,
                }
                for uid, name, oid, oname in r.team
            ],
            "allowed_actions": transitions.MACHINE.allowed_actions(
                session, actor, r, facts[r.id], today
            ),
            "version": r.version,
            "etag": etag(r.version),
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }  # fmt: skip
        for r in rows
    ]
    return ApplicationSummaryPage.model_validate({"items": items, "total": total})


def list_page_json(
    session: Session, actor: Actor, filters: dict[str, Any], limit: int, offset: int
) -> bytes:
    """The list's page as JSON, made anew on every request (validated once, as a whole page).

    No page is kept between requests: the page cache of migration 0910 made every write of the
    seven tables the list is made from update one shared row, a lock every writer in the province
    passed through (issue 17); on a deadline day its pages were stale almost as soon as made."""
    return list_summaries(session, actor, filters, limit, offset).model_dump_json().encode()


def history(session: Session, actor: Actor, application_id: int) -> list[HistoryEntry]:
    readable(session, actor, application_id)
    return audit.history_of(session, "application", application_id)


# ---- filing and editing -----------------------------------------------------------------------


def _claims(data: ApplicationCreate | ApplicationUpdate) -> list[dict[str, str]]:
    return [{"kind": str(c.kind), "description": c.description} for c in data.priority_claims or []]


def _resolve_parties(
    session: Session, actor: Actor, data: ApplicationCreate
) -> tuple[ApplicantUnit, Organization, str]:
    """(applicant unit, recommender, role acted in) of a new application."""
    own = (
        applicants_repo.of_organization(session, actor.organization_id)
        if actor.has("applicant")
        else None
    )
    if own is not None and data.applicant_id in (None, own.id):
        unit, role = own, "applicant"
        if data.recommender_id is None:
            raise ValidationFailed("Choose the recommending body (recommender_id) / 请选择推荐单位")
        recommender_id = data.recommender_id
    elif actor.has("recommender", "office") and data.applicant_id is not None:
        found = applicants_repo.get_readable(session, actor, data.applicant_id)
        if found is None:
            raise ApplicantNotFound()
        unit = found
        if actor.has("office"):
            role = "office"
            if data.recommender_id is None:
                raise ValidationFailed(
                    "Choose the recommending body (recommender_id) / 请选择推荐单位"
                )
            recommender_id = data.recommender_id
        else:
            role = "recommender"
            recommender_id = data.recommender_id or actor.organization_id
            if recommender_id != actor.organization_id:
                raise Forbidden("A recommender files only to itself / 推荐单位只能代为向本单位申报")
    else:
        raise Forbidden(
            "Only an applicant unit, its recommender or the office files an application / 无权申报"
        )
    recommender = session.get(Organization, recommender_id)
    if recommender is None or not recommender.is_recommender:
        raise NotEligible("Not a recommending body / 该组织不是推荐单位")
    return unit, recommender, role


def create_application(session: Session, actor: Actor, data: ApplicationCreate) -> Application:
    r = rounds.get_round(session, data.round_id)
    today = clock.today()
    if today > r.application_end:
        raise OutsidePhase(
            f"Applications closed on {r.application_end} / 申报已于 {r.application_end} 截止"
        )
    unit, recommender, role = _resolve_parties(session, actor, data)
    if rounds.rule_for(session, r.id or 0, recommender.id or 0, unit) is None:
        raise NotEligible(
            f"{recommender.name} does not recommend {unit.name} in this round / {recommender.name}不能推荐{unit.name}"
        )
    if repository.live_application_of(session, r.id or 0, unit.id or 0) is not None:
        raise DuplicateApplication()
    now = clock.now()
    claims = _claims(data)
    app = Application(
        round_id=r.id or 0, applicant_id=unit.id or 0, recommender_id=recommender.id or 0,
        created_by_org_id=actor.organization_id, field=unit.field, city=unit.city, name=data.name,
        summary=data.summary, deeds=data.deeds, status=Status.draft, priority=bool(claims),
        priority_claims=claims, live_key=unit.id, created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
    except IntegrityError as exc:  # a concurrent filing for the same unit won the unique index
        raise DuplicateApplication() from exc
    audit.record(
        session, actor, "application", app.id or 0, "create", to_state=app.status, role=role,
        data={"applicant_id": unit.id, "recommender_id": recommender.id, "name": app.name},
    )  # fmt: skip
    events.emit(
        session, "application.created", "application", app.id or 0,
        {"id": app.id, "round_id": app.round_id, "applicant_id": unit.id, "recommender_id": recommender.id,
         "name": app.name},
        organization_ids=[unit.organization_id, recommender.id or 0],
    )  # fmt: skip
    return app


def _editing_role(session: Session, actor: Actor, app: Application) -> str:
    """Who may edit the form: the unit while draft, its recommender while draft or submitted."""
    unit = session.get(ApplicantUnit, app.applicant_id)
    roles = []
    if (
        actor.has("applicant")
        and unit is not None
        and unit.organization_id == actor.organization_id
    ):
        roles.append("applicant")
    if actor.has("recommender") and app.recommender_id == actor.organization_id:
        roles.append("recommender")
    if not roles:
        raise Forbidden(
            "Only the applicant unit or its recommender edits the form / 只有申报主体或推荐单位可以修改"
        )
    for role in roles:
        if app.status in EDITABLE[role]:
            return role
    raise InvalidTransition(
        f"The form cannot change in status {app.status} / 当前状态下不能修改申报材料"
    )


def _check_editing_phase(session: Session, app: Application) -> None:
    r = session.get(Round, app.round_id)
    assert r is not None
    if clock.today() > r.materials_deadline:
        raise OutsidePhase(
            f"Materials closed on {r.materials_deadline} / 材料已于 {r.materials_deadline} 截止"
        )


def update_application(
    session: Session, actor: Actor, application_id: int, data: ApplicationUpdate, if_match: IfMatch
) -> Application:
    readable(session, actor, application_id)
    app = repository.lock(session, application_id)
    if_match.check(app.version)
    role = _editing_role(session, actor, app)
    _check_editing_phase(session, app)
    given = data.model_dump(exclude_unset=True)
    changed: list[str] = []
    if "recommender_id" in given and given["recommender_id"] not in (None, app.recommender_id):
        if app.status != Status.draft:
            raise InvalidTransition(
                "The recommender changes only while draft / 仅草稿可更换推荐单位"
            )
        unit = session.get(ApplicantUnit, app.applicant_id)
        rec = session.get(Organization, given["recommender_id"])
        if (
            unit is None
            or rec is None
            or rounds.rule_for(session, app.round_id, rec.id or 0, unit) is None
        ):
            raise NotEligible()
        app.recommender_id = rec.id or 0
        changed.append("recommender_id")
    for name in ("name", "summary", "deeds"):
        if given.get(name) is not None and given[name] != getattr(app, name):
            setattr(app, name, given[name])
            changed.append(name)
    if data.priority_claims is not None:
        claims = _claims(data)
        if claims != app.priority_claims:
            app.priority_claims = claims
            app.priority = bool(claims)
            changed.append("priority_claims")
    if not changed:
        return app
    app.version += 1
    app.updated_at = clock.now()
    session.add(app)
    session.flush()
    audit.record(
        session, actor, "application", app.id or 0, "edit", role=role, data={"fields": changed}
    )
    return app


# ---- transitions ------------------------------------------------------------------------------


def transition(
    session: Session,
    actor: Actor,
    application_id: int,
    body: TransitionRequest,
    if_match: IfMatch = ANY,
) -> Application:
    app = readable(session, actor, application_id)
    return transitions.MACHINE.perform(
        session, actor, app.id or 0, body.action, body, opinion=body.opinion, if_match=if_match
    )


def _lock_batch(session: Session, application_ids: list[int], action: str) -> None:
    """A batch takes its rows in core/locks.py's order before any effect: every application in
    ascending id, then the quotas its effects may change in ascending id (two batches touching
    the same quotas in another order would deadlock)."""
    rows = session.exec(
        select(Application.round_id, Application.recommender_id)
        .where(col(Application.id).in_(application_ids))
        .order_by(col(Application.id))
        .with_for_update()
    ).all()
    if rows and transitions.changes_quotas(action):
        session.exec(
            select(Quota.id)
            .where(tuple_(col(Quota.round_id), col(Quota.recommender_id)).in_(set(rows)))
            .order_by(col(Quota.id))
            .with_for_update()
        ).all()


def transition_batch(
    session: Session, actor: Actor, body: BatchTransitionRequest
) -> list[Application]:
    """The same action on every listed application, all or nothing: the first refusal undoes
    the others and answers with its code and the `application_id` it concerns."""
    payload = TransitionRequest(**body.model_dump(exclude={"application_ids"}))
    _lock_batch(session, body.application_ids, str(payload.action))
    done: list[Application] = []
    with session.begin_nested():
        for app_id in sorted(body.application_ids):  # one lock order for every batch: no deadlocks
            try:
                app = readable(session, actor, app_id, for_update=True)
                app = transitions.MACHINE.perform(
                    session, actor, app.id or 0, payload.action, payload, opinion=payload.opinion
                )
                done.append(app)
            except DomainError as exc:
                exc.extra.setdefault("application_id", app_id)
                raise
    order = {a: i for i, a in enumerate(body.application_ids)}
    return sorted(done, key=lambda a: order[a.id or 0])


# ---- assessment teams -------------------------------------------------------------------------

ASSIGNABLE = {Status.recommended, Status.preliminary_passed}


def assign_assessors(
    session: Session, actor: Actor, application_id: int, user_ids: list[int], if_match: IfMatch
) -> Application:
    """The office names the whole team; nobody from the recommending organisation (回避)."""
    readable(session, actor, application_id)
    app = repository.lock(session, application_id)
    if_match.check(app.version)
    if app.status not in ASSIGNABLE:
        raise InvalidTransition(
            f"Assessors are assigned while recommended or preliminary_passed, not {app.status} / 当前状态不能指派考核组"
        )
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids)))}
    assessor_ids = set(
        session.exec(
            select(UserRole.user_id).where(
                col(UserRole.user_id).in_(user_ids), UserRole.role == "assessor"
            )
        ).all()
    )
    for uid in user_ids:
        user = users.get(uid)
        if user is None or uid not in assessor_ids or not user.is_active:
            raise NotAnAssessor(
                f"User {uid} is not an active assessor / 用户 {uid} 不是考核人员", user_id=uid
            )
        if transitions.conflict_of_interest(user.organization_id, app):
            raise ConflictOfInterest(
                f"{user.display_name} belongs to the recommending organisation / {user.display_name} 来自推荐单位，须回避",
                user_id=uid,
            )
    existing = list(
        session.exec(
            select(AssessmentAssignment).where(AssessmentAssignment.application_id == app.id)
        )
    )
    before = sorted(a.user_id for a in existing)
    if before == sorted(user_ids):
        return app
    for a in existing:
        if a.user_id not in user_ids:
            session.delete(a)
    now = clock.now()
    for uid in user_ids:
        if uid not in before:
            session.add(
                AssessmentAssignment(application_id=app.id or 0, user_id=uid, assigned_at=now)
            )
    app.version += 1
    app.updated_at = now
    session.add(app)
    session.flush()
    audit.record(
        session, actor, "application", app.id or 0, "assign_assessors", role=actor.role_for("office"),
        data={"before": before, "after": sorted(user_ids)},
    )  # fmt: skip
    return app


def list_assessors(
    session: Session,
    actor: Actor,
    q: str | None,
    organization_id: int | None,
    application_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[AssessorRead], int]:
    """Active assessors (考核人员) with their organisations; with `application_id` (one the
    caller may read, else 404) each says whether it must stand aside (回避) for it."""
    app = readable(session, actor, application_id) if application_id is not None else None
    rows, total = repository.list_assessors(session, q, organization_id, limit, offset)
    return [
        AssessorRead(
            user_id=user.id or 0,
            username=user.username,
            display_name=user.display_name,
            organization_id=user.organization_id,
            organization_name=org_name,
            conflict_of_interest=(
                transitions.conflict_of_interest(user.organization_id, app) if app else None
            ),
        )  # fmt: skip
        for user, org_name in rows
    ], total


# ---- materials --------------------------------------------------------------------------------


def list_materials(session: Session, actor: Actor, application_id: int) -> list[MaterialRead]:
    readable(session, actor, application_id)
    return [_material_read(f) for f in files.files_of(session, "application", application_id)]


def upload_material(
    session: Session,
    actor: Actor,
    application_id: int,
    upload: UploadFile,
    purpose: MaterialPurpose,
) -> MaterialRead:
    """Only those who may edit the form add materials, and only until the materials deadline."""
    readable(session, actor, application_id)
    app = repository.lock(session, application_id)
    role = _editing_role(session, actor, app)
    _check_editing_phase(session, app)
    row = files.store_upload(session, actor, upload, "application", application_id, str(purpose))
    audit.record(
        session, actor, "application", application_id, "upload_material", role=role,
        data={"file_id": row.id, "filename": row.filename, "purpose": row.purpose, "sha256": row.sha256,
              "size": row.size},
    )  # fmt: skip
    return _material_read(row)


def material_file(
    session: Session, actor: Actor, application_id: int, file_id: int
) -> tuple[Path, StoredFile]:
    readable(session, actor, application_id)
    row = files.get_file(session, "application", application_id, file_id)
    return files.path_of(row), row


# ---- dashboard --------------------------------------------------------------------------------


def round_stats(session: Session, round_id: int) -> RoundStats:
    rounds.get_round(session, round_id)

    def counts(column: Any) -> list[CountRow]:
        rows = session.exec(
            select(column, func.count())
            .where(Application.round_id == round_id)
            .group_by(column)
            .order_by(column)
        ).all()
        return [CountRow(key=str(k), count=int(n)) for k, n in rows]

    by_status = counts(col(Application.status))
    return RoundStats(
        round_id=round_id,
        total=sum(c.count for c in by_status),
        by_status=by_status,
        by_city=counts(col(Application.city)),
        by_field=counts(col(Application.field)),
    )

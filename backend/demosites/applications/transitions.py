"""The stage machine of applications: ONE table, and ONE function that performs every change.

Every transition, in one database transaction: lock the row, check (in this order) role,
state, conflict of interest, phase window (or an office-recorded exception), guards; apply the
effects (quota, scores, plaque…); write the new state, ONE history row and ONE outbox event.
`allowed_actions` reads the same table, so what the API offers is what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import tuple_, update
from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications import repository
from demosites.applications.errors import (
    ApplicationNotFound,
    ConflictOfInterest,
    FormIncomplete,
    InvalidTransition,
    NotEligible,
    OutsidePhase,
    QuotaExceeded,
)
from demosites.applications.models import ENDED_STATES, Action, Application, Status
from demosites.applications.schemas import TransitionRequest
from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY, IfMatch
from demosites.core.errors import DomainError, Forbidden, ValidationFailed
from demosites.events import service as events
from demosites.files.service import files_of
from demosites.rounds import service as rounds
from demosites.rounds.errors import MeetingNotFound
from demosites.rounds.models import Meeting, MeetingKind, PhaseException, Quota, Round

Hook = Callable[[Session, Actor, Application], None]
# Called in `award`, in the same transaction, after the plaque number is assigned and the new
# state, history row and event are written. The after-award domain registers site creation here.
AWARD_HOOKS: list[Hook] = []


@dataclass
class Context:
    """What guards and effects of one transition see; `data` goes into the history row."""

    session: Session
    actor: Actor
    app: Application
    round: Round
    applicant: ApplicantUnit
    payload: TransitionRequest
    today: date
    data: dict[str, Any] = field(default_factory=dict)


Step = Callable[[Context], None]

# Guards other domains add to one action, run after the table's own guards and before its
# effects (same transaction, same Context). The public notice (公示, sites/notices.py) blocks
# `award` while an objection is open and admits `uphold_objection` only on an upheld objection.
EXTRA_GUARDS: dict[str, list[Step]] = {}


# ---- guards ---------------------------------------------------------------------------------


def form_complete(ctx: Context) -> None:
    """申报审批表 filled in; deeds as text or a document; evidence for every priority claim."""
    app = ctx.app
    files = files_of(ctx.session, "application", app.id or 0)
    purposes = {f.purpose for f in files}
    missing = []
    if not app.name.strip():
        missing.append("name 示范点名称")
    if not app.summary.strip():
        missing.append("summary 示范点简要事迹")
    if not app.deeds.strip() and "deeds" not in purposes:
        missing.append("deeds 先进事迹材料")
    for claim in app.priority_claims:
        if f"evidence_{claim['kind']}" not in purposes:
            missing.append(f"evidence for {claim['kind']} 优先情形佐证材料")
    if missing:
        raise FormIncomplete("Missing / 缺少: " + "; ".join(missing))


def eligible(ctx: Context) -> None:
    quota = rounds.rule_for(ctx.session, ctx.app.round_id, ctx.app.recommender_id, ctx.applicant)
    if quota is None:
        raise NotEligible()
    ctx.data["quota_id"] = quota.id


def assessment_complete(ctx: Context) -> None:
    p = ctx.payload
    if p.scores is None or p.visit_date is None:
        raise ValidationFailed(
            "The assessment needs scores for the four standards and the visit date / "
            "考核须填写四项基本标准评分和实地考核日期"
        )
    if p.visit_date > ctx.today:
        raise ValidationFailed("The visit date cannot be in the future / 实地考核日期不能晚于今天")


def _meeting_of(kind: MeetingKind) -> Step:
    def guard(ctx: Context) -> None:
        mid = ctx.payload.meeting_id
        meeting = ctx.session.get(Meeting, mid) if mid else None
        if mid is None:
            raise ValidationFailed(f"Name the {kind} meeting (meeting_id) / 请指明会议")
        if meeting is None or meeting.round_id != ctx.app.round_id or meeting.kind != kind:
            raise MeetingNotFound(f"No {kind} meeting {mid} in this round / 本轮无此会议")
        ctx.data["meeting_id"] = meeting.id
        ctx.data["meeting_reference"] = meeting.reference
        ctx.data["meeting_held_on"] = str(meeting.held_on)

    guard.__name__ = f"{kind}_meeting"
    return guard


review_meeting = _meeting_of(MeetingKind.review)
approval_meeting = _meeting_of(MeetingKind.approval)


# ---- effects --------------------------------------------------------------------------------


def stamp_submitted(ctx: Context) -> None:
    ctx.app.submitted_at = clock.now()


def consume_quota(ctx: Context) -> None:
    """The database keeps the limit: an atomic conditional increment (and a CHECK constraint)."""
    quota_id = ctx.data["quota_id"]
    result = ctx.session.execute(
        update(Quota)
        .where(col(Quota.id) == quota_id, col(Quota.used) < col(Quota.limit))
        .values(used=col(Quota.used) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise QuotaExceeded()
    ctx.app.quota_id = quota_id


def release_quota(ctx: Context) -> None:
    if ctx.app.quota_id is not None:
        ctx.session.execute(
            update(Quota)
            .where(col(Quota.id) == ctx.app.quota_id, col(Quota.used) > 0)
            .values(used=col(Quota.used) - 1)
            .execution_options(synchronize_session=False)
        )
        ctx.data["quota_id"] = ctx.app.quota_id
        ctx.app.quota_id = None


def store_assessment(ctx: Context) -> None:
    assert ctx.payload.scores is not None
    ctx.app.scores = ctx.payload.scores.model_dump()
    ctx.app.visit_date = ctx.payload.visit_date
    ctx.data["scores"] = ctx.app.scores
    ctx.data["visit_date"] = str(ctx.app.visit_date)


_PLAQUE_SEQ = re.compile(r"〕(\d+)号$")


def plaque_number(year: int, seq: int) -> str:
    return f"皖思政示范〔{year}〕{seq:03d}号"


def assign_plaque(ctx: Context) -> None:
    """Next number of the round: awards of one round draw one after the other (the round's row
    lock, an effect row in core/locks.py's order), and the unique index holds."""
    rounds.get_round(ctx.session, ctx.app.round_id, for_update=True)
    last = ctx.session.exec(
        select(func.max(Application.plaque_no)).where(Application.round_id == ctx.app.round_id)
    ).one()
    match = _PLAQUE_SEQ.search(last or "")
    seq = int(match.group(1)) + 1 if match else 1
    ctx.app.plaque_no = plaque_number(ctx.round.year, seq)
    ctx.app.awarded_at = clock.now()
    ctx.data["plaque_no"] = ctx.app.plaque_no


# ---- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    action: Action
    source: Status
    target: Status
    roles: tuple[str, ...]  # in order of preference when the actor holds several
    window: str  # a key of rounds.service.WINDOWS
    needs_opinion: bool = False
    guards: tuple[Step, ...] = ()
    effects: tuple[Step, ...] = ()


S, A = Status, Action
TABLE: tuple[Rule, ...] = (
    Rule(A.submit, S.draft, S.submitted, ("applicant", "recommender"), "application",
         guards=(form_complete,), effects=(stamp_submitted,)),
    Rule(A.return_, S.submitted, S.draft, ("recommender",), "recommendation", needs_opinion=True),
    Rule(A.decline, S.submitted, S.not_recommended, ("recommender",), "recommendation", needs_opinion=True),
    Rule(A.recommend, S.submitted, S.recommended, ("recommender",), "recommendation", needs_opinion=True,
         guards=(eligible,), effects=(consume_quota,)),
    Rule(A.withdraw, S.recommended, S.submitted, ("recommender",), "recommendation",
         effects=(release_quota,)),
    Rule(A.pass_preliminary, S.recommended, S.preliminary_passed, ("office",), "assessment", needs_opinion=True),
    Rule(A.fail_preliminary, S.recommended, S.preliminary_failed, ("office",), "assessment", needs_opinion=True),
    Rule(A.record_assessment, S.preliminary_passed, S.assessed, ("assessor",), "assessment", needs_opinion=True,
         guards=(assessment_complete,), effects=(store_assessment,)),
    Rule(A.propose, S.assessed, S.proposed, ("office",), "assessment"),
    Rule(A.not_propose, S.assessed, S.not_proposed, ("office",), "assessment"),
    Rule(A.adopt, S.proposed, S.candidate, ("committee",), "assessment", guards=(review_meeting,)),
    Rule(A.reject, S.proposed, S.review_rejected, ("committee",), "assessment", guards=(review_meeting,)),
    Rule(A.approve, S.candidate, S.approved, ("approver",), "assessment", needs_opinion=True,
         guards=(approval_meeting,)),
    Rule(A.disapprove, S.candidate, S.approval_rejected, ("approver",), "assessment", needs_opinion=True,
         guards=(approval_meeting,)),
    Rule(A.award, S.approved, S.awarded, ("office",), "awarding", effects=(assign_plaque,)),
    Rule(A.uphold_objection, S.approved, S.approval_rejected, ("office",), "notice", needs_opinion=True),
)  # fmt: skip
RULES: dict[str, Rule] = {str(r.action): r for r in TABLE}
assert len(RULES) == len(TABLE), "one rule per action"


# ---- facts about an application that the rules need -------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What `allowed_actions` needs besides the row: loaded once for a whole list."""

    round: Round
    applicant_org_id: int
    assessor_ids: frozenset[int]
    exceptions: tuple[PhaseException, ...]


def load_facts(
    session: Session,
    apps: Sequence[Any],
    on: date,
    assessors: dict[int, list[tuple[int, str, int, str]]] | None = None,
    units: dict[int, ApplicantUnit] | None = None,
    applicant_orgs: dict[int, int] | None = None,
) -> dict[int, Facts]:
    """`apps`: applications, or rows with their id, round_id and applicant_id;
    `applicant_orgs`: applicant unit id → its organisation, when the caller has read them."""
    ids = [a.id or 0 for a in apps]
    round_ids = sorted({a.round_id for a in apps})
    round_rows, exceptions = rounds.rounds_and_exceptions_on(session, round_ids, on)
    if applicant_orgs is None:
        if units is None:
            wanted = {a.applicant_id for a in apps}
            units = {
                u.id or 0: u
                for u in session.exec(
                    select(ApplicantUnit).where(col(ApplicantUnit.id).in_(wanted))
                )
            }
        applicant_orgs = {uid: u.organization_id for uid, u in units.items()}
    if assessors is None:
        assessors = repository.assessors_of(session, ids)
    out = {}
    for a in apps:
        out[a.id or 0] = Facts(
            round=round_rows[a.round_id],
            applicant_org_id=applicant_orgs[a.applicant_id],
            assessor_ids=frozenset(uid for uid, *_ in assessors.get(a.id or 0, [])),
            exceptions=tuple(e for e in exceptions if e.round_id == a.round_id),
        )
    return out


def acting_role(actor: Actor, rule: Rule, app: Application, facts: Facts) -> str | None:
    """The role in which `actor` may take `rule` on `app`, or None (the first that fits)."""
    for role in rule.roles:
        if not actor.has(role):
            continue
        if role == "applicant" and facts.applicant_org_id != actor.organization_id:
            continue
        if role == "recommender" and app.recommender_id != actor.organization_id:
            continue
        if role == "assessor" and actor.user_id not in facts.assessor_ids:
            continue
        return role
    return None


def conflict_of_interest(assessor_organization_id: int, app: Application) -> bool:
    """回避: an assessor from the recommending organisation stands aside for the application.
    The one rule behind naming a team, the list of assessors and acting as assessor."""
    return assessor_organization_id == app.recommender_id


def _conflicted(actor: Actor, role: str, app: Application) -> bool:
    return role == "assessor" and conflict_of_interest(actor.organization_id, app)


def phase_open(rule: Rule, app: Application, facts: Facts, on: date) -> bool:
    if rounds.window_open(facts.round, rule.window, on):
        return True
    return any(
        e.action == rule.action and e.application_id in (None, app.id) and e.on_date == on
        for e in facts.exceptions
    )


def allowed_actions(actor: Actor, application: Any, today: date, facts: Facts) -> list[str]:
    """The actions `actor` may take now: role, state, conflict and phase as `transition` checks
    them (opinions, quota and other payload guards are answered when the action is taken)."""
    out = []
    for rule in TABLE:
        if rule.source != application.status:
            continue
        role = acting_role(actor, rule, application, facts)
        if role is None or _conflicted(actor, role, application):
            continue
        if phase_open(rule, application, facts, today):
            out.append(str(rule.action))
    return out


# ---- performing -------------------------------------------------------------------------------


def transition(
    session: Session,
    actor: Actor,
    application: Application,
    action: str,
    payload: TransitionRequest,
    if_match: IfMatch = ANY,
) -> Application:
    """Performs `action` on `application` (already found through readable_by) or raises."""
    rule = RULES.get(str(action))
    if rule is None:
        raise ValidationFailed(f"Unknown action {action} / 未知操作")
    app = repository.lock(session, application.id or 0)
    if_match.check(app.version)
    on = clock.today()
    facts = load_facts(session, [app], on)[app.id or 0]
    role = acting_role(actor, rule, app, facts)
    if role is None:
        raise Forbidden(
            f"{action}: requires role / 需要角色 {' or '.join(rule.roles)} for this application"
        )
    if app.status != rule.source:
        raise InvalidTransition(
            f"{action} needs status {rule.source}, the application is {app.status} / "
            f"当前状态为 {app.status}，不能{action}"
        )
    if _conflicted(actor, role, app):
        raise ConflictOfInterest()
    if not phase_open(rule, app, facts, on):
        start, end = rounds.WINDOWS[rule.window]
        raise OutsidePhase(
            f"{action} is open from {getattr(facts.round, start)} to {getattr(facts.round, end)} / "
            f"{action} 的办理时间为 {getattr(facts.round, start)} 至 {getattr(facts.round, end)}"
        )
    opinion = (payload.opinion or "").strip() or None
    if rule.needs_opinion and opinion is None:
        raise ValidationFailed(f"{action} needs an opinion / 请填写意见")
    applicant = session.get(ApplicantUnit, app.applicant_id)
    assert applicant is not None
    ctx = Context(session, actor, app, facts.round, applicant, payload, on)
    for step in (*rule.guards, *EXTRA_GUARDS.get(str(rule.action), ()), *rule.effects):
        step(ctx)
    from_state = app.status
    app.status = rule.target
    app.live_key = None if rule.target in ENDED_STATES else app.applicant_id
    app.version += 1
    app.updated_at = clock.now()
    session.add(app)
    session.flush()
    audit.record(
        session, actor, "application", app.id or 0, str(rule.action), from_state=from_state,
        to_state=app.status, role=role, opinion=opinion, data=ctx.data or None,
    )  # fmt: skip
    events.emit(
        session, f"application.{app.status}", "application", app.id or 0,
        {"id": app.id, "round_id": app.round_id, "action": str(rule.action), "from": from_state,
         "to": app.status, "applicant_id": app.applicant_id, "recommender_id": app.recommender_id,
         "name": app.name, "plaque_no": app.plaque_no},
        organization_ids=[facts.applicant_org_id, app.recommender_id],
    )  # fmt: skip
    if rule.action == Action.award:
        for hook in AWARD_HOOKS:
            hook(session, actor, app)
    return app


def _lock_batch(session: Session, application_ids: list[int], rule: Rule | None) -> None:
    """A batch takes its rows in core/locks.py's order before any effect: every application in
    ascending id, then the quotas its effects may change in ascending id (two batches touching
    the same quotas in another order would deadlock)."""
    rows = session.exec(
        select(Application.round_id, Application.recommender_id)
        .where(col(Application.id).in_(application_ids))
        .order_by(col(Application.id))
        .with_for_update()
    ).all()
    if rule is not None and {consume_quota, release_quota} & set(rule.effects) and rows:
        session.exec(
            select(Quota.id)
            .where(
                tuple_(col(Quota.round_id), col(Quota.recommender_id)).in_(
                    {(r, o) for r, o in rows}
                )
            )
            .order_by(col(Quota.id))
            .with_for_update()
        ).all()


def transition_batch(
    session: Session,
    actor: Actor,
    application_ids: list[int],
    action: str,
    payload: TransitionRequest,
) -> list[Application]:
    """The same action on every listed application, all or nothing: the first refusal undoes
    the others and answers with its code and the `application_id` it concerns."""
    _lock_batch(session, application_ids, RULES.get(str(action)))
    done: list[Application] = []
    with session.begin_nested():
        for app_id in sorted(application_ids):  # one lock order for every batch: no deadlocks
            try:
                app = repository.get_readable(session, actor, app_id, for_update=True)
                if app is None:
                    raise ApplicationNotFound(
                        f"Application {app_id} not found / 未找到申报 {app_id}"
                    )
                done.append(transition(session, actor, app, action, payload))
            except DomainError as exc:
                exc.extra.setdefault("application_id", app_id)
                raise
    order = {a: i for i, a in enumerate(application_ids)}
    return sorted(done, key=lambda a: order[a.id or 0])

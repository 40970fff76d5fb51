"""The stage machine of applications: ONE table, its checks, guards and effects.

The engine (demosites.statemachine) performs every change the same way: lock the row, check the
role, the state, then the checks of every rule here (conflict of interest, the phase window or an
office-recorded exception), the opinion and the guards; apply the effects (quota, scores,
plaque…); write the new state, ONE history row and ONE outbox event. `allowed_actions` reads the
same table, so what the API offers is what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications import phase_exceptions, repository
from demosites.applications.errors import (
    ConflictOfInterest,
    FormIncomplete,
    NotEligible,
    OutsidePhase,
    QuotaExceeded,
)
from demosites.applications.models import (
    ENDED_STATES,
    Action,
    Application,
    PhaseException,
    Status,
)
from demosites.applications.schemas import TransitionRequest
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.errors import ValidationFailed
from demosites.files.service import files_of
from demosites.rounds import service as rounds
from demosites.rounds.errors import MeetingNotFound
from demosites.rounds.models import Meeting, MeetingKind, Quota, Round
from demosites.statemachine.engine import Change, Machine, Rule, Step


@dataclass(frozen=True)
class Facts:
    """What the rules need besides the row: loaded once for a whole list."""

    round: Round
    applicant_org_id: int
    assessor_ids: frozenset[int]
    exceptions: tuple[PhaseException, ...]


@dataclass
class Context(Change[Application, Facts, TransitionRequest]):
    """What checks, guards and effects of one transition see; `data` goes into the history row."""

    @property
    def app(self) -> Application:
        return self.obj

    @property
    def round(self) -> Round:
        return self.facts.round

    @property
    def applicant(self) -> ApplicantUnit:
        unit = self.session.get(ApplicantUnit, self.app.applicant_id)
        assert unit is not None
        return unit


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
    p = ctx.request
    if p.scores is None or p.visit_date is None:
        raise ValidationFailed(
            "The assessment needs scores for the four standards and the visit date / "
            "考核须填写四项基本标准评分和实地考核日期"
        )
    if p.visit_date > ctx.today:
        raise ValidationFailed("The visit date cannot be in the future / 实地考核日期不能晚于今天")


def _meeting_of(kind: MeetingKind) -> Step[Context]:
    def guard(ctx: Context) -> None:
        mid = ctx.request.meeting_id
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
    p = ctx.request
    assert p.scores is not None
    ctx.app.scores = p.scores.model_dump()
    ctx.app.visit_date = p.visit_date
    ctx.data["scores"] = ctx.app.scores
    ctx.data["visit_date"] = str(ctx.app.visit_date)


_PLAQUE_SEQ = re.compile(r"〕(\d+)号$")


def plaque_number(year: int, seq: int) -> str:
    return f"皖思政示范〔{year}〕{seq:03d}号"


def assign_plaque(ctx: Context) -> None:
    """Next number of the round. The round's row is locked first (an effect's row, after the
    application's), so concurrent awards number one after the other; the unique index holds."""
    rounds.get_round(ctx.session, ctx.app.round_id, for_update=True)
    last = ctx.session.exec(
        select(func.max(Application.plaque_no)).where(Application.round_id == ctx.app.round_id)
    ).one()
    match = _PLAQUE_SEQ.search(last or "")
    seq = int(match.group(1)) + 1 if match else 1
    ctx.app.plaque_no = plaque_number(ctx.round.year, seq)
    ctx.app.awarded_at = clock.now()
    ctx.data["plaque_no"] = ctx.app.plaque_no


def keep_live_key(ctx: Context) -> None:
    """Every transition: an ended application frees its unit to apply again in the round."""
    ctx.app.live_key = None if ctx.rule.target in ENDED_STATES else ctx.app.applicant_id


# ---- checks: facts of the application, also evaluated for allowed_actions ----------------------


def conflict_of_interest(assessor_organization_id: int, app: Application) -> bool:
    """回避: an assessor from the recommending organisation stands aside for the application.
    The one rule behind naming a team, the list of assessors and acting as assessor."""
    return assessor_organization_id == app.recommender_id


def not_conflicted(ctx: Context) -> None:
    if ctx.role == "assessor" and conflict_of_interest(ctx.actor.organization_id, ctx.app):
        raise ConflictOfInterest()


def in_phase(ctx: Context) -> None:
    """Within the rule's window of the round's calendar, or on a day the office excepted."""
    rule, r, on = ctx.rule, ctx.round, ctx.today
    assert rule.window is not None
    if rounds.window_open(r, rule.window, on) or any(
        e.action == rule.action and e.application_id in (None, ctx.app.id) and e.on_date == on
        for e in ctx.facts.exceptions
    ):
        return
    start, end = (getattr(r, column) for column in rounds.WINDOWS[rule.window])
    raise OutsidePhase(
        f"{rule.action} is open from {start} to {end} / {rule.action} 的办理时间为 {start} 至 {end}"
    )


# ---- the table --------------------------------------------------------------------------------


S, A = Status, Action
TABLE: tuple[Rule[Context], ...] = (
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


# ---- facts about an application that the rules need -------------------------------------------


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
    round_rows, exceptions = phase_exceptions.rounds_and_exceptions_on(session, round_ids, on)
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


def _facts_of(session: Session, app: Application, on: date) -> Facts:
    return load_facts(session, [app], on)[app.id or 0]


def acting_role(actor: Actor, roles: tuple[str, ...], app: Application, facts: Facts) -> str | None:
    """The role in which `actor` may act on `app`, or None (the first of `roles` that fits)."""
    for role in roles:
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


def _event(ctx: Context, from_state: str) -> tuple[dict[str, Any], list[int]]:
    app = ctx.app
    payload = {
        "id": app.id, "round_id": app.round_id, "action": str(ctx.rule.action), "from": from_state,
        "to": app.status, "applicant_id": app.applicant_id, "recommender_id": app.recommender_id,
        "name": app.name, "plaque_no": app.plaque_no,
    }  # fmt: skip
    return payload, [ctx.facts.applicant_org_id, app.recommender_id]


MACHINE: Machine[Application, Facts, Context] = Machine(
    object_type="application",
    rules=TABLE,
    lock=repository.lock,
    facts=_facts_of,
    context=Context,
    acting_role=acting_role,
    event=_event,
    checks=(not_conflicted, in_phase),
    effects=(keep_live_key,),
)


def changes_quotas(action: str) -> bool:
    """Whether some rule of `action` consumes or releases a quota (a batch of it locks quotas)."""
    return any(
        str(rule.action) == str(action) and {consume_quota, release_quota} & set(rule.effects)
        for rule in MACHINE.rules
    )

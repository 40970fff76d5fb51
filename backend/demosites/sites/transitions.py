"""The state machine of sites (示范点): ONE table, and ONE function that performs every change.

Every change, in one database transaction: lock the row, check role, state, the rule's checks
(state facts) and guards (the payload), apply its effects (inspection outcome, rectification,
report, delisting), write the new state, ONE history row (object_type "site") and ONE outbox
event. `allowed_actions` runs the same role, state and checks, so what the API offers is what
it accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY, IfMatch
from demosites.core.errors import DomainError, Forbidden, ValidationFailed
from demosites.events import service as events
from demosites.files.service import files_of
from demosites.rounds import service as rounds
from demosites.sites import repository
from demosites.sites.errors import (
    DeadlinePassed,
    DelistNotAllowed,
    InspectionNotFound,
    InspectionRecorded,
    InvalidDeadline,
    NoReport,
    ReportPending,
)
from demosites.sites.models import (
    DelistReason,
    Inspection,
    Rectification,
    RectificationStatus,
    Site,
    SiteAction,
    SiteStatus,
)
from demosites.sites.schemas import SiteTransitionRequest
from demosites.statemachine.errors import InvalidTransition

# The same advisory lock audit.service takes for the history chain: taken first, before the row
# lock, so a site change and an application change never deadlock (see applications).
_HISTORY_LOCK = 7424001


@dataclass
class Context:
    """What checks, guards and effects of one transition see; `data` goes into the history row."""

    session: Session
    actor: Actor
    site: Site
    payload: SiteTransitionRequest
    today: date
    rectification: Rectification | None
    inspection: Inspection | None = None
    data: dict[str, Any] = field(default_factory=dict)


Step = Callable[[Context], None]


# ---- checks: facts of the site, also evaluated for allowed_actions ---------------------------


def awaiting_report(ctx: Context) -> None:
    r = ctx.rectification
    if r is None:
        raise NoReport("No open rectification / 没有进行中的整改")
    if r.status == RectificationStatus.submitted:
        raise ReportPending()


def before_deadline(ctx: Context) -> None:
    r = ctx.rectification
    if r is not None and ctx.today > r.deadline:
        raise DeadlinePassed(f"The deadline was {r.deadline} / 整改期限为 {r.deadline}，已逾期")


def report_submitted(ctx: Context) -> None:
    r = ctx.rectification
    if r is None or r.status != RectificationStatus.submitted:
        raise NoReport()


# ---- guards: the payload ---------------------------------------------------------------------


def _inspection(ctx: Context, required: bool) -> None:
    iid = ctx.payload.inspection_id
    if iid is None:
        if required:
            raise ValidationFailed("Name the inspection (inspection_id) / 请指明检查或复核")
        return
    insp = repository.open_inspection(ctx.session, ctx.site.id or 0, iid)
    if insp is None:
        raise InspectionNotFound(f"Site {ctx.site.id} has no inspection {iid} / 该示范点无此检查")
    if insp.outcome is not None:
        raise InspectionRecorded(f"Recorded as {insp.outcome} / 已登记为 {insp.outcome}")
    ctx.inspection = insp
    ctx.data.update(inspection_id=insp.id, kind=insp.kind, year=insp.year)


def inspection_required(ctx: Context) -> None:
    _inspection(ctx, required=True)


def inspection_optional(ctx: Context) -> None:
    _inspection(ctx, required=False)


def deadline_and_findings(ctx: Context) -> None:
    p = ctx.payload
    if not (p.findings or "").strip():
        raise ValidationFailed("Say what must be rectified (findings) / 请填写整改要求")
    if p.deadline is None or p.deadline <= ctx.today:
        raise InvalidDeadline(
            f"Deadline {p.deadline} is not after {ctx.today} / 整改期限须晚于今天"
        )


def report_given(ctx: Context) -> None:
    if not (ctx.payload.report or "").strip():
        raise ValidationFailed("Write the rectification report (report) / 请填写整改报告")


def delist_reason_applies(ctx: Context) -> None:
    """意识形态督查 and 重大负面舆情 delist at once; 整改不到位 only after a rectify outcome, when
    the office refused the report or the deadline passed with no accepted report."""
    reason = ctx.payload.reason
    if reason is None:
        raise ValidationFailed("Give the delisting reason (reason) / 请选择摘牌理由")
    ctx.data["reason"] = str(reason)
    if reason != DelistReason.rectification_failed:
        return
    r = ctx.rectification
    if ctx.site.status != SiteStatus.rectifying or r is None:
        raise DelistNotAllowed(
            "rectification_failed needs a site under rectification / 仅限期整改中的示范点可因整改不到位摘牌"
        )
    if r.status != RectificationStatus.refused and ctx.today <= r.deadline:
        raise DelistNotAllowed(
            f"The rectification runs until {r.deadline} and no report was refused / "
            f"整改期限 {r.deadline} 未到且整改报告未被认定不到位"
        )
    ctx.data.update(rectification_id=r.id, deadline=str(r.deadline), rectification_status=r.status)


def later_round(ctx: Context) -> None:
    """A round after the site's own confirms it (sites carry over from round to round)."""
    rid = ctx.payload.round_id
    if rid is None:
        raise ValidationFailed("Name the confirming round (round_id) / 请指明确认的创建轮次")
    confirming = rounds.get_round(ctx.session, rid)
    own = rounds.get_round(ctx.session, ctx.site.round_id)
    if confirming.year <= own.year:
        raise ValidationFailed(
            f"Round {confirming.year} is not after the site's {own.year} / 确认轮次须晚于授牌轮次"
        )
    ctx.data.update(round_id=confirming.id, year=confirming.year)


# ---- effects -------------------------------------------------------------------------------


def _close_inspection(ctx: Context, outcome: str) -> None:
    insp = ctx.inspection
    if insp is None:
        return
    insp.outcome = outcome
    insp.findings = (ctx.payload.findings or "").strip() or None
    insp.inspected_on = ctx.payload.inspected_on or ctx.today
    insp.recorded_at = clock.now()
    ctx.session.add(insp)
    ctx.data["inspected_on"] = str(insp.inspected_on)


def record_pass(ctx: Context) -> None:
    _close_inspection(ctx, "pass")


def open_rectification(ctx: Context) -> None:
    _close_inspection(ctx, "rectify")
    p = ctx.payload
    assert p.deadline is not None and p.findings is not None
    rect = Rectification(
        site_id=ctx.site.id or 0, inspection_id=ctx.inspection.id if ctx.inspection else None,
        findings=p.findings.strip(), deadline=p.deadline, created_at=clock.now(),
    )  # fmt: skip
    ctx.session.add(rect)
    ctx.session.flush()
    ctx.data.update(rectification_id=rect.id, deadline=str(rect.deadline), findings=rect.findings)


def store_report(ctx: Context) -> None:
    r = ctx.rectification
    assert r is not None and ctx.payload.report is not None
    r.report = ctx.payload.report.strip()
    r.report_submitted_at = clock.now()
    r.status = RectificationStatus.submitted
    ctx.session.add(r)
    evidence = [f.id for f in files_of(ctx.session, "rectification", r.id or 0)]
    ctx.data.update(rectification_id=r.id, report=r.report, evidence_file_ids=evidence)


def _decide(ctx: Context, status: RectificationStatus) -> None:
    r = ctx.rectification
    assert r is not None
    r.status = status
    r.decision_opinion = (ctx.payload.opinion or "").strip() or None
    r.decided_at = clock.now()
    ctx.session.add(r)
    ctx.data.update(rectification_id=r.id, decision=str(status))


def accept(ctx: Context) -> None:
    _decide(ctx, RectificationStatus.accepted)


def refuse(ctx: Context) -> None:
    _decide(ctx, RectificationStatus.refused)


def delist(ctx: Context) -> None:
    _close_inspection(ctx, "delist")
    ctx.site.delist_reason = ctx.payload.reason
    ctx.site.delisted_on = ctx.today
    r = ctx.rectification
    if r is not None:  # a delisted site rectifies nothing any more
        r.status = RectificationStatus.failed
        r.decided_at = clock.now()
        ctx.session.add(r)
        ctx.data.setdefault("rectification_id", r.id)


# ---- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    action: SiteAction
    source: SiteStatus
    target: SiteStatus
    roles: tuple[str, ...]  # "applicant" means the site's own people
    needs_opinion: bool = False
    checks: tuple[Step, ...] = ()
    guards: tuple[Step, ...] = ()
    effects: tuple[Step, ...] = ()


S, A = SiteStatus, SiteAction
_DELIST = dict(
    roles=("office",),
    needs_opinion=True,
    guards=(delist_reason_applies, inspection_optional),
    effects=(delist,),
)
TABLE: tuple[Rule, ...] = (
    Rule(A.pass_, S.active, S.active, ("office",), guards=(inspection_required,), effects=(record_pass,)),
    Rule(A.pass_, S.rectifying, S.rectifying, ("office",), guards=(inspection_required,), effects=(record_pass,)),
    Rule(A.rectify, S.active, S.rectifying, ("office",), guards=(inspection_required, deadline_and_findings),
         effects=(open_rectification,)),
    Rule(A.submit_report, S.rectifying, S.rectifying, ("applicant",), checks=(awaiting_report, before_deadline),
         guards=(report_given,), effects=(store_report,)),
    Rule(A.accept_report, S.rectifying, S.active, ("office",), checks=(report_submitted,), effects=(accept,)),
    Rule(A.refuse_report, S.rectifying, S.rectifying, ("office",), needs_opinion=True, checks=(report_submitted,),
         effects=(refuse,)),
    Rule(A.confirm, S.active, S.active, ("office",), guards=(later_round,)),
    Rule(A.delist, S.active, S.delisted, **_DELIST),  # type: ignore[arg-type]
    Rule(A.delist, S.rectifying, S.delisted, **_DELIST),  # type: ignore[arg-type]
)  # fmt: skip
RULES: dict[tuple[str, str], Rule] = {(str(r.source), str(r.action)): r for r in TABLE}
assert len(RULES) == len(TABLE), "one rule per (state, action)"
ACTIONS = {str(r.action): r.roles for r in TABLE}


def acting_role(actor: Actor, roles: tuple[str, ...], site: Site) -> str | None:
    """The role in which `actor` may act on `site` (the first that fits), or None."""
    for role in roles:
        if not actor.has(role):
            continue
        if role == "applicant" and site.organization_id != actor.organization_id:
            continue
        return role
    return None


def allowed_actions(
    session: Session, actor: Actor, site: Site, rectification: Rectification | None, today: date
) -> list[str]:
    out: list[str] = []
    for rule in TABLE:
        if rule.source != site.status or str(rule.action) in out:
            continue
        if acting_role(actor, rule.roles, site) is None:
            continue
        ctx = Context(
            session, actor, site, SiteTransitionRequest(action=rule.action), today, rectification
        )
        try:
            for check in rule.checks:
                check(ctx)
        except DomainError:
            continue
        out.append(str(rule.action))
    return out


def _serialise_history_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_HISTORY_LOCK})"))


def transition(
    session: Session,
    actor: Actor,
    site: Site,
    payload: SiteTransitionRequest,
    if_match: IfMatch = ANY,
) -> Site:
    """Performs `payload.action` on `site` (already found through readable_by) or raises:
    403 forbidden (role), 409 invalid_transition (state), then the rule's own codes."""
    action = str(payload.action)
    if action not in ACTIONS:
        raise ValidationFailed(f"Unknown action {action} / 未知操作")
    _serialise_history_writers(session)
    row = repository.lock(session, site.id or 0)
    if_match.check(row.version)
    role = acting_role(actor, ACTIONS[action], row)
    if role is None:
        raise Forbidden(
            f"{action}: requires role / 需要角色 {' or '.join(ACTIONS[action])} for this site"
        )
    rule = RULES.get((row.status, action))
    if rule is None:
        raise InvalidTransition(
            f"{action} is not possible while the site is {row.status} / 示范点当前状态为 {row.status}，不能{action}"
        )
    opinion = (payload.opinion or "").strip() or None
    if rule.needs_opinion and opinion is None:
        raise ValidationFailed(f"{action} needs an opinion / 请填写意见")
    today = clock.today()
    rect = repository.open_rectifications(session, [row.id or 0]).get(row.id or 0)
    ctx = Context(session, actor, row, payload, today, rect)
    for step in (*rule.checks, *rule.guards, *rule.effects):
        step(ctx)
    from_state = row.status
    row.status = rule.target
    row.version += 1
    row.updated_at = clock.now()
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "site", row.id or 0, action, from_state=from_state, to_state=row.status,
        role=role, opinion=opinion, data=ctx.data or None,
    )  # fmt: skip
    event = f"site.{row.status}" if row.status != from_state else f"site.{action}"
    events.emit(
        session, event, "site", row.id or 0,
        {"id": row.id, "action": action, "from": from_state, "to": row.status, "plaque_no": row.plaque_no,
         "name": row.name, "round_id": row.round_id, **{k: v for k, v in ctx.data.items() if k != "report"}},
        organization_ids=[row.organization_id],
    )  # fmt: skip
    return row

"""The state machine of sites (示范点) and their rectifications (限期整改): ONE table, its checks,
guards and effects.

The engine (demosites.statemachine) performs every change the same way: lock the row, check the
role, the state, the rule's checks (facts of the site, also run for `allowed_actions`), the
opinion and the guards (the request); apply the effects (inspection outcome, rectification,
report, delisting); write the new state, ONE history row (object_type "site") and ONE outbox
event. A rectification has no table of its own: its states move only with the site's actions
(`rectify` opens it; `submit_report`, `accept_report`, `refuse_report` and `delist` decide it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.errors import ValidationFailed
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
from demosites.statemachine.engine import Change, Machine, Rule


@dataclass
class Context(Change[Site, Rectification | None, SiteTransitionRequest]):
    """What checks, guards and effects of one transition see: the site, its open rectification
    (the facts) and the inspection a guard found; `data` goes into the history row."""

    inspection: Inspection | None = None

    @property
    def site(self) -> Site:
        return self.obj

    @property
    def rectification(self) -> Rectification | None:
        return self.facts


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
    iid = ctx.request.inspection_id
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
    p = ctx.request
    if not (p.findings or "").strip():
        raise ValidationFailed("Say what must be rectified (findings) / 请填写整改要求")
    if p.deadline is None or p.deadline <= ctx.today:
        raise InvalidDeadline(
            f"Deadline {p.deadline} is not after {ctx.today} / 整改期限须晚于今天"
        )


def report_given(ctx: Context) -> None:
    if not (ctx.request.report or "").strip():
        raise ValidationFailed("Write the rectification report (report) / 请填写整改报告")


def delist_reason_applies(ctx: Context) -> None:
    """意识形态督查 and 重大负面舆情 delist at once; 整改不到位 only after a rectify outcome, when
    the office refused the report or the deadline passed with no accepted report."""
    reason = ctx.request.reason
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
    rid = ctx.request.round_id
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
    insp.findings = (ctx.request.findings or "").strip() or None
    insp.inspected_on = ctx.request.inspected_on or ctx.today
    insp.recorded_at = clock.now()
    ctx.session.add(insp)
    ctx.data["inspected_on"] = str(insp.inspected_on)


def record_pass(ctx: Context) -> None:
    _close_inspection(ctx, "pass")


def open_rectification(ctx: Context) -> None:
    _close_inspection(ctx, "rectify")
    p = ctx.request
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
    assert r is not None and ctx.request.report is not None
    r.report = ctx.request.report.strip()
    r.report_submitted_at = clock.now()
    r.status = RectificationStatus.submitted
    ctx.session.add(r)
    evidence = [f.id for f in files_of(ctx.session, "rectification", r.id or 0)]
    ctx.data.update(rectification_id=r.id, report=r.report, evidence_file_ids=evidence)


def _decide(ctx: Context, status: RectificationStatus) -> None:
    r = ctx.rectification
    assert r is not None
    r.status = status
    r.decision_opinion = (ctx.request.opinion or "").strip() or None
    r.decided_at = clock.now()
    ctx.session.add(r)
    ctx.data.update(rectification_id=r.id, decision=str(status))


def accept(ctx: Context) -> None:
    _decide(ctx, RectificationStatus.accepted)


def refuse(ctx: Context) -> None:
    _decide(ctx, RectificationStatus.refused)


def delist(ctx: Context) -> None:
    _close_inspection(ctx, "delist")
    ctx.site.delist_reason = ctx.request.reason
    ctx.site.delisted_on = ctx.today
    r = ctx.rectification
    if r is not None:  # a delisted site rectifies nothing any more
        r.status = RectificationStatus.failed
        r.decided_at = clock.now()
        ctx.session.add(r)
        ctx.data.setdefault("rectification_id", r.id)


# ---- the table -------------------------------------------------------------------------------


S, A = SiteStatus, SiteAction
TABLE: tuple[Rule[Context], ...] = (
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
    Rule(A.delist, (S.active, S.rectifying), S.delisted, ("office",), needs_opinion=True,
         guards=(delist_reason_applies, inspection_optional), effects=(delist,)),
)  # fmt: skip


def acting_role(
    actor: Actor, roles: tuple[str, ...], site: Site, facts: object = None
) -> str | None:
    """The role in which `actor` may act on `site` (the first that fits), or None. "applicant"
    means the site's own people; the site alone tells who they are (`facts` are not needed)."""
    for role in roles:
        if not actor.has(role):
            continue
        if role == "applicant" and site.organization_id != actor.organization_id:
            continue
        return role
    return None


def _open_rectification(session: Session, site: Site, _today: object) -> Rectification | None:
    return repository.open_rectifications(session, [site.id or 0]).get(site.id or 0)


def _event(ctx: Context, from_state: str) -> tuple[dict[str, Any], list[int]]:
    site = ctx.site
    payload = {
        "id": site.id, "action": str(ctx.rule.action), "from": from_state, "to": site.status,
        "plaque_no": site.plaque_no, "name": site.name, "round_id": site.round_id,
        **{k: v for k, v in ctx.data.items() if k != "report"},
    }  # fmt: skip
    return payload, [site.organization_id]


MACHINE: Machine[Site, Rectification | None, Context] = Machine(
    object_type="site",
    rules=TABLE,
    lock=repository.lock,
    facts=_open_rectification,
    context=Context,
    acting_role=acting_role,
    event=_event,
    noun_zh="示范点",
)

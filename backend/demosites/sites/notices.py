"""公示 (public notice) before awarding: the office opens it for the round's approved list,
anyone may object, the office investigates (the objection's own table, performed by the engine);
an open objection blocks `award` and an upheld one ends the application (`uphold_objection` →
approval_rejected) through the workflow's own table."""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications import transitions as workflow
from demosites.applications.models import Action, Application, Status
from demosites.applications.schemas import TransitionRequest
from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import IfMatch
from demosites.core.errors import ValidationFailed
from demosites.events import service as events
from demosites.rounds import service as rounds
from demosites.sites.errors import (
    NothingToNotify,
    NoticeClosed,
    NoticeExists,
    NoticeNotFound,
    NoticeRunning,
    NotInNotice,
    ObjectionDecided,
    ObjectionNotFound,
    ObjectionOpen,
    ObjectionRateLimited,
)
from demosites.sites.models import (
    Objection,
    ObjectionAction,
    ObjectionStatus,
    PublicNotice,
    PublicNoticeEntry,
)
from demosites.sites.schemas import (
    NoticeCreate,
    NoticeEntryRead,
    NoticeRead,
    NoticeUpdate,
    ObjectionCreate,
    ObjectionRead,
    ObjectionResult,
)
from demosites.statemachine.engine import Change, Machine, Rule
from demosites.statemachine.errors import InvalidTransition

# Objections a single client address may file per hour (kept in the database, so it holds
# across workers and restarts).
OBJECTIONS_PER_HOUR = 3

PUBLIC = Actor(
    user_id=None, username="public", display_name="公众 / the public", organization_id=0,
    organization_name="公众", organization_city=None, roles=frozenset(), kind="public",
)  # fmt: skip


def add_working_days(start: date, days: int) -> date:
    """The last day of a period of `days` working days (Mon–Fri) beginning on `start`
    (`start` counts when it is a working day; weekends are skipped)."""
    d, counted = start, 0
    while True:
        if d.weekday() < 5:
            counted += 1
            if counted == days:
                return d
        d += timedelta(days=1)


def notice_of(session: Session, round_id: int) -> PublicNotice | None:
    return session.exec(select(PublicNotice).where(PublicNotice.round_id == round_id)).first()


def _running(n: PublicNotice, today: date) -> bool:
    return n.enabled and n.starts_on <= today <= n.ends_on


def _open_objections(session: Session, application_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Objection)
            .where(
                Objection.application_id == application_id, Objection.status == ObjectionStatus.open
            )
        ).one()
    )


# ---- the office ------------------------------------------------------------------------------


def _entries(session: Session, notice_id: int) -> list[tuple[Application, ApplicantUnit]]:
    rows = session.exec(
        select(Application, ApplicantUnit)
        .join(PublicNoticeEntry, col(PublicNoticeEntry.application_id) == Application.id)
        .join(ApplicantUnit, col(ApplicantUnit.id) == Application.applicant_id)
        .where(PublicNoticeEntry.notice_id == notice_id)
        .order_by(col(Application.id))
    ).all()
    return [(a, u) for a, u in rows]


def notice_read(session: Session, n: PublicNotice) -> NoticeRead:
    open_count = session.exec(
        select(func.count())
        .select_from(Objection)
        .where(Objection.notice_id == n.id, Objection.status == ObjectionStatus.open)
    ).one()
    return NoticeRead(
        id=n.id or 0, round_id=n.round_id, enabled=n.enabled, working_days=n.working_days,
        starts_on=n.starts_on, ends_on=n.ends_on, running=_running(n, clock.today()),
        entries=[
            NoticeEntryRead(application_id=a.id or 0, name=a.name, unit_name=u.name, city=a.city,
                            field=a.field, summary=a.summary, status=a.status)  # type: ignore[arg-type]
            for a, u in _entries(session, n.id or 0)
        ],
        open_objections=int(open_count), version=n.version, created_at=n.created_at,
    )  # fmt: skip


def get_notice(session: Session, round_id: int) -> PublicNotice:
    rounds.get_round(session, round_id)
    n = notice_of(session, round_id)
    if n is None:
        raise NoticeNotFound(f"Round {round_id} has no public notice / 本轮尚未发布公示")
    return n


def open_notice(session: Session, actor: Actor, round_id: int, data: NoticeCreate) -> PublicNotice:
    """Publishes the round's approved applications for `working_days` working days."""
    rounds.get_round(session, round_id, for_update=True)  # one notice per round, also when racing
    if notice_of(session, round_id) is not None:
        raise NoticeExists()
    today = clock.today()
    starts_on = data.starts_on or today
    if starts_on < today:
        raise ValidationFailed("The notice cannot start in the past / 公示开始日期不能早于今天")
    apps = session.exec(
        select(Application).where(Application.round_id == round_id, Application.status == Status.approved)
        .order_by(col(Application.id))
    ).all()  # fmt: skip
    if not apps:
        raise NothingToNotify()
    now = clock.now()
    n = PublicNotice(
        round_id=round_id, enabled=True, working_days=data.working_days, starts_on=starts_on,
        ends_on=add_working_days(starts_on, data.working_days), created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(n)
    session.flush()
    for a in apps:
        session.add(PublicNoticeEntry(notice_id=n.id or 0, application_id=a.id or 0))
    session.flush()
    ids = [a.id for a in apps]
    audit.record(
        session, actor, "round", round_id, "open_public_notice", role="office",
        data={"notice_id": n.id, "starts_on": str(n.starts_on), "ends_on": str(n.ends_on),
              "working_days": n.working_days, "application_ids": ids},
    )  # fmt: skip
    events.emit(
        session, "public_notice.opened", "public_notice", n.id or 0,
        {"id": n.id, "round_id": round_id, "starts_on": str(n.starts_on), "ends_on": str(n.ends_on),
         "application_ids": ids},
    )  # fmt: skip
    return n


def update_notice(
    session: Session, actor: Actor, round_id: int, data: NoticeUpdate, if_match: IfMatch
) -> PublicNotice:
    """Switches the notice on or off for the round (the reason stays in the round's history)."""
    n = get_notice(session, round_id)
    n = session.exec(
        select(PublicNotice)
        .where(PublicNotice.id == n.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if_match.check(n.version)
    if n.enabled == data.enabled:
        return n
    n.enabled = data.enabled
    n.version += 1
    n.updated_at = clock.now()
    session.add(n)
    session.flush()
    audit.record(
        session, actor, "round", round_id, "enable_public_notice" if n.enabled else "disable_public_notice",
        role="office", opinion=data.reason, data={"notice_id": n.id},
    )  # fmt: skip
    return n


def _objection_reads(session: Session, rows: list[Objection]) -> list[ObjectionRead]:
    names = dict(
        session.exec(select(Application.id, Application.name).where(col(Application.id).in_({o.application_id for o in rows}))).all()
    ) if rows else {}  # fmt: skip
    return [
        ObjectionRead(
            id=o.id or 0,
            notice_id=o.notice_id,
            application_id=o.application_id,
            application_name=names.get(o.application_id, ""),
            name=o.name,
            contact=o.contact,
            content=o.content,
            status=o.status,
            investigation=o.investigation,
            decided_at=o.decided_at,
            created_at=o.created_at,  # type: ignore[arg-type]
        )  # fmt: skip
        for o in rows
    ]


def list_objections(
    session: Session, round_id: int, status: ObjectionStatus | None
) -> list[ObjectionRead]:
    n = get_notice(session, round_id)
    stmt = select(Objection).where(Objection.notice_id == n.id)
    if status is not None:
        stmt = stmt.where(Objection.status == status)
    return _objection_reads(session, list(session.exec(stmt.order_by(col(Objection.id)))))


def _lock_objection(session: Session, objection_id: int) -> Objection:
    o = session.exec(
        select(Objection)
        .where(Objection.id == objection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if o is None:
        raise ObjectionNotFound()
    return o


ObjectionChange = Change[Objection, None, ObjectionResult]


def record_investigation(ctx: ObjectionChange) -> None:
    o = ctx.obj
    o.investigation = ctx.request.investigation
    o.decided_by = ctx.actor.user_id
    o.decided_at = clock.now()
    ctx.data.update(application_id=o.application_id, notice_id=o.notice_id)


def _objection_event(ctx: ObjectionChange, from_state: str) -> tuple[dict[str, Any], list[int]]:
    o = ctx.obj
    payload = {
        "id": o.id, "notice_id": o.notice_id, "application_id": o.application_id,
        "action": str(ctx.rule.action), "from": from_state, "to": o.status,
    }  # fmt: skip
    return payload, []


def _no_facts(_session: Session, _o: Objection, _today: date) -> None:
    return None


def _office(actor: Actor, roles: tuple[str, ...], _o: Objection, _facts: None) -> str | None:
    return actor.role_for(*roles)


# The office's finding on an objection: open → upheld or dismissed, once (objection_decided).
OBJECTIONS: Machine[Objection, None, ObjectionChange] = Machine(
    object_type="objection",
    rules=(
        Rule(
            ObjectionAction.uphold,
            ObjectionStatus.open,
            ObjectionStatus.upheld,
            ("office",),
            needs_opinion=True,
            effects=(record_investigation,),
        ),
        Rule(
            ObjectionAction.dismiss,
            ObjectionStatus.open,
            ObjectionStatus.dismissed,
            ("office",),
            needs_opinion=True,
            effects=(record_investigation,),
        ),
    ),  # fmt: skip
    lock=_lock_objection,
    facts=_no_facts,
    context=ObjectionChange,
    acting_role=_office,
    event=_objection_event,
    versioned=False,
    invalid=ObjectionDecided,
    noun_zh="异议",
)
FINDINGS = {
    ObjectionStatus.upheld: ObjectionAction.uphold,
    ObjectionStatus.dismissed: ObjectionAction.dismiss,
}


def decide_objection(
    session: Session, actor: Actor, objection_id: int, data: ObjectionResult
) -> ObjectionRead:
    """Records the investigation and its result; an upheld objection ends the application
    through the workflow's `uphold_objection` (approved → approval_rejected)."""
    o = OBJECTIONS.perform(
        session, actor, objection_id, FINDINGS[data.result], data,
        opinion=data.investigation,
    )  # fmt: skip
    if o.status == ObjectionStatus.upheld:
        workflow.MACHINE.perform(
            session, actor, o.application_id, Action.uphold_objection,
            TransitionRequest(action=Action.uphold_objection, opinion=data.investigation),
            opinion=data.investigation,
        )  # fmt: skip
    return _objection_reads(session, [o])[0]


# ---- the public ------------------------------------------------------------------------------


def file_objection(
    session: Session, notice_id: int, data: ObjectionCreate, client_address: str
) -> Objection:
    """Anyone may object while the notice runs; at most OBJECTIONS_PER_HOUR per client address."""
    n = session.get(PublicNotice, notice_id)
    if n is None or not n.enabled:
        raise NoticeNotFound()
    today = clock.today()
    if not _running(n, today):
        raise NoticeClosed(
            f"The notice runs {n.starts_on} – {n.ends_on} / 公示期为 {n.starts_on} 至 {n.ends_on}"
        )
    listed = session.exec(
        select(PublicNoticeEntry.id).where(
            PublicNoticeEntry.notice_id == n.id,
            PublicNoticeEntry.application_id == data.application_id,
        )
    ).first()
    if listed is None:
        raise ValidationFailed("This application is not on the notice / 该申报不在公示名单中")
    address = client_address[:64]
    if session.get_bind().dialect.name == "postgresql":
        # Two objections from one address at once must not both slip under the limit.
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(address.encode()) + 7425000}
        )
    now = clock.now()
    recent = session.exec(
        select(func.count())
        .select_from(Objection)
        .where(Objection.client_address == address, Objection.created_at > now - timedelta(hours=1))
    ).one()
    if recent >= OBJECTIONS_PER_HOUR:
        raise ObjectionRateLimited(retry_after=3600)
    o = Objection(
        notice_id=n.id or 0, application_id=data.application_id, name=data.name, contact=data.contact,
        content=data.content, client_address=address, created_at=now,
    )  # fmt: skip
    session.add(o)
    session.flush()
    audit.record(
        session, PUBLIC, "objection", o.id or 0, "file", to_state=o.status,
        data={"application_id": o.application_id, "notice_id": n.id},
    )  # fmt: skip
    events.emit(
        session, "objection.filed", "objection", o.id or 0,
        {"id": o.id, "notice_id": n.id, "application_id": o.application_id},
    )  # fmt: skip
    return o


# ---- guards the workflow calls (registered at start-up: demosites.wiring) ---------------------


def award_allowed(ctx: workflow.Context) -> None:
    """`award` waits for the notice to end and for every objection to be decided."""
    app = ctx.app
    if _open_objections(ctx.session, app.id or 0):
        raise ObjectionOpen()
    n = notice_of(ctx.session, app.round_id)
    if n is None or not n.enabled:
        return
    listed = ctx.session.exec(
        select(PublicNoticeEntry.id).where(
            PublicNoticeEntry.notice_id == n.id, PublicNoticeEntry.application_id == app.id
        )
    ).first()
    if listed is None:
        raise NotInNotice()
    if ctx.today <= n.ends_on:
        raise NoticeRunning(f"The notice ends on {n.ends_on} / 公示期至 {n.ends_on}")
    ctx.data["public_notice_id"] = n.id


def objection_upheld(ctx: workflow.Context) -> None:
    """`uphold_objection` only on an objection the office found upheld: its reason goes into
    the application's history."""
    o = ctx.session.exec(
        select(Objection)
        .where(Objection.application_id == ctx.app.id, Objection.status == ObjectionStatus.upheld)
        .order_by(col(Objection.decided_at).desc(), col(Objection.id).desc())
    ).first()
    if o is None:
        raise InvalidTransition(
            "uphold_objection needs an objection found upheld (POST /api/v1/objections/{id}/result) / "
            "须先登记异议调查结果为成立"
        )
    ctx.data.update(objection_id=o.id, objection=o.content, investigation=o.investigation)

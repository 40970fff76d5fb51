"""Rules of rounds: the calendar and its phases, quota rules and eligibility, meetings."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantKind, ApplicantUnit, Ownership
from demosites.audit import service as audit
from demosites.audit.models import HistoryEntry
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import IfMatch
from demosites.events import service as events
from demosites.organizations.models import CITIES, CITY_CODES, Organization
from demosites.organizations.service import get_org_by_code
from demosites.rounds.errors import (
    DuplicateQuota,
    DuplicateRound,
    InvalidWindows,
    MeetingNotFound,
    NotARecommender,
    QuotaNotFound,
    QuotaRulesLocked,
    ReasonRequired,
    RoundNotFound,
)
from demosites.rounds.models import (
    FIELDS,
    WINDOW_COLUMNS,
    Meeting,
    Phase,
    Quota,
    Round,
)
from demosites.rounds.schemas import (
    MeetingCreate,
    QuotaCreate,
    QuotaRead,
    QuotaUpdate,
    RoundCreate,
    RoundRead,
    RoundUpdate,
)

# The windows in which actions may happen (start column, end column), inclusive.
WINDOWS: dict[str, tuple[str, str]] = {
    "application": ("application_start", "application_end"),  # submit
    "recommendation": ("application_start", "materials_deadline"),  # return, decline, recommend…
    "assessment": ("assessment_start", "assessment_end"),  # 初审, 考核, 评审, 部务会
    "awarding": ("awarding_start", "awarding_end"),  # 授牌
    "publicity": ("publicity_start", "publicity_end"),
    "notice": (
        "assessment_start",
        "awarding_end",
    ),  # 公示 after approval until the award (uphold_objection)
}

# The notice's default rules (domain.md §2); a new round copies them.
CITY_KINDS = {
    "school": ["primary_school", "university_unit"],
    "enterprise": ["enterprise"],
    "community": ["community"],
    "rural": ["village"],
}
PROVINCIAL_RULES = (
    # recommender code, field, limit, eligibility
    ("edu", "school", 10, {"kinds": ["university_unit"], "provincial_university": True}),
    ("sasac", "enterprise", 5, {"kinds": ["enterprise"], "ownership": ["provincial_soe"]}),
    ("fic", "enterprise", 5, {"kinds": ["enterprise"], "ownership": ["private"]}),
)


def today() -> date:
    return clock.today()


# ---- the calendar -------------------------------------------------------------------------


def current_phase(r: Round, on: date) -> Phase:
    if on < r.application_start:
        return Phase.not_started
    steps = (
        (r.materials_deadline, Phase.application),
        (r.assessment_start, None),
        (r.assessment_end, Phase.assessment),
        (r.awarding_start, None),
        (r.awarding_end, Phase.awarding),
        (r.publicity_start, None),
        (r.publicity_end, Phase.publicity),
    )
    for limit, phase in steps:
        if phase is None and on < limit:
            return Phase.between_phases
        if phase is not None and on <= limit:
            return phase
    return Phase.ended


def window_open(r: Round, window: str, on: date) -> bool:
    start, end = WINDOWS[window]
    return bool(getattr(r, start) <= on <= getattr(r, end))


def quota_rules_editable(r: Round, on: date) -> bool:
    return on < r.application_start


def _check_windows(values: dict[str, date]) -> None:
    """Windows in order and never overlapping; names the first pair that is not."""
    strict = {"assessment_start", "awarding_start", "publicity_start"}  # a new phase starts after
    for before, after in zip(WINDOW_COLUMNS, WINDOW_COLUMNS[1:], strict=False):
        a, b = values[before], values[after]
        if (after in strict and not a < b) or (after not in strict and not a <= b):
            raise InvalidWindows(
                f"{after} ({b}) must be {'after' if after in strict else 'on or after'} {before} ({a}) / "
                f"{after} 须{'晚于' if after in strict else '不早于'} {before}"
            )


def round_read(r: Round, on: date | None = None) -> RoundRead:
    on = on or today()
    return RoundRead(
        **r.model_dump(exclude={"id"}),
        id=r.id or 0,
        current_phase=current_phase(r, on),
        quota_rules_editable=quota_rules_editable(r, on),
    )


def get_round(session: Session, round_id: int, for_update: bool = False) -> Round:
    stmt = select(Round).where(Round.id == round_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    r = session.exec(stmt).first()
    if r is None:
        raise RoundNotFound(f"Round {round_id} not found / 未找到创建轮次 {round_id}")
    return r


def list_rounds(session: Session, limit: int, offset: int) -> tuple[list[Round], int]:
    total = session.exec(select(func.count()).select_from(Round)).one()
    rows = session.exec(
        select(Round).order_by(col(Round.year).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def default_quota_rules(session: Session) -> list[tuple[Organization, str, int, dict[str, Any]]]:
    rules: list[tuple[Organization, str, int, dict[str, Any]]] = []
    for city in CITIES:
        org = get_org_by_code(session, CITY_CODES[city])
        if org is None:
            continue
        for field in FIELDS:
            rules.append(
                (org, field, 1, {"scope": "own_city", "kinds": CITY_KINDS[field],
                                 "exclude": ["provincial_university", "provincial_soe"]})
            )  # fmt: skip
    for code, field, limit, eligibility in PROVINCIAL_RULES:
        org = get_org_by_code(session, code)
        if org is not None:
            rules.append((org, field, limit, dict(eligibility)))
    return rules


def create_round(session: Session, actor: Actor, data: RoundCreate) -> Round:
    values = data.model_dump()
    _check_windows({k: values[k] for k in WINDOW_COLUMNS})
    if session.exec(select(Round).where(Round.year == data.year)).first():
        raise DuplicateRound(f"A round of {data.year} exists / {data.year}年度已有创建轮次")
    now = clock.now()
    r = Round(**values, created_at=now, updated_at=now)
    session.add(r)
    session.flush()
    for org, field, limit, eligibility in default_quota_rules(session):
        session.add(
            Quota(round_id=r.id or 0, recommender_id=org.id or 0, field=field, limit=limit,
                  eligibility=eligibility)
        )  # fmt: skip
    session.flush()
    audit.record(
        session, actor, "round", r.id or 0, "create", role=actor.role_for("office"),
        data={"year": r.year, "name": r.name, **{k: str(values[k]) for k in WINDOW_COLUMNS}},
    )  # fmt: skip
    events.emit(
        session, "round.created", "round", r.id or 0, {"id": r.id, "year": r.year, "name": r.name}
    )
    return r


def update_round(
    session: Session, actor: Actor, round_id: int, data: RoundUpdate, if_match: IfMatch
) -> Round:
    r = get_round(session, round_id, for_update=True)
    if_match.check(r.version)
    given = data.model_dump(exclude_unset=True, exclude={"reason"})
    changes: dict[str, list[str]] = {}
    for key, value in given.items():
        if value is None or getattr(r, key) == value:
            continue
        changes[key] = [str(getattr(r, key)), str(value)]
    moved = [k for k in changes if k in WINDOW_COLUMNS]
    if moved and not data.reason:
        raise ReasonRequired("Give a reason for moving the windows / 请说明调整阶段时间的理由")
    if not changes:
        return r
    new_windows = {k: given.get(k) or getattr(r, k) for k in WINDOW_COLUMNS}
    _check_windows(new_windows)
    for key in changes:
        setattr(r, key, given[key])
    r.version += 1
    r.updated_at = clock.now()
    session.add(r)
    session.flush()
    audit.record(
        session, actor, "round", r.id or 0, "move_windows" if moved else "update",
        role=actor.role_for("office"), opinion=data.reason, data={"changes": changes},
    )  # fmt: skip
    events.emit(session, "round.updated", "round", r.id or 0, {"id": r.id, "changes": changes})
    return r


def round_history(session: Session, round_id: int) -> list[HistoryEntry]:
    get_round(session, round_id)
    return audit.history_of(session, "round", round_id)


# ---- quota rules and eligibility ----------------------------------------------------------


def admits(eligibility: dict[str, Any], unit: ApplicantUnit, recommender: Organization) -> bool:
    """Whether a rule's eligibility admits `unit` (the quota's field is checked by the caller)."""
    if eligibility.get("scope") == "own_city" and unit.city != recommender.city:
        return False
    kinds = eligibility.get("kinds")
    if kinds is not None and unit.kind not in kinds:
        return False
    exclude = eligibility.get("exclude") or []
    is_pu = unit.kind == ApplicantKind.university_unit and unit.provincial_university
    is_soe = unit.kind == ApplicantKind.enterprise and unit.ownership == Ownership.provincial_soe
    if ("provincial_university" in exclude and is_pu) or ("provincial_soe" in exclude and is_soe):
        return False
    wants_pu = eligibility.get("provincial_university")
    if wants_pu is not None and (
        unit.kind != ApplicantKind.university_unit or bool(unit.provincial_university) != wants_pu
    ):
        return False
    ownership = eligibility.get("ownership")
    return ownership is None or (
        unit.kind == ApplicantKind.enterprise and unit.ownership in ownership
    )


def rule_for(
    session: Session, round_id: int, recommender_id: int, unit: ApplicantUnit
) -> Quota | None:
    """The recommender's quota rule that admits `unit` in this round, if any."""
    quota = session.exec(
        select(Quota).where(
            Quota.round_id == round_id,
            Quota.recommender_id == recommender_id,
            Quota.field == unit.field,
        )
    ).first()
    recommender = session.get(Organization, recommender_id)
    if quota is None or recommender is None or not admits(quota.eligibility, unit, recommender):
        return None
    return quota


def recommenders_for(session: Session, round_id: int, unit: ApplicantUnit) -> list[QuotaRead]:
    """The quota rules of the round whose eligibility admits `unit` (its field, then `admits`):
    the recommending bodies (推荐单位) the unit may apply through, with what is left of each."""
    get_round(session, round_id)
    rows = session.exec(
        select(Quota, Organization)
        .join(Organization, col(Organization.id) == Quota.recommender_id)
        .where(Quota.round_id == round_id, Quota.field == unit.field)
        .order_by(col(Organization.id))
        .execution_options(populate_existing=True)
    ).all()
    return [_quota_read(q, o) for q, o in rows if admits(q.eligibility, unit, o)]


def quota_board(session: Session, round_id: int) -> list[QuotaRead]:
    get_round(session, round_id)
    rows = session.exec(
        select(Quota, Organization)
        .join(Organization, col(Organization.id) == Quota.recommender_id)
        .where(Quota.round_id == round_id)
        .order_by(col(Organization.id), col(Quota.field))
        .execution_options(populate_existing=True)
    ).all()
    return [_quota_read(q, o) for q, o in rows]


def _quota_read(q: Quota, o: Organization) -> QuotaRead:
    return QuotaRead(
        id=q.id or 0, round_id=q.round_id, recommender_id=q.recommender_id, recommender_code=o.code,
        recommender_name=o.name, field=q.field, limit=q.limit, used=q.used,  # type: ignore[arg-type]
        left=q.limit - q.used, eligibility=q.eligibility, version=q.version,
    )  # fmt: skip


def _editable_round(session: Session, round_id: int) -> Round:
    r = get_round(session, round_id, for_update=True)
    if not quota_rules_editable(r, today()):
        raise QuotaRulesLocked(
            f"The application window opened on {r.application_start} / 申报推荐已于 {r.application_start} 开始"
        )
    return r


def create_quota(session: Session, actor: Actor, round_id: int, data: QuotaCreate) -> QuotaRead:
    _editable_round(session, round_id)
    org = session.get(Organization, data.recommender_id)
    if org is None or not org.is_recommender:
        raise NotARecommender()
    exists = session.exec(
        select(Quota).where(
            Quota.round_id == round_id, Quota.recommender_id == org.id, Quota.field == data.field
        )
    ).first()
    if exists:
        raise DuplicateQuota()
    q = Quota(
        round_id=round_id, recommender_id=org.id or 0, field=data.field, limit=data.limit,
        eligibility=data.eligibility.model_dump(exclude_none=True, mode="json"),
    )  # fmt: skip
    session.add(q)
    session.flush()
    audit.record(
        session, actor, "round", round_id, "add_quota", role=actor.role_for("office"),
        data={"quota_id": q.id, "recommender": org.code, "field": q.field, "limit": q.limit,
              "eligibility": q.eligibility},
    )  # fmt: skip
    return _quota_read(q, org)


def update_quota(
    session: Session,
    actor: Actor,
    round_id: int,
    quota_id: int,
    data: QuotaUpdate,
    if_match: IfMatch,
) -> QuotaRead:
    _editable_round(session, round_id)
    q = session.exec(
        select(Quota).where(Quota.id == quota_id, Quota.round_id == round_id).with_for_update()
    ).first()
    if q is None:
        raise QuotaNotFound()
    if_match.check(q.version)
    before = {"limit": q.limit, "eligibility": q.eligibility}
    if data.limit is not None:
        q.limit = data.limit
    if data.eligibility is not None:
        q.eligibility = data.eligibility.model_dump(exclude_none=True, mode="json")
    q.version += 1
    session.add(q)
    session.flush()
    audit.record(
        session, actor, "round", round_id, "change_quota", role=actor.role_for("office"),
        data={"quota_id": q.id, "before": before, "after": {"limit": q.limit, "eligibility": q.eligibility}},
    )  # fmt: skip
    org = session.get(Organization, q.recommender_id)
    assert org is not None
    return _quota_read(q, org)


# ---- meetings ---------------------------------------------------------------------------


def create_meeting(session: Session, actor: Actor, round_id: int, data: MeetingCreate) -> Meeting:
    get_round(session, round_id)
    m = Meeting(
        round_id=round_id, kind=data.kind, held_on=data.held_on, reference=data.reference,
        attendees=data.attendees, created_by=actor.user_id, created_at=clock.now(),
    )  # fmt: skip
    session.add(m)
    session.flush()
    audit.record(
        session, actor, "round", round_id, "record_meeting", role=actor.role_for("office"),
        data={"meeting_id": m.id, "kind": str(m.kind), "held_on": str(m.held_on), "reference": m.reference},
    )  # fmt: skip
    return m


def list_meetings(session: Session, round_id: int) -> list[Meeting]:
    get_round(session, round_id)
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.round_id == round_id)
            .order_by(col(Meeting.held_on), col(Meeting.id))
        )
    )


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    m = session.get(Meeting, meeting_id)
    if m is None:
        raise MeetingNotFound()
    return m

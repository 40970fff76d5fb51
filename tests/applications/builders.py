"""Builders for the creation workflow's tests: a 2022 round, units, people and the clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.applicants.models import ApplicantUnit
from demosites.applicants.schemas import ApplicantCreate
from demosites.applicants.service import attach_unit
from demosites.applications.models import Application, AssessmentAssignment, Status
from demosites.auth.deps import load_actor
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.organizations.models import Organization, OrgKind, User
from demosites.organizations.service import get_org_by_code
from demosites.rounds import service as rounds
from demosites.rounds.models import Meeting, Round
from demosites.rounds.schemas import RoundCreate
from tests import factories

# The 2022 calendar of the notice.
WINDOWS_2022 = {
    "application_start": date(2022, 6, 1),
    "application_end": date(2022, 8, 5),
    "materials_deadline": date(2022, 8, 10),
    "assessment_start": date(2022, 8, 15),
    "assessment_end": date(2022, 11, 10),
    "awarding_start": date(2022, 11, 21),
    "awarding_end": date(2022, 11, 30),
    "publicity_start": date(2022, 12, 1),
    "publicity_end": date(2023, 6, 30),
}
BEFORE = date(2022, 5, 20)
APPLYING = date(2022, 7, 1)
MATERIALS = date(2022, 8, 8)  # after application_end, before the materials deadline
GAP = date(2022, 8, 12)
ASSESSING = date(2022, 9, 15)
AWARDING = date(2022, 11, 25)
PUBLICITY = date(2023, 1, 10)

# The day each action's window is open.
DAY_OF_ACTION = {
    "submit": APPLYING, "return": APPLYING, "decline": APPLYING, "recommend": APPLYING,
    "withdraw": APPLYING, "pass_preliminary": ASSESSING, "fail_preliminary": ASSESSING,
    "record_assessment": ASSESSING, "propose": ASSESSING, "not_propose": ASSESSING,
    "adopt": ASSESSING, "reject": ASSESSING, "approve": ASSESSING, "disapprove": ASSESSING,
    "award": AWARDING, "uphold_objection": AWARDING,
}  # fmt: skip

_seq = itertools.count(1)


def set_day(day: date) -> None:
    """Freezes the clock at noon Beijing time on `day`."""
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))


def office_actor(session: Session) -> Actor:
    return actor_of(session, person(session, ["office"], "office"))


def actor_of(session: Session, u: User) -> Actor:
    return load_actor(session, u, None)


def person(session: Session, roles: list[str], org: Organization | str) -> User:
    return factories.user(session, roles, org)


def make_round(session: Session, year: int = 2022, **overrides: Any) -> Round:
    shift = year - 2022
    windows = {k: v.replace(year=v.year + shift) for k, v in WINDOWS_2022.items()}
    windows.update(overrides)
    data = RoundCreate(year=year, name=f"{year}年度示范点创建", **windows)
    return rounds.create_round(session, office_actor(session), data)


def unit(
    session: Session,
    kind: str = "primary_school",
    city: str = "合肥",
    *,
    name: str | None = None,
    university: str | None = None,
    provincial_university: bool = False,
    ownership: str | None = None,
) -> ApplicantUnit:
    n = next(_seq)
    name = name or f"测试申报主体{n}"
    org = Organization(
        code=f"t_unit_{n}_{id(session) % 10000}", name=name, kind=OrgKind.applicant_unit, city=city
    )
    session.add(org)
    session.flush()
    if kind == "university_unit" and university is None:
        university = "安徽大学" if provincial_university else "中国科学技术大学"
    if kind == "enterprise" and ownership is None:
        ownership = "other"
    data = ApplicantCreate(
        name=name,
        kind=kind,
        city=city,
        university=university,  # type: ignore[arg-type]
        provincial_university=provincial_university,
        ownership=ownership,  # type: ignore[arg-type]
    )
    return attach_unit(session, org, data)


def org(session: Session, code: str) -> Organization:
    found = get_org_by_code(session, code)
    assert found is not None, code
    return found


@dataclass
class Cast:
    """One person per role, each in the organisation that role needs for `app`."""

    applicant: User
    recommender: User
    assessor: User
    committee: User
    approver: User
    office: User


def cast_for(session: Session, app: Application, assign: bool = True) -> Cast:
    unit_row = session.get(ApplicantUnit, app.applicant_id)
    assert unit_row is not None
    rec_org = session.get(Organization, app.recommender_id)
    assert rec_org is not None
    c = Cast(
        applicant=person(
            session, ["applicant"], session.get(Organization, unit_row.organization_id)
        ),  # type: ignore[arg-type]
        recommender=person(session, ["recommender"], rec_org),
        assessor=person(session, ["assessor"], "cac"),
        committee=person(session, ["committee"], "union"),
        approver=person(session, ["approver"], "office"),
        office=person(session, ["office"], "office"),
    )
    if assign:
        session.add(
            AssessmentAssignment(
                application_id=app.id or 0, user_id=c.assessor.id or 0, assigned_at=clock.now()
            )
        )
        session.flush()
    return c


def application(
    session: Session,
    r: Round,
    u: ApplicantUnit,
    recommender: Organization,
    status: Status = Status.draft,
    **fields: Any,
) -> Application:
    """An application row put straight into `status` (for tests of one step of the machine)."""
    now = clock.now()
    app = Application(
        round_id=r.id or 0, applicant_id=u.id or 0, recommender_id=recommender.id or 0,
        created_by_org_id=u.organization_id, field=u.field, city=u.city,
        name=fields.pop("name", "“红色星期五”思政课堂"), summary=fields.pop("summary", "简要事迹"),
        deeds=fields.pop("deeds", "先进事迹材料正文"), status=status, priority=fields.pop("priority", False),
        priority_claims=[],
        live_key=u.id, created_at=now, updated_at=now, **fields,
    )  # fmt: skip
    session.add(app)
    session.flush()
    return app


def meeting(session: Session, r: Round, kind: str, held_on: date = ASSESSING) -> Meeting:
    m = Meeting(
        round_id=r.id or 0, kind=kind, held_on=held_on, reference=f"{kind} 会议", attendees=["张三"],
        created_at=clock.now(),
    )  # fmt: skip
    session.add(m)
    session.flush()
    return m


def payload_for(action: str, r: Round, session: Session) -> dict[str, Any]:
    """A complete, valid transition body for `action`."""
    body: dict[str, Any] = {"action": action, "opinion": f"{action} 意见"}
    if action == "record_assessment":
        body["scores"] = {"political": 90, "contemporary": 85, "effective": 88, "exemplary": 92}
        body["visit_date"] = str(DAY_OF_ACTION[action])
    if action in ("adopt", "reject"):
        body["meeting_id"] = meeting(session, r, "review").id
    if action in ("approve", "disapprove"):
        body["meeting_id"] = meeting(session, r, "approval").id
    return body


class Api:
    """Calls the API as a given user; tokens are issued per clock day (moving time ends sessions)."""

    def __init__(self, client: TestClient, session: Session) -> None:
        self.client = client
        self.session = session
        self._tokens: dict[tuple[int, Any], dict[str, str]] = {}

    def headers(self, user: User, **extra: str) -> dict[str, str]:
        key = (user.id or 0, clock.now())
        if key not in self._tokens:
            self._tokens[key] = factories.bearer(self.session, user)
        # Keep the test's setup when a request fails: a refused request rolls back to here only
        # (the test's outer transaction still undoes everything at the end).
        self.session.commit()
        return {**self._tokens[key], **extra}

    def get(self, user: User, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def post(self, user: User, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def patch(self, user: User, path: str, **kw: Any) -> httpx.Response:
        return self.client.patch(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def put(self, user: User, path: str, **kw: Any) -> httpx.Response:
        return self.client.put(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def act(
        self,
        user: User,
        app_id: int,
        action: str,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        path = f"/api/v1/applications/{app_id}/transitions"
        return self.post(user, path, json={"action": action, **body}, headers=headers or {})


def org_of(session: Session, u: ApplicantUnit) -> Organization:
    found = session.get(Organization, u.organization_id)
    assert found is not None
    return found

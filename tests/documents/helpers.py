"""Builders for the documents tests: an application walked through the stages over HTTP, so
that its opinions and dates come from the real history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from demosites.applications.models import Application, Status
from demosites.organizations.models import User
from demosites.rounds.models import Round
from tests.applications import builders as b
from tests.applications.builders import Api

# Each stage on its own day, so that every block of the form shows its own date.
DAYS = {
    "recommend": date(2022, 7, 1),
    "pass_preliminary": date(2022, 8, 20),
    "record_assessment": date(2022, 9, 15),
    "propose": date(2022, 10, 8),
    "adopt": date(2022, 10, 20),
    "approve": date(2022, 11, 5),
    "award": date(2022, 11, 25),
}
OPINIONS = {
    "recommend": "该单位思政工作扎实，同意推荐。",
    "pass_preliminary": "材料齐全，符合申报条件，建议考核。",
    "record_assessment": "实地考核情况属实，成效明显。",
    "approve": "同意命名为示范点。",
}
ORDER = (
    "recommend",
    "pass_preliminary",
    "record_assessment",
    "propose",
    "adopt",
    "approve",
    "award",
)


@dataclass
class Walked:
    app: Application
    cast: b.Cast
    round: Round


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r


def walk(
    api: Api, session: Session, app: Application, r: Round, upto: str, cast: b.Cast | None = None
) -> b.Cast:
    """Takes a submitted application through the stages up to and including `upto`."""
    cast = cast or b.cast_for(session, app)
    who = {"recommend": cast.recommender, "pass_preliminary": cast.office, "record_assessment": cast.assessor,
           "propose": cast.office, "adopt": cast.committee, "approve": cast.approver, "award": cast.office}  # fmt: skip
    for action in ORDER:
        b.set_day(DAYS[action])
        body: dict[str, Any] = {"opinion": OPINIONS.get(action, f"{action} 意见")}
        if action == "record_assessment":
            body["scores"] = {"political": 90, "contemporary": 85, "effective": 88, "exemplary": 92}
            body["visit_date"] = "2022-09-12"
        if action == "adopt":
            body["meeting_id"] = b.meeting(session, r, "review", DAYS[action]).id
        if action == "approve":
            body["meeting_id"] = b.meeting(session, r, "approval", DAYS[action]).id
        if action in ("propose", "award"):
            body.pop("opinion")
        ok(api.act(who[action], app.id or 0, action, **body))
        if action == upto:
            break
    return cast


def submitted_application(
    session: Session, r: Round, *, city: str = "合肥", kind: str = "primary_school", name: str | None = None,
    unit_name: str | None = None, summary: str = "以“红色星期五”为载体，常态化开展理想信念教育。",
) -> Application:  # fmt: skip
    from demosites.organizations.models import CITY_CODES

    u = b.unit(session, kind, city, name=unit_name)
    return b.application(
        session, r, u, b.org(session, CITY_CODES[city]), Status.submitted,
        name=name or f"{u.name}“红色星期五”思政课堂", summary=summary,
    )  # fmt: skip


def user_of(session: Session, roles: list[str], org_code: str) -> User:
    return b.person(session, roles, org_code)

"""Table-driven walk of every (state, action, role) of the site table, forbidden ones included."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.organizations.models import Organization
from demosites.sites import transitions
from demosites.sites.models import (
    Inspection,
    Rectification,
    RectificationStatus,
    Site,
    SiteAction,
    SiteStatus,
)
from tests import factories
from tests.applications import builders as b

TODAY = date(2023, 5, 10)
ROLES = ("office", "own_applicant", "other_applicant", "recommender", "committee")


def _site(session: Session, state: SiteStatus, action: str) -> tuple[Site, Inspection]:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    u = b.unit(session, "community", "合肥")
    hefei = b.org(session, "hefei")
    app = b.application(
        session, r, u, hefei, "awarded", plaque_no=f"皖思政示范〔2022〕{u.id:03d}号"
    )  # type: ignore[arg-type]
    b.set_day(TODAY)
    now = clock.now()
    site = Site(
        application_id=app.id or 0, round_id=r.id or 0, applicant_id=u.id or 0, organization_id=u.organization_id,
        name=app.name, unit_name=u.name, field=u.field, city=u.city, plaque_no=app.plaque_no or "",
        awarded_on=date(2022, 11, 25), status=state, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(site)
    session.flush()
    insp = Inspection(
        site_id=site.id or 0, kind="inspection", year=2023, inspector_ids=[], created_at=now
    )
    session.add(insp)
    if state == SiteStatus.rectifying:
        ready = (
            RectificationStatus.submitted
            if action in ("accept_report", "refuse_report")
            else RectificationStatus.open
        )
        session.add(Rectification(site_id=site.id or 0, findings="整改要求", deadline=date(2023, 6, 30),
                                  status=ready, report="报告" if ready == "submitted" else None, created_at=now))  # fmt: skip
    session.flush()
    return site, insp


def _body(action: str, inspection_id: int, later_round_id: int) -> dict[str, object]:
    body: dict[str, object] = {"action": action, "opinion": f"{action} 意见"}
    if action in ("pass", "rectify"):
        body["inspection_id"] = inspection_id
    if action == "rectify":
        body.update(findings="台账不全", deadline="2023-08-31")
    if action == "submit_report":
        body["report"] = "整改报告"
    if action == "delist":
        body["reason"] = "negative_public_opinion"
    if action == "confirm":
        body["round_id"] = later_round_id
    return body


def _user(session: Session, role: str, site: Site) -> object:
    if role == "office":
        return factories.user(session, ["office"], "office")
    if role == "own_applicant":
        return factories.user(
            session, ["applicant"], session.get(Organization, site.organization_id)
        )  # type: ignore[arg-type]
    if role == "other_applicant":
        return factories.user(session, ["applicant"], factories.org(session))
    if role == "recommender":  # the city that recommended it: may read, may not act
        return factories.user(session, ["recommender"], "hefei")
    return factories.user(session, ["committee"], "union")


def _expected(state: SiteStatus, action: str, role: str) -> tuple[int, str | None]:
    if role in ("other_applicant", "committee"):
        return 404, "not_found"
    acting = "applicant" if role == "own_applicant" else role
    if acting not in transitions.MACHINE.roles(action):
        return 403, "forbidden"
    if transitions.MACHINE.rule(state, action) is None:
        return 409, "invalid_transition"
    return 200, None


def test_the_table_covers_every_action_and_reaches_every_state() -> None:
    assert {r.action for r in transitions.TABLE} == set(SiteAction)
    assert {SiteStatus.active} | {r.target for r in transitions.TABLE} == set(SiteStatus)


@pytest.mark.parametrize("state", list(SiteStatus))
@pytest.mark.parametrize("action", [str(a) for a in SiteAction])
@pytest.mark.parametrize("role", ROLES)
def test_every_action_in_every_state_by_every_role(
    client: TestClient, session: Session, state: SiteStatus, action: str, role: str
) -> None:
    site, insp = _site(session, state, action)
    later = b.make_round(session, year=2025)
    user = _user(session, role, site)
    headers = factories.bearer(session, user)  # type: ignore[arg-type]
    status, code = _expected(state, action, role)
    if status != 404:
        offered = client.get(f"/api/v1/sites/{site.id}", headers=headers).json()["allowed_actions"]
        assert (action in offered) == (status == 200), (state, action, role, offered)
    r = client.post(
        f"/api/v1/sites/{site.id}/transitions",
        json=_body(action, insp.id or 0, later.id or 0),
        headers=headers,
    )
    assert r.status_code == status, (state, action, role, r.text)
    if code:
        assert r.json()["code"] == code
    else:
        rule = transitions.MACHINE.rule(state, action)
        assert rule is not None and r.json()["status"] == rule.target

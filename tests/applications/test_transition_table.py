"""Table-driven walk of every (state, action, role) of the stage machine, forbidden ones included."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from demosites.applications import service
from demosites.applications.errors import ApplicationNotFound
from demosites.applications.models import Action, Status
from demosites.applications.repository import APPROVER_STATES, COMMITTEE_STATES
from demosites.applications.schemas import TransitionRequest
from demosites.applications.transitions import MACHINE, TABLE
from demosites.core.clock import clock
from demosites.core.errors import DomainError, Forbidden
from demosites.rounds.models import Quota
from demosites.statemachine.errors import InvalidTransition
from tests.applications import builders as b
from tests.sites.builders import upheld_objection

ROLES = ("applicant", "recommender", "assessor", "committee", "approver", "office")


def _readable(role: str, state: Status) -> bool:
    return {
        "applicant": True,
        "recommender": state
        != Status.draft,  # drafts are the unit's own work (filed by the unit here)
        "assessor": True,  # assigned
        "committee": state in COMMITTEE_STATES,
        "approver": state in APPROVER_STATES,
        "office": True,
    }[role]


def _expected(role: str, state: Status, action: str) -> type[DomainError] | None:
    if not _readable(role, state):
        return ApplicationNotFound
    if role not in MACHINE.roles(action):
        return Forbidden
    if MACHINE.rule(state, action) is None:
        return InvalidTransition
    return None


def test_the_table_has_one_rule_per_action_and_reaches_every_state() -> None:
    assert {str(a) for a in Action} == set(MACHINE.actions) == {str(r.action) for r in TABLE}
    reached = {Status.draft} | {r.target for r in TABLE}
    assert reached == set(Status)


@pytest.mark.parametrize("state", list(Status))
@pytest.mark.parametrize("role", ROLES)
def test_every_action_in_every_state_by_every_role(
    session: Session, state: Status, role: str
) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    u = b.unit(session, "primary_school", "合肥")
    hefei = b.org(session, "hefei")
    quota = (
        session.query(Quota).filter_by(round_id=r.id, recommender_id=hefei.id, field="school").one()
    )
    recommended_or_later = state not in (Status.draft, Status.submitted, Status.not_recommended)
    if recommended_or_later:
        quota.used = 1
        session.add(quota)
    app = b.application(
        session, r, u, hefei, state, quota_id=quota.id if recommended_or_later else None
    )
    cast = b.cast_for(session, app)
    actor = b.actor_of(session, getattr(cast, role))
    app_id = app.id or 0
    if (
        state == Status.approved
    ):  # uphold_objection (公示) needs an objection the office found upheld
        upheld_objection(session, app)
    for action in MACHINE.actions:
        b.set_day(b.DAY_OF_ACTION[action])
        savepoint = session.begin_nested()
        try:
            body = TransitionRequest(**b.payload_for(action, r, session))
            expected = _expected(role, state, action)
            if expected is None or expected is not ApplicationNotFound:
                current = service.readable(session, actor, app_id)
                offered = action in service.to_read(session, actor, current).allowed_actions
                assert offered == (expected is None), (state, action, role)
            if expected is None:
                done = service.transition(session, actor, app_id, body)
                rule = MACHINE.rule(state, action)
                assert rule is not None and done.status == rule.target
            else:
                with pytest.raises(expected):
                    service.transition(session, actor, app_id, body)
        finally:
            savepoint.rollback()
    clock.set(None)

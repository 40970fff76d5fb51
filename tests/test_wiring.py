"""Effects across domains exist because start-up registered them (demosites.wiring), not because
a module was imported: without the registration an award creates no site; with it, one; and
registering again changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from demosites.applications import service
from demosites.applications.schemas import TransitionRequest
from demosites.applications.transitions import MACHINE
from demosites.sites import notices
from demosites.sites.models import Site
from demosites.sites.service import create_site_for
from demosites.statemachine.engine import Extensions
from demosites.wiring import wire
from tests.applications import builders as b
from tests.sites.builders import approved_application


def _sites_of(session: Session, application_id: int | None) -> list[Site]:
    return list(session.exec(select(Site).where(Site.application_id == application_id)))


def test_an_award_creates_its_site_only_once_start_up_registered_the_reaction(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    office = b.office_actor(session)
    before_wiring = approved_application(session, r, "合肥")
    after_wiring = approved_application(session, r, "芜湖")
    monkeypatch.setattr(MACHINE, "extensions", Extensions())  # as before any start-up
    b.set_day(b.AWARDING)

    award = TransitionRequest(action="award")
    assert service.transition(session, office, before_wiring.id or 0, award).status == "awarded"
    assert _sites_of(session, before_wiring.id) == []

    wire()
    wire()
    assert MACHINE.extensions.reactions == {"award": [create_site_for]}
    assert MACHINE.extensions.guards == {
        "award": [notices.award_allowed],
        "uphold_objection": [notices.objection_upheld],
    }
    service.transition(session, office, after_wiring.id or 0, award)
    (site,) = _sites_of(session, after_wiring.id)
    assert site.plaque_no == session.get(type(after_wiring), after_wiring.id).plaque_no  # type: ignore[union-attr]

"""The demo seed: last year's round awarded with opinions, this year's open today; idempotent."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.applications.demo import seed_workflow
from demosites.applications.models import Application
from demosites.audit.service import verify_chain
from demosites.core.clock import clock
from demosites.organizations.models import Organization
from demosites.rounds.models import Phase, Round
from demosites.rounds.service import current_phase
from demosites.seed import seed_demo_accounts

PW = "Demo-Anhui-2026!"


def _counts(session: Session) -> dict[tuple[int, str], int]:
    rows = session.exec(
        select(Round.year, Application.status, func.count())
        .join(Round, col(Round.id) == Application.round_id)
        .group_by(Round.year, Application.status)
    ).all()
    return {(y, s): n for y, s, n in rows}


def test_the_demo_seed_shows_every_stage_and_runs_twice(session: Session) -> None:
    seed_demo_accounts(session, PW)
    seed_workflow(session, PW)
    year = clock.today().year
    counts = _counts(session)
    assert counts[(year - 1, "awarded")] == 7
    assert {(year, s) for s in ("draft", "submitted", "recommended")} <= set(counts)
    this_year = session.exec(select(Round).where(Round.year == year)).one()
    assert current_phase(this_year, clock.today()) == Phase.application
    for code in ("hf_school", "wh_community", "aq_village", "ahu_marx", "ah_energy", "hf_private"):
        org = session.exec(select(Organization).where(Organization.code == code)).one()
        assert session.exec(
            select(ApplicantUnit).where(ApplicantUnit.organization_id == org.id)
        ).first()
    seed_workflow(session, PW)
    assert _counts(session) == counts
    assert verify_chain(session).intact

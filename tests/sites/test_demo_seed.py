"""The demo seed: the awarded round's sites, one inspected and passed, one under rectification,
publicity records; seeding twice changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from demosites.applications.demo import seed_workflow
from demosites.seed import DEMO_SEEDERS, seed_demo_accounts
from demosites.sites.demo import seed_sites
from demosites.sites.models import Inspection, PublicityRecord, Site

PW = "Demo-Anhui-2026-pw"


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(
        session.exec(select(func.count()).select_from(t)).one()
        for t in (Site, Inspection, PublicityRecord)
    )  # type: ignore[return-value]


def test_the_demo_has_sites_in_every_situation_and_is_idempotent(
    session: Session, client: TestClient
) -> None:
    assert DEMO_SEEDERS.index(seed_sites) > DEMO_SEEDERS.index(seed_workflow)
    seed_demo_accounts(session, PW)
    seed_workflow(session, PW)
    seed_sites(session, PW)
    sites = list(session.exec(select(Site).order_by(Site.plaque_no)))
    assert len(sites) == 7
    assert [s.status for s in sites].count("rectifying") == 1
    outcomes = sorted(i.outcome or "" for i in session.exec(select(Inspection)))
    assert outcomes == ["pass", "rectify"]
    before = _counts(session)
    assert before[2] == 2
    seed_workflow(session, PW)
    seed_sites(session, PW)
    assert _counts(session) == before
    assert client.get("/api/v1/public/sites").json()["total"] == 7

"""The public list's round filter: rounds with published sites, without login."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.applications import builders as b
from tests.applications.builders import Api
from tests.sites import builders as sb


def test_rounds_with_sites_holding_a_plaque_are_listed_without_login(
    api: Api, client: TestClient, session: Session
) -> None:
    b.set_day(b.BEFORE)
    r2022 = b.make_round(session)
    b.make_round(session, year=2023)  # no site yet: not on the public filter
    office = b.person(session, ["office"], "office")
    sb.awarded_sites(api, session, r2022, office, 2)
    r = client.get("/api/v1/public/rounds")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [{"id": r2022.id, "year": 2022, "name": r2022.name, "sites": 2}],
        "total": 1,
    }
    assert client.get("/api/v1/public/sites", params={"round_id": r2022.id}).json()["total"] == 2

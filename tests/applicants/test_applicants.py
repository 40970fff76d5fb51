"""Applicant units (申报主体): registration with their organisation, kinds and fields, who sees them."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from demosites.organizations.models import Organization
from tests.applications import builders as b
from tests.applications.builders import Api


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "primary_school"}, "school"),
        (
            {"kind": "university_unit", "university": "安徽大学", "provincial_university": True},
            "school",
        ),
        ({"kind": "enterprise", "ownership": "private"}, "enterprise"),
        ({"kind": "community"}, "community"),
        ({"kind": "village"}, "rural"),
    ],
)
def test_the_office_registers_a_unit_of_every_kind_and_its_field_follows(
    api: Api, session: Session, body: dict, field: str
) -> None:
    office = b.person(session, ["office"], "office")
    r = api.post(office, "/api/v1/applicants", json={"name": "测试单位", "city": "合肥", **body})
    assert r.status_code == 201, r.text
    unit = r.json()
    assert unit["field"] == field and unit["kind"] == body["kind"]
    org = session.get(Organization, unit["organization_id"])
    assert (
        org is not None
        and org.kind == "applicant_unit"
        and org.city == "合肥"
        and org.code == unit["organization_code"]
    )
    assert api.get(office, f"/api/v1/applicants/{unit['id']}").json() == unit


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "university_unit"},  # no university
        {"kind": "enterprise"},  # no ownership
        {"kind": "village", "ownership": "private"},
        {"kind": "primary_school", "university": "安徽大学"},
        {"kind": "primary_school", "city": "南京"},
        {"kind": "castle"},
        {"kind": "community", "name": "\x00"},
    ],
)
def test_details_that_do_not_fit_the_kind_are_refused(
    api: Api, session: Session, body: dict
) -> None:
    office = b.person(session, ["office"], "office")
    r = api.post(office, "/api/v1/applicants", json={"name": "测试单位", "city": "合肥", **body})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_a_city_registers_and_sees_only_its_own_units(api: Api, session: Session) -> None:
    hefei = b.person(session, ["recommender"], "hefei")
    edu = b.person(session, ["recommender", "assessor"], "edu")
    applicant_unit = b.unit(session, "community", "芜湖")
    applicant = b.person(session, ["applicant"], b.org_of(session, applicant_unit))
    ok = api.post(
        hefei, "/api/v1/applicants", json={"name": "合肥社区", "kind": "community", "city": "合肥"}
    )
    assert ok.status_code == 201
    assert (
        api.post(
            hefei,
            "/api/v1/applicants",
            json={"name": "芜湖社区", "kind": "community", "city": "芜湖"},
        ).status_code
        == 403
    )
    assert (
        api.post(
            applicant,
            "/api/v1/applicants",
            json={"name": "x社区", "kind": "community", "city": "芜湖"},
        ).status_code
        == 403
    )
    assert api.get(hefei, f"/api/v1/applicants/{applicant_unit.id}").status_code == 404
    assert api.get(edu, f"/api/v1/applicants/{applicant_unit.id}").status_code == 200
    cities = {
        u["city"]
        for u in api.get(hefei, "/api/v1/applicants", params={"limit": 200}).json()["items"]
    }
    assert cities == {"合肥"}
    mine = api.get(applicant, "/api/v1/applicants").json()
    assert [u["id"] for u in mine["items"]] == [applicant_unit.id] and mine["total"] == 1
    by_kind = api.get(
        edu, "/api/v1/applicants", params={"kind": "community", "q": "合肥社区"}
    ).json()
    assert by_kind["total"] == 1
    dup = api.post(
        edu,
        "/api/v1/applicants",
        json={"name": "重复", "kind": "community", "city": "合肥", "code": "hefei"},
    )
    assert dup.status_code == 409

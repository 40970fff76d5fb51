"""The office's list of assessors (考核人员): organisations by id, 回避 said by the API itself."""

from __future__ import annotations

from sqlmodel import Session

from demosites.applications.models import Status
from tests.applications import builders as b
from tests.applications.builders import Api

PATH = "/api/v1/assessors"


def _setup(session: Session):  # type: ignore[no-untyped-def]
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.ASSESSING)
    edu = b.org(session, "edu")
    app = b.application(
        session, r, b.unit(session, "university_unit", "合肥", provincial_university=True), edu,
        Status.preliminary_passed,
    )  # fmt: skip
    office = b.person(session, ["office"], "office")
    edu_assessor = b.person(session, ["assessor", "recommender"], edu)
    cac_assessor = b.person(session, ["assessor"], "cac")
    return app, office, edu_assessor, cac_assessor


def test_the_office_lists_assessors_with_their_organisation_ids(api: Api, session: Session) -> None:
    app, office, edu_assessor, cac_assessor = _setup(session)
    inactive = b.person(session, ["assessor"], "union")
    inactive.is_active = False
    b.person(session, ["recommender"], "union")  # not an assessor
    session.add(inactive)
    session.flush()
    page = api.get(office, PATH, params={"limit": 200}).json()
    by_id = {a["user_id"]: a for a in page["items"]}
    assert page["total"] == len(page["items"])
    assert edu_assessor.id in by_id and cac_assessor.id in by_id
    assert inactive.id not in by_id
    assert by_id[edu_assessor.id]["organization_id"] == b.org(session, "edu").id
    assert by_id[cac_assessor.id]["organization_name"] == b.org(session, "cac").name
    assert by_id[cac_assessor.id]["conflict_of_interest"] is None  # no application named

    only_cac = api.get(office, PATH, params={"organization_id": b.org(session, "cac").id}).json()
    assert {a["organization_id"] for a in only_cac["items"]} == {b.org(session, "cac").id}
    paged = api.get(office, PATH, params={"limit": 1, "offset": 0}).json()
    assert len(paged["items"]) == 1 and paged["total"] == page["total"]
    found = api.get(office, PATH, params={"q": edu_assessor.display_name}).json()
    assert [a["user_id"] for a in found["items"]] == [edu_assessor.id]


def test_conflict_of_interest_is_the_rule_the_assignment_enforces(
    api: Api, session: Session
) -> None:
    app, office, edu_assessor, cac_assessor = _setup(session)
    listed = api.get(office, PATH, params={"application_id": app.id, "limit": 200}).json()["items"]
    conflict = {a["user_id"]: a["conflict_of_interest"] for a in listed}
    assert conflict[edu_assessor.id] is True and conflict[cac_assessor.id] is False
    # What the list says is what PUT /assessors answers.
    put = f"/api/v1/applications/{app.id}/assessors"
    refused = api.put(office, put, json={"user_ids": [edu_assessor.id]})
    assert refused.status_code == 409 and refused.json()["code"] == "conflict_of_interest"
    named = api.put(office, put, json={"user_ids": [cac_assessor.id]})
    assert named.status_code == 200, named.text
    (ref,) = named.json()["assessors"]
    assert ref["organization_id"] == b.org(session, "cac").id
    assert ref["organization_name"] == b.org(session, "cac").name


def test_only_the_office_lists_assessors_and_an_unknown_application_is_not_found(
    api: Api, session: Session
) -> None:
    app, office, edu_assessor, _cac = _setup(session)
    assert api.get(edu_assessor, PATH).status_code == 403
    missing = api.get(office, PATH, params={"application_id": 2**31 - 1})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.get(office, PATH, params={"application_id": 2**31}).status_code == 422

"""Who sees what: every role against every application endpoint with an object it must not see
answers 404 (or 403 where the endpoint is not for its role at all), never the object's data."""

from __future__ import annotations

import io

import pytest
from fastapi import UploadFile
from sqlmodel import Session

from demosites.applications.models import Status
from demosites.core.actor import SYSTEM
from demosites.files import service as files
from demosites.organizations.models import User
from tests.applications import builders as b
from tests.applications.builders import Api

SECRET = "绝密示范点名称"
# (method, path, body, roles the endpoint admits at all; None = every authenticated caller)
ENDPOINTS = (
    ("GET", "/api/v1/applications/{id}", None, None),
    ("PATCH", "/api/v1/applications/{id}", {"name": "改名"}, {"applicant", "recommender"}),
    ("POST", "/api/v1/applications/{id}/transitions", {"action": "recommend", "opinion": "同意"}, None),
    ("POST", "/api/v1/applications/transitions", {"action": "recommend", "opinion": "同意", "application_ids": ["{id}"]}, None),
    ("GET", "/api/v1/applications/{id}/history", None, None),
    ("GET", "/api/v1/applications/{id}/materials", None, None),
    ("UPLOAD", "/api/v1/applications/{id}/materials", None, {"applicant", "recommender"}),
    ("GET", "/api/v1/applications/{id}/materials/{file_id}", None, None),
    ("PUT", "/api/v1/applications/{id}/assessors", {"user_ids": []}, {"office"}),
)  # fmt: skip


def _call(api: Api, user: User, method: str, path: str, body: object) -> object:
    if method == "GET":
        return api.get(user, path)
    if method == "PATCH":
        return api.patch(user, path, json=body)
    if method == "PUT":
        return api.put(user, path, json=body)
    if method == "UPLOAD":
        return api.post(
            user,
            path,
            files={"file": ("x.pdf", b"%PDF-1.4 x", "application/pdf")},
            data={"purpose": "deeds"},
        )
    return api.post(user, path, json=body)


def _fill(body: object, app_id: int) -> object:
    if isinstance(body, dict):
        return {k: ([app_id] if v == ["{id}"] else v) for k, v in body.items()}
    return body


# (who, state of the application they must not see)
OUTSIDERS = (
    ("applicant_of_another_unit", Status.submitted),
    ("recommender_of_another_city", Status.submitted),
    ("own_recommender", Status.draft),  # a draft is the unit's own until submitted
    ("unassigned_assessor", Status.preliminary_passed),
    ("committee", Status.assessed),  # before the office proposes it
    ("approver", Status.proposed),  # before the review meeting adopts it
)


@pytest.mark.parametrize(("who", "state"), OUTSIDERS, ids=[o[0] for o in OUTSIDERS])
def test_an_outsider_gets_404_from_every_application_endpoint(
    api: Api, session: Session, who: str, state: Status
) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING if state in (Status.draft, Status.submitted) else b.ASSESSING)
    hefei = b.org(session, "hefei")
    u = b.unit(session, "primary_school", "合肥")
    app = b.application(session, r, u, hefei, state, name=SECRET)
    stored = files.store_upload(session, SYSTEM, UploadFile(io.BytesIO(b"%PDF-1.4 secret"), filename="s.pdf"),
                                "application", app.id or 0, "deeds")  # fmt: skip
    outsider = {
        "applicant_of_another_unit": lambda: b.person(
            session, ["applicant"], b.org_of(session, b.unit(session))
        ),
        "recommender_of_another_city": lambda: b.person(session, ["recommender"], "wuhu"),
        "own_recommender": lambda: b.person(session, ["recommender"], hefei),
        "unassigned_assessor": lambda: b.person(session, ["assessor"], "cac"),
        "committee": lambda: b.person(session, ["committee"], "union"),
        "approver": lambda: b.person(session, ["approver"], "office"),
    }[who]()
    roles = {
        role
        for role in ("applicant", "recommender", "assessor", "committee", "approver")
        if role in who
    }
    for method, template, body, admitted in ENDPOINTS:
        path = template.format(id=app.id, file_id=stored.id)
        resp = _call(api, outsider, method, path, _fill(body, app.id or 0))
        expected = 404 if admitted is None or roles & admitted else 403
        assert resp.status_code == expected, (who, method, path, resp.status_code, resp.text)  # type: ignore[attr-defined]
        assert SECRET not in resp.text and "secret" not in resp.text  # type: ignore[attr-defined]
    listed = api.get(outsider, "/api/v1/applications", params={"round_id": r.id}).json()
    assert all(item["id"] != app.id for item in listed["items"])


def test_each_role_sees_exactly_its_scope_in_the_list(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.ASSESSING)
    hefei = b.org(session, "hefei")
    apps = {
        s: b.application(session, r, b.unit(session, "community", "合肥"), hefei, s) for s in Status
    }
    cast = b.cast_for(session, apps[Status.preliminary_passed])
    office = b.person(session, ["office"], "office")

    def seen(user: User) -> set[str]:
        items = api.get(
            user, "/api/v1/applications", params={"round_id": r.id, "limit": 200}
        ).json()["items"]
        return {i["status"] for i in items}

    assert seen(office) == {str(s) for s in Status}
    assert seen(cast.recommender) == {str(s) for s in Status} - {"draft"}
    assert seen(cast.assessor) == {"preliminary_passed"}
    assert seen(cast.committee) == {
        "proposed",
        "candidate",
        "review_rejected",
        "approved",
        "approval_rejected",
        "awarded",
    }
    assert seen(cast.approver) == {"candidate", "approved", "approval_rejected", "awarded"}
    assert seen(cast.applicant) == {"preliminary_passed"}

"""Refusals with clear codes, data scopes (another unit's site is not found), ETag/If-Match,
Idempotency-Key, inspectors, publicity and evidence files."""

from __future__ import annotations

import io
from datetime import date

from sqlmodel import Session

from demosites.organizations.models import Organization
from tests import factories
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.sites.builders import act, awarded_sites

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


def _two_sites(api: Api, session: Session) -> tuple[object, object, object]:
    b.set_day(b.BEFORE)
    rnd = b.make_round(session)
    office = b.person(session, ["office"], "office")
    mine, theirs = awarded_sites(api, session, rnd, office, 2)
    b.set_day(date(2023, 3, 1))
    return office, mine, theirs


def test_another_units_people_find_nothing_of_a_site(api: Api, session: Session) -> None:
    office, mine, theirs = _two_sites(api, session)
    insp = api.post(
        office,
        f"/api/v1/sites/{theirs.site_id}/inspections",
        json={"kind": "inspection", "year": 2023},
    )  # type: ignore[attr-defined]
    assert insp.status_code == 201
    r = act(
        api,
        office,
        theirs.site_id,
        "rectify",
        inspection_id=insp.json()["id"],
        findings="问题",
        deadline="2023-05-01",
    )  # type: ignore[attr-defined]
    rect = r.json()["open_rectification"]["id"]
    me = mine.owner  # type: ignore[attr-defined]
    sid = theirs.site_id  # type: ignore[attr-defined]
    for path in (f"/api/v1/sites/{sid}", f"/api/v1/sites/{sid}/history", f"/api/v1/sites/{sid}/inspections",
                 f"/api/v1/sites/{sid}/rectifications", f"/api/v1/sites/{sid}/publicity",
                 f"/api/v1/sites/{sid}/rectifications/{rect}/evidence"):  # fmt: skip
        r = api.get(me, path)
        assert r.status_code == 404 and r.json()["code"] == "not_found", path
    r = act(api, me, sid, "submit_report", report="报告")
    assert r.status_code == 404
    r = api.post(
        me,
        f"/api/v1/sites/{sid}/rectifications/{rect}/evidence",
        files={"file": ("a.pdf", io.BytesIO(PDF))},
    )
    assert r.status_code == 404
    r = api.post(
        me,
        f"/api/v1/sites/{sid}/publicity",
        json={"kind": "forum", "title": "论坛", "happened_on": "2023-02-01"},
    )
    assert r.status_code == 404
    listed = api.get(me, "/api/v1/sites").json()
    assert [s["id"] for s in listed["items"]] == [mine.site_id] and listed["total"] == 1  # type: ignore[attr-defined]
    assert api.get(me, "/api/v1/inspections").json()["total"] == 0
    assert api.get(office, "/api/v1/inspections", params={"year": 2023}).json()["total"] == 1
    # Office-only endpoints refuse the site's people by role.
    r = api.get(me, "/api/v1/sites/reminders")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = api.post(me, "/api/v1/inspections/campaigns", json={"kind": "inspection", "year": 2023})
    assert r.status_code == 403


def test_wrong_role_wrong_state_and_reasons_are_refused_with_codes(
    api: Api, session: Session
) -> None:
    office, mine, _ = _two_sites(api, session)
    sid, me = mine.site_id, mine.owner  # type: ignore[attr-defined]
    r = act(api, me, sid, "delist", reason="negative_public_opinion", opinion="x")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = act(api, office, sid, "accept_report")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = act(api, office, sid, "delist", reason="rectification_failed", opinion="整改不到位")
    assert r.status_code == 409 and r.json()["code"] == "delist_not_allowed"
    r = act(api, office, sid, "delist", reason="ideology_inspection")
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # needs an opinion
    r = act(api, office, sid, "pass")
    assert r.status_code == 422  # needs the inspection
    r = act(api, office, sid, "pass", inspection_id=999999)
    assert r.status_code == 404
    insp = api.post(
        office, f"/api/v1/sites/{sid}/inspections", json={"kind": "review", "year": 2023}
    ).json()
    r = act(
        api,
        office,
        sid,
        "rectify",
        inspection_id=insp["id"],
        findings="问题",
        deadline="2023-03-01",
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_deadline"
    assert act(api, office, sid, "pass", inspection_id=insp["id"]).status_code == 200
    r = act(api, office, sid, "pass", inspection_id=insp["id"])
    assert r.status_code == 409 and r.json()["code"] == "inspection_recorded"
    r = api.post(office, f"/api/v1/sites/{sid}/inspections", json={"kind": "review", "year": 2024})
    assert r.status_code == 422  # that year has not begun
    r = act(
        api, office, sid, "delist", reason="ideology_inspection", opinion="意识形态督查发现问题。"
    )
    assert r.status_code == 200 and r.json()["allowed_actions"] == []
    r = act(api, office, sid, "delist", reason="ideology_inspection", opinion="再次摘牌")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = api.post(
        office, f"/api/v1/sites/{sid}/inspections", json={"kind": "inspection", "year": 2023}
    )
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = act(api, office, sid, "bogus")
    assert r.status_code == 422


def test_stale_etags_fail_and_idempotency_keys_replay(api: Api, session: Session) -> None:
    office, mine, _ = _two_sites(api, session)
    sid = mine.site_id  # type: ignore[attr-defined]
    got = api.get(office, f"/api/v1/sites/{sid}")
    etag = got.headers["ETag"]
    assert etag == got.json()["etag"]
    body = {"action": "delist", "reason": "negative_public_opinion", "opinion": "重大负面舆情"}
    r = api.post(
        office, f"/api/v1/sites/{sid}/transitions", json=body, headers={"If-Match": 'W/"0"'}
    )
    assert r.status_code == 412 and r.json()["code"] == "precondition_failed"
    key = {"If-Match": etag, "Idempotency-Key": "delist-1"}
    first = api.post(office, f"/api/v1/sites/{sid}/transitions", json=body, headers=key)
    assert first.status_code == 200
    replay = api.post(office, f"/api/v1/sites/{sid}/transitions", json=body, headers=key)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    other = api.post(
        office, f"/api/v1/sites/{sid}/transitions", json={**body, "opinion": "另一个"}, headers=key
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert (
        len(
            [
                h
                for h in api.get(office, f"/api/v1/sites/{sid}/history").json()["items"]
                if h["action"] == "delist"
            ]
        )
        == 1
    )


def test_inspectors_are_office_or_member_staff_and_never_the_sites_own(
    api: Api, session: Session
) -> None:
    office, mine, _ = _two_sites(api, session)
    sid, me = mine.site_id, mine.owner  # type: ignore[attr-defined]
    assessor = factories.user(session, ["assessor"], "cac")
    r = api.post(
        office,
        "/api/v1/inspections/campaigns",
        json={"kind": "inspection", "year": 2023, "inspector_ids": [assessor.id]},
    )
    assert r.status_code == 201 and r.json()["items"][0]["inspector_ids"] == [assessor.id]
    iid = r.json()["items"][0]["id"]
    r = api.put(office, f"/api/v1/inspections/{iid}/inspectors", json={"user_ids": [me.id]})
    assert r.status_code == 422  # an applicant account is no inspector
    own_staff = factories.user(
        session, ["assessor"], session.get(Organization, mine.unit.organization_id)
    )  # type: ignore[attr-defined]
    r = api.put(office, f"/api/v1/inspections/{iid}/inspectors", json={"user_ids": [own_staff.id]})
    assert r.status_code == 409 and r.json()["code"] == "conflict_of_interest"
    r = api.put(
        office, f"/api/v1/inspections/{iid}/inspectors", json={"user_ids": [office.id, assessor.id]}
    )  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.json()["inspector_ids"] == [office.id, assessor.id]  # type: ignore[attr-defined]
    assert (
        api.get(me, f"/api/v1/sites/{sid}/inspections").json()["items"][0]["kind"] == "inspection"
    )


def test_publicity_records_forums_and_media_reports(api: Api, session: Session) -> None:
    office, mine, _ = _two_sites(api, session)
    sid, me = mine.site_id, mine.owner  # type: ignore[attr-defined]
    forum = {"kind": "forum", "title": "“皖若春风”思政论坛交流发言", "happened_on": "2023-02-10"}
    assert api.post(me, f"/api/v1/sites/{sid}/publicity", json=forum).status_code == 201
    media = {"kind": "media_report", "title": "红色星期五", "happened_on": "2023-02-20"}
    r = api.post(office, f"/api/v1/sites/{sid}/publicity", json=media)
    assert r.status_code == 422  # a media report needs outlet and level
    r = api.post(office, f"/api/v1/sites/{sid}/publicity",
                 json={**media, "outlet": "安徽日报", "level": "provincial", "link": "https://www.ahwmw.cn/a/1"})  # fmt: skip
    assert r.status_code == 201 and r.json()["level"] == "provincial"
    r = api.post(
        office, f"/api/v1/sites/{sid}/publicity", json={**forum, "happened_on": "2023-12-01"}
    )
    assert r.status_code == 422  # in the future
    r = api.post(office, f"/api/v1/sites/{sid}/publicity", json={**forum, "title": "a\x00b"})
    assert r.status_code == 422
    items = api.get(me, f"/api/v1/sites/{sid}/publicity").json()["items"]
    assert [i["kind"] for i in items] == ["media_report", "forum"]


def test_evidence_is_checked_by_content_and_downloadable_by_the_site_and_office(
    api: Api, session: Session
) -> None:
    office, mine, _ = _two_sites(api, session)
    sid, me = mine.site_id, mine.owner  # type: ignore[attr-defined]
    insp = api.post(
        office, f"/api/v1/sites/{sid}/inspections", json={"kind": "inspection", "year": 2023}
    ).json()
    rect = act(
        api,
        office,
        sid,
        "rectify",
        inspection_id=insp["id"],
        findings="问题",
        deadline="2023-05-01",
    ).json()
    rid = rect["open_rectification"]["id"]
    path = f"/api/v1/sites/{sid}/rectifications/{rid}/evidence"
    bad = api.post(me, path, files={"file": ("report.pdf", io.BytesIO(b"not a pdf at all"))})
    assert bad.status_code == 422 and bad.json()["code"] == "unsupported_file_type"
    by_office = api.post(office, path, files={"file": ("a.pdf", io.BytesIO(PDF))})
    assert by_office.status_code == 403
    ok = api.post(me, path, files={"file": ("整改报告.pdf", io.BytesIO(PDF))})
    assert ok.status_code == 201
    got = api.get(office, ok.json()["download_url"])
    assert got.status_code == 200 and got.content == PDF
    assert api.get(me, path).json()["total"] == 1

"""The HTTP contract around writes: ETag/If-Match (412), Idempotency-Key replay and reuse, list
filters and paging, priority first, and materials judged by content and size."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import Session, select

from demosites.applications.models import Application, Status
from demosites.core.config import get_settings
from demosites.files import service as files
from tests.applications import builders as b
from tests.applications.builders import Api


def _draft(api: Api, session: Session, **extra: object) -> tuple[dict, object]:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    u = b.unit(session, "primary_school", "合肥")
    applicant = b.person(session, ["applicant"], b.org_of(session, u))
    hefei = b.org(session, "hefei")
    resp = api.post(applicant, "/api/v1/applications", json={
        "round_id": r.id, "recommender_id": hefei.id, "name": "思政示范点", "summary": "事迹", **extra})  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert resp.headers["ETag"] == 'W/"1"' and resp.headers["Location"].endswith(
        str(resp.json()["id"])
    )
    return resp.json(), applicant


def test_a_stale_if_match_is_refused_with_412_and_the_current_one_applies(
    api: Api, session: Session
) -> None:
    app, applicant = _draft(api, session)
    path = f"/api/v1/applications/{app['id']}"
    etag = api.get(applicant, path).headers["ETag"]
    assert etag == 'W/"1"'
    ok = api.patch(applicant, path, json={"deeds": "先进事迹材料"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["ETag"] == 'W/"2"' and ok.json()["etag"] == 'W/"2"'
    stale = api.patch(applicant, path, json={"deeds": "另一版本"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert stale.json()["current_etag"] == 'W/"2"'
    assert api.act(applicant, app["id"], "submit", headers={"If-Match": '"1"'}).status_code == 412
    assert (
        api.act(applicant, app["id"], "submit", headers={"If-Match": "garbage"}).status_code == 412
    )
    done = api.act(applicant, app["id"], "submit", headers={"If-Match": 'W/"2"'})
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    assert api.get(applicant, path).json()["deeds"] == "先进事迹材料"


def test_the_same_idempotency_key_and_body_replays_the_first_answer(
    api: Api, session: Session
) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    u = b.unit(session, "community", "芜湖")
    rec = b.person(session, ["recommender"], "wuhu")
    body = {"round_id": r.id, "applicant_id": u.id, "name": "邻里议事厅", "summary": "事迹"}
    key = {"Idempotency-Key": "create-邻里".encode().hex()}
    first = api.post(rec, "/api/v1/applications", json=body, headers=key)
    again = api.post(
        rec, "/api/v1/applications", json=dict(reversed(list(body.items()))), headers=key
    )
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
    assert (
        again.headers["Idempotent-Replayed"] == "true"
        and "Idempotent-Replayed" not in first.headers
    )
    assert len(session.exec(select(Application).where(Application.applicant_id == u.id)).all()) == 1
    other = api.post(rec, "/api/v1/applications", json={**body, "name": "另一个名称"}, headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # A key is the caller's own: another caller's same key is unrelated.
    office = b.person(session, ["office"], "office")
    unit2 = api.post(
        office,
        "/api/v1/applicants",
        json={"name": "芜湖新社区", "kind": "community", "city": "芜湖"},
        headers=key,
    )
    assert unit2.status_code == 201


def test_an_error_is_not_kept_so_a_retry_with_the_key_runs_again(
    api: Api, session: Session
) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.APPLYING)
    hefei = b.org(session, "hefei")
    rec = b.person(session, ["recommender"], hefei)
    first = b.application(session, r, b.unit(session, "community", "合肥"), hefei, Status.submitted)
    second = b.application(
        session, r, b.unit(session, "community", "合肥"), hefei, Status.submitted
    )
    assert api.act(rec, first.id, "recommend", opinion="同意").status_code == 200
    key = {"Idempotency-Key": "rec-second"}
    refused = api.act(rec, second.id, "recommend", opinion="同意", headers=key)
    assert refused.json()["code"] == "quota_exceeded"
    assert api.act(rec, first.id, "withdraw").status_code == 200
    assert api.act(rec, second.id, "recommend", opinion="同意", headers=key).status_code == 200


def test_list_filters_paging_and_priority_first(api: Api, session: Session) -> None:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    b.set_day(b.ASSESSING)
    hefei, wuhu = b.org(session, "hefei"), b.org(session, "wuhu")
    plain = b.application(
        session, r, b.unit(session, "community", "合肥"), hefei, Status.recommended, name="甲社区"
    )
    prio = b.application(session, r, b.unit(session, "village", "合肥"), hefei, Status.recommended, name="乙村",
                         priority=True)  # fmt: skip
    b.application(
        session, r, b.unit(session, "community", "芜湖"), wuhu, Status.recommended, name="丙社区"
    )
    office = b.person(session, ["office"], "office")
    page = api.get(
        office, "/api/v1/applications", params={"round_id": r.id, "recommender_id": hefei.id}
    ).json()
    assert [i["id"] for i in page["items"]] == [prio.id, plain.id] and page["total"] == 2
    assert (
        api.get(office, "/api/v1/applications", params={"round_id": r.id, "q": "社区"}).json()[
            "total"
        ]
        == 2
    )
    assert (
        api.get(office, "/api/v1/applications", params={"round_id": r.id, "field": "rural"}).json()[
            "total"
        ]
        == 1
    )
    assert (
        api.get(office, "/api/v1/applications", params={"round_id": r.id, "priority": True}).json()[
            "total"
        ]
        == 1
    )
    one = api.get(
        office, "/api/v1/applications", params={"round_id": r.id, "limit": 1, "offset": 1}
    ).json()
    assert one["total"] == 3 and len(one["items"]) == 1
    assert api.get(office, "/api/v1/applications", params={"limit": 201}).status_code == 422
    assert api.get(office, "/api/v1/applications", params={"status": "nonsense"}).status_code == 422
    assert api.get(office, f"/api/v1/applications/{2**31}").status_code == 422
    assert (
        api.patch(office, f"/api/v1/applications/{plain.id}", json={"name": "x"}).status_code == 403
    )


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 20, "application/msword"),
        (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_materials_are_accepted_by_content_and_downloadable(
    api: Api, session: Session, data: bytes, content_type: str
) -> None:
    app, applicant = _draft(api, session)
    up = api.post(applicant, f"/api/v1/applications/{app['id']}/materials",
                  files={"file": ("先进事迹.bin", data, "application/octet-stream")}, data={"purpose": "deeds"})  # fmt: skip
    assert up.status_code == 201, up.text
    assert up.json()["content_type"] == content_type and up.json()["size"] == len(data)
    listed = api.get(applicant, f"/api/v1/applications/{app['id']}/materials").json()
    assert listed["total"] == 1
    got = api.get(applicant, up.json()["download_url"])
    assert (
        got.status_code == 200
        and got.content == data
        and got.headers["content-type"].startswith(content_type)
    )


def test_a_disguised_or_oversized_upload_is_refused_and_leaves_nothing(
    api: Api, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, applicant = _draft(api, session)
    path = f"/api/v1/applications/{app['id']}/materials"
    before = {p for p in files.upload_root().rglob("*") if p.is_file()}
    bad = api.post(
        applicant, path, files={"file": ("deeds.pdf", b"MZ\x90\x00" * 10, "application/pdf")}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unsupported_file_type"
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    big = api.post(
        applicant,
        path,
        files={"file": ("big.pdf", b"%PDF-" + b"x" * (1024 * 1024 + 1), "application/pdf")},
    )
    assert big.status_code == 413
    assert {p for p in files.upload_root().rglob("*") if p.is_file()} == before
    assert api.get(applicant, path).json()["total"] == 0


def test_priority_evidence_counts_for_submission(api: Api, session: Session) -> None:
    app, applicant = _draft(
        api,
        session,
        deeds="事迹",
        priority_claims=[{"kind": "leader_instruction", "description": "省领导批示肯定"}],
    )
    assert api.act(applicant, app["id"], "submit").json()["code"] == "validation_error"
    up = api.post(applicant, f"/api/v1/applications/{app['id']}/materials",
                  files={"file": ("批示.pdf", b"%PDF-1.4 x", "application/pdf")},
                  data={"purpose": "evidence_leader_instruction"})  # fmt: skip
    assert up.status_code == 201
    done = api.act(applicant, app["id"], "submit").json()
    assert done["status"] == "submitted"
    assert done["priority_claims"][0]["evidence"][0]["filename"] == "批示.pdf"
    # Once submitted, the unit no longer changes its materials.
    late = api.post(applicant, f"/api/v1/applications/{app['id']}/materials",
                    files={"file": ("x.pdf", b"%PDF-1.4 y", "application/pdf")})  # fmt: skip
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"

"""The applicant-unit import: a template to download; the upload checked whole, imported whole
or refused whole with every problem by row and column; a re-import creates no duplicates."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, col, func, select

from demosites.applicants.models import ApplicantUnit
from demosites.audit.models import HistoryEntry
from demosites.audit.service import GENESIS, verify_chain
from demosites.events.models import OutboxEvent
from demosites.organizations.models import CITIES, Organization
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import ok

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD_ROWS = [
    ["合肥市第四十五中学", "中小学校", "合肥", None, None, None, None],
    ["安徽大学马克思主义学院", "高校二级教学单位", "合肥市", "安徽大学", "是", None, None],
    ["合肥百货大楼集团", "企业", "合肥", None, None, "其他", "hf_department_store"],
    ["庐阳区杏花村街道社区", "社区", "合肥", None, None, None, None],
    ["肥西县三河镇小河沿村", "行政村", "合肥", None, None, None, None],
]


def filled(api: Api, user: Any, rows: list[list[Any]]) -> bytes:
    """The downloaded template with `rows` from row 2."""
    resp = api.get(user, "/api/v1/applicants/import-template.xlsx")
    assert resp.status_code == 200 and resp.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(resp.content))
    ws = wb["申报主体"]
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(api: Api, user: Any, data: bytes) -> Any:
    return api.post(user, "/api/v1/applicants/import", files={"file": ("units.xlsx", data, XLSX)})


def units(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ApplicantUnit)).one()


def test_the_template_has_the_columns_drop_downs_and_instructions(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    wb = load_workbook(
        io.BytesIO(api.get(office, "/api/v1/applicants/import-template.xlsx").content)
    )
    ws = wb["申报主体"]
    assert [c.value for c in ws[1]] == [
        "单位名称*",
        "申报主体类型*",
        "所属城市*",
        "所属高校",
        "是否省属高校",
        "企业所有制",
        "组织代码",
    ]
    assert ws.freeze_panes == "A2" and ws.max_row == 1
    assert len(ws.data_validations.dataValidation) == 4
    assert "合費" not in [c.value for c in wb["选项"]["B"]] and "合肥" in [
        c.value for c in wb["选项"]["B"]
    ]
    assert any("整表校验" in (c.value or "") for c in wb["说明"]["A"])
    applicant = b.person(session, ["applicant"], b.org_of(session, b.unit(session)))
    assert api.get(applicant, "/api/v1/applicants/import-template.xlsx").status_code == 403


def test_a_sheet_with_errors_is_refused_whole_with_each_error_by_row_and_column(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    rows = [
        *GOOD_ROWS[:2],  # rows 2, 3
        ["芜湖某企业", "企业", "芜湖", None, None, None, None],  # row 4: no ownership
        ["铜陵某学校", "大学", "铜陵", None, None, None, None],  # row 5: not a kind
        ["合肥市第四十五中学", "中小学校", "合肥", None, None, None, None],  # row 6: repeats row 2
        ["合费某社区", "社区", "合費", None, None, None, None],  # row 7: not a city
        [
            None,
            "行政村",
            "六安",
            "某大学",
            None,
            None,
            None,
        ],  # row 8: no name; a village has no university
    ]
    before = units(session)
    resp = upload(api, office, filled(api, office, rows))
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "import_invalid"
    got = {(e["row"], e["column"]) for e in body["errors"]}
    assert got == {
        (4, "企业所有制"),
        (5, "申报主体类型"),
        (6, "单位名称"),
        (7, "所属城市"),
        (8, "单位名称"),
        (8, "所属高校"),
    }
    city = next(e for e in body["errors"] if e["row"] == 7)
    assert (
        "合費" in city["message"]
        and city["cell"] == "C7"
        and city["loc"] == ["row", "7", "所属城市"]
    )
    assert "第 2 行" in next(e for e in body["errors"] if e["row"] == 6)["message"]
    assert units(session) == before  # nothing imported, not even the good rows


def test_an_import_creates_units_as_the_api_does_and_a_reimport_creates_no_duplicates(
    api: Api, session: Session
) -> None:
    office = b.person(session, ["office"], "office")
    data = filled(api, office, GOOD_ROWS)
    before = units(session)
    result = ok(upload(api, office, data))
    assert (result["created"], result["skipped"]) == (5, 0)
    assert units(session) == before + 5
    created = {
        u["name"]: u
        for u in ok(api.get(office, "/api/v1/applicants", params={"q": "合肥", "limit": 200}))[
            "items"
        ]
    }
    assert (
        created["合肥市第四十五中学"]["kind"] == "primary_school"
        and created["合肥市第四十五中学"]["field"] == "school"
    )
    university = ok(api.get(office, f"/api/v1/applicants/{result['created_ids'][1]}"))
    assert (university["city"], university["university"], university["provincial_university"]) == (
        "合肥",
        "安徽大学",
        True,
    )
    enterprise = ok(api.get(office, f"/api/v1/applicants/{result['created_ids'][2]}"))
    assert (enterprise["ownership"], enterprise["organization_code"]) == (
        "other",
        "hf_department_store",
    )
    history = session.exec(select(func.count()).select_from(HistoryEntry).where(
        HistoryEntry.object_type == "applicant_unit", HistoryEntry.action == "create")).one()  # fmt: skip
    assert history >= 5  # each unit's creation is in the history, as through POST /applicants

    again = ok(upload(api, office, data))
    assert (again["created"], again["skipped"]) == (0, 5)
    assert [s["row"] for s in again["skipped_rows"]] == [2, 3, 4, 5, 6]
    assert {s["existing_id"] for s in again["skipped_rows"]} == set(result["created_ids"])
    assert units(session) == before + 5


def test_a_city_recommender_imports_units_of_its_own_city_only(api: Api, session: Session) -> None:
    hefei = b.person(session, ["recommender"], "hefei")
    rows = [GOOD_ROWS[0], ["芜湖市某社区", "社区", "芜湖", None, None, None, None]]
    resp = upload(api, hefei, filled(api, hefei, rows))
    assert resp.status_code == 422
    assert [(e["row"], e["column"]) for e in resp.json()["errors"]] == [(3, "所属城市")]
    assert ok(upload(api, hefei, filled(api, hefei, rows[:1])))["created"] == 1


def test_what_is_not_the_template_is_refused(api: Api, session: Session) -> None:
    office = b.person(session, ["office"], "office")
    not_xlsx = upload(api, office, b"%PDF-1.4 not a workbook")
    assert not_xlsx.status_code == 422 and not_xlsx.json()["code"] == "import_invalid"
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["名称", "城市"])
    buf = io.BytesIO()
    wb.save(buf)
    wrong = upload(api, office, buf.getvalue())
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["row"] == 1
    empty = upload(api, office, filled(api, office, []))
    assert empty.status_code == 422 and "没有数据行" in empty.json()["detail"]


def count(session: Session, *tables: Any) -> list[int]:
    return [session.exec(select(func.count()).select_from(t)).one() for t in tables]


def test_a_thousand_units_are_imported_each_with_its_history_and_event_and_a_reimport_skips_all(
    api: Api, session: Session
) -> None:
    """The import writes in batches, yet leaves for every unit what POST /applicants leaves: its
    organisation, one history entry in the chain and one `applicant_unit.created` event."""
    office = b.person(session, ["office"], "office")
    single = {"name": "单个登记的社区", "kind": "community", "city": "合肥"}
    one = ok(api.post(office, "/api/v1/applicants", json=single), 201)
    kinds = [
        ("中小学校", None, None, "primary_school", "school"),
        ("企业", None, "民营", "enterprise", "enterprise"),
        ("社区", None, None, "community", "community"),
        ("行政村", None, None, "village", "rural"),
        ("高校二级教学单位", "安徽大学", None, "university_unit", "school"),
    ]
    rows = [
        [f"批量导入单位{n:04d}", kinds[n % 5][0], CITIES[n % 16], kinds[n % 5][1], None,
         kinds[n % 5][2], "bulk_given_code" if n == 7 else None]
        for n in range(1000)
    ]  # fmt: skip
    data = filled(api, office, rows)
    before = units(session)
    result = ok(upload(api, office, data))
    ids = result["created_ids"]
    assert (result["created"], result["skipped"], len(set(ids))) == (1000, 0, 1000)
    assert units(session) == before + 1000

    # created_ids follow the rows, and each unit and its organisation are as the row says
    made = session.exec(select(ApplicantUnit).where(col(ApplicantUnit.id).in_(ids))).all()
    unit = {u.id: u for u in made}
    assert [(unit[i].name, unit[i].city) for i in ids] == [(r[0], r[2]) for r in rows]
    assert [(unit[i].kind, unit[i].field) for i in ids] == [kinds[n % 5][3:] for n in range(1000)]
    assert (unit[ids[1]].ownership, unit[ids[4]].university) == ("private", "安徽大学")
    org = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_([u.organization_id for u in made]))
        )
    }
    assert {(o.kind, o.name) for o in org.values()} == {("applicant_unit", u.name) for u in made}
    assert len({o.code for o in org.values()}) == 1000  # codes generated, none twice
    assert org[unit[ids[7]].organization_id].code == "bulk_given_code"

    # one history entry per unit, shaped as the single registration's, and the chain holds
    entries = session.exec(
        select(HistoryEntry)
        .where(HistoryEntry.object_type == "applicant_unit", HistoryEntry.action == "create")
        .where(col(HistoryEntry.object_id).in_([one["id"], *ids]))
        .order_by(col(HistoryEntry.id))
    ).all()
    assert [e.object_id for e in entries] == [one["id"], *ids]
    first = unit[ids[0]]
    assert entries[1].data == {
        "name": first.name, "kind": "primary_school", "city": first.city,
        "organization_id": first.organization_id,
    }  # fmt: skip
    assert {(e.actor_role, e.actor_name, tuple(sorted(e.data or {}))) for e in entries} == {
        (entries[0].actor_role, entries[0].actor_name, tuple(sorted(entries[0].data or {})))
    }
    # each unit is a stream of its own, begun by its creation
    assert {(e.seq, e.prev_hash) for e in entries} == {(1, GENESIS)}
    assert verify_chain(session).intact

    # one applicant_unit.created event per unit, for the unit's organisation and the importer's
    events = session.exec(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "applicant_unit.created")
        .where(col(OutboxEvent.object_id).in_([one["id"], *ids]))
        .order_by(col(OutboxEvent.id))
    ).all()
    assert [e.object_id for e in events] == [one["id"], *ids]
    assert events[0].payload == {"id": one["id"], **single}
    assert events[1].payload == {
        "id": first.id, "name": first.name, "kind": "primary_school", "city": first.city
    }  # fmt: skip
    audiences = [set(e.audience.strip(",").split(",")) for e in events]
    orgs = [one["organization_id"], *(unit[i].organization_id for i in ids)]
    assert audiences == [{str(o), str(office.organization_id)} for o in orgs]

    # the same file again: every row skipped, nothing written
    tables = (HistoryEntry, OutboxEvent, Organization, ApplicantUnit)
    written = count(session, *tables)
    again = ok(upload(api, office, data))
    assert (again["created"], again["skipped"]) == (0, 1000)
    assert [s["existing_id"] for s in again["skipped_rows"]] == ids
    assert count(session, *tables) == written

    # a new row with a code another organisation has: refused whole, on that cell
    taken = ["又一个单位", "社区", "合肥", None, None, None, "bulk_given_code"]
    refused = upload(api, office, filled(api, office, [*rows[:3], taken]))
    assert refused.status_code == 422, refused.text
    assert [(e["row"], e["cell"]) for e in refused.json()["errors"]] == [(5, "G5")]
    assert count(session, *tables) == written

"""Excel exports: the rows are the API list's rows for the same filters and the caller's data
scope; Chinese headers, frozen header row, widths that fit, dates as dates."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook
from sqlmodel import Session

from demosites.applications.models import Status
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import DAYS, OPINIONS, ok, submitted_application, walk


def sheet_of(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert (
        response.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return ws, rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def listed_ids(api: Api, user, **params) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        a["id"]
        for a in ok(api.get(user, "/api/v1/applications", params={**params, "limit": 200}))["items"]
    ]


def test_the_application_export_has_the_lists_rows_for_the_same_filters_and_scope(
    api: Api, session: Session
) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    hefei = [
        submitted_application(session, r, city="合肥", kind=k)
        for k in ("primary_school", "community", "village")
    ]
    wuhu = submitted_application(session, r, city="芜湖")
    hefei[1].priority = True  # priority sorts first, in the list and in the export
    session.add(hefei[1])
    cast = walk(api, session, hefei[0], r, upto="record_assessment")
    office, recommender = cast.office, cast.recommender

    for user, params in (
        (office, {"round_id": r.id}),
        (office, {"round_id": r.id, "field": "school"}),
        (office, {"round_id": r.id, "status": "submitted"}),
        (recommender, {"round_id": r.id}),  # 合肥's recommender: its own city's only
        (recommender, {"q": "红色星期五"}),
    ):
        ws, header, rows = sheet_of(
            api.get(user, "/api/v1/applications/export.xlsx", params=params)
        )
        assert [row["申报编号"] for row in rows] == listed_ids(api, user, **params), params
    ws, header, rows = sheet_of(
        api.get(recommender, "/api/v1/applications/export.xlsx", params={"round_id": r.id})
    )
    assert wuhu.id not in [row["申报编号"] for row in rows]
    assert rows[0]["申报编号"] == hefei[1].id and rows[0]["优先申报"] == "是"

    assert header[:8] == [
        "申报编号",
        "年度",
        "示范点名称",
        "申报主体",
        "推荐单位",
        "领域",
        "所在城市",
        "状态",
    ]
    assert ws.freeze_panes == "A2"
    assessed = next(row for row in rows if row["申报编号"] == hefei[0].id)
    assert (
        assessed["状态"] == "已考核"
        and assessed["领域"] == "学校"
        and assessed["推荐单位"] == "合肥市委宣传部"
    )
    assert assessed["推荐审核意见"] == OPINIONS["recommend"]
    assert (
        isinstance(assessed["推荐日期"], datetime)
        and assessed["推荐日期"].date() == DAYS["recommend"]
    )
    assert assessed["实地考核日期"].date() == date(2022, 9, 12)
    assert assessed["考核总分"] == 90 + 85 + 88 + 92 and assessed["部务会审批意见"] is None
    date_cell = ws.cell(
        row=2 + [row["申报编号"] for row in rows].index(hefei[0].id),
        column=header.index("推荐日期") + 1,
    )
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    name_col = ws.column_dimensions["C"].width

    def shown(text: str) -> int:  # Chinese characters and quotes are two columns wide, digits one
        return sum(2 if ord(ch) > 0x2000 else 1 for ch in text)

    assert name_col >= max(shown(str(row["示范点名称"])) for row in rows)


def test_the_quota_board_and_candidate_list_exports(api: Api, session: Session) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    apps = [submitted_application(session, r, city=c) for c in ("合肥", "芜湖", "安庆")]
    cast = walk(api, session, apps[0], r, upto="approve")
    walk(api, session, apps[1], r, upto="adopt")
    walk(api, session, apps[2], r, upto="propose")  # proposed, not yet a candidate
    office = cast.office

    ws, header, rows = sheet_of(api.get(office, f"/api/v1/rounds/{r.id}/quotas/export.xlsx"))
    board = ok(api.get(office, f"/api/v1/rounds/{r.id}/quotas"))["items"]
    assert header == ["推荐单位", "领域", "名额", "已推荐", "剩余", "推荐范围"]
    assert [(row["推荐单位"], row["名额"], row["已推荐"], row["剩余"]) for row in rows] == [
        (q["recommender_name"], q["limit"], q["used"], q["left"]) for q in board
    ]
    hefei_school = next(
        row for row in rows if row["推荐单位"] == "合肥市委宣传部" and row["领域"] == "学校"
    )
    assert (hefei_school["名额"], hefei_school["已推荐"], hefei_school["剩余"]) == (1, 1, 0)
    assert "本市单位" in hefei_school["推荐范围"]

    ws, header, rows = sheet_of(api.get(office, f"/api/v1/rounds/{r.id}/candidates/export.xlsx"))
    assert [row["申报编号"] for row in rows] == [apps[0].id, apps[1].id]
    assert [row["状态"] for row in rows] == ["部务会审批通过", "列入候选名单"]
    assert rows[0]["部务会审批意见"] == OPINIONS["approve"] and rows[0]["序号"] == 1
    # The approver sees candidates and later only, as in its list.
    ws, header, rows = sheet_of(
        api.get(cast.approver, f"/api/v1/rounds/{r.id}/candidates/export.xlsx")
    )
    assert len(rows) == 2
    # 合肥's recommender sees only its own candidate.
    ws, header, rows = sheet_of(
        api.get(cast.recommender, f"/api/v1/rounds/{r.id}/candidates/export.xlsx")
    )
    assert [row["申报编号"] for row in rows] == [apps[0].id]
    assert api.get(office, "/api/v1/rounds/999999/candidates/export.xlsx").status_code == 404


def test_text_that_looks_like_a_formula_stays_text(api: Api, session: Session) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(session, r, name='=HYPERLINK("http://x")')
    office = b.person(session, ["office"], "office")
    resp = api.get(office, "/api/v1/applications/export.xlsx", params={"round_id": r.id})
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    cell = ws.cell(row=2, column=3)
    assert cell.value == app.name and cell.data_type == "s"
    assert Status.submitted == app.status

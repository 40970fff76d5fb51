"""Documents of the after-award part: certificates with a QR code to the public plaque check,
the sites/inspections/rectifications exports, and the 创新案例选编 grouped by field."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from typing import Any

from docx import Document
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from sqlmodel import Session, select

from demosites.applications.models import Application, Status
from demosites.core.actor import Actor
from demosites.core.config import ROOT
from demosites.documents import certificates, compilation, jobs
from demosites.organizations.models import CITY_CODES, User
from demosites.rounds.models import Round
from demosites.sites.models import Rectification, Site, SiteStatus
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import ok

ARTIFACTS = ROOT / "var" / "test-artifacts"
# (city, kind, unit name, field label)
UNITS = (
    ("合肥", "primary_school", "合肥市第四十五中学", "学校"),
    ("芜湖", "enterprise", "芜湖海螺集团", "企业"),
    ("安庆", "community", "安庆市大观区德宽路社区", "社区"),
    ("六安", "village", "金寨县大湾村", "农村"),
    ("合肥", "community", "合肥市蜀山区琥珀社区", "社区"),
)


def award_sites(api: Api, session: Session, r: Round, office: User) -> list[Site]:
    out = []
    for city, kind, unit_name, _ in UNITS:
        u = b.unit(session, kind, city, name=unit_name)
        app = b.application(session, r, u, b.org(session, CITY_CODES[city]), Status.approved,
                            name=f"{unit_name}思政示范点", summary=f"{unit_name}的简要事迹。",
                            deeds=f"{unit_name}的先进事迹材料正文。")  # fmt: skip
        b.set_day(b.AWARDING)
        ok(api.act(office, app.id or 0, "award"))
        out.append(session.exec(select(Site).where(Site.application_id == app.id)).one())
    return out


def setup_round(api: Api, session: Session) -> tuple[Round, User, list[Site]]:
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    office = b.person(session, ["office"], "office")
    return r, office, award_sites(api, session, r, office)


def sheet_rows(resp: Any) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    assert ws.freeze_panes == "A2"
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def qr_matrix(img: Image.Image, modules: int) -> list[list[bool]]:
    """Reads a QR image (border QR_BORDER) back into its dark/light modules."""
    gray = img.convert("L")
    cell = gray.size[0] / (modules + 2 * certificates.QR_BORDER)
    out = []
    for y in range(modules):
        row = []
        for x in range(modules):
            cx = int((x + certificates.QR_BORDER + 0.5) * cell)
            cy = int((y + certificates.QR_BORDER + 0.5) * cell)
            row.append(gray.getpixel((cx, cy)) < 128)
        out.append(row)
    return out


def test_a_certificate_names_the_site_and_its_qr_code_opens_the_public_plaque_check(
    api: Api, session: Session
) -> None:
    r, office, sites = setup_round(api, session)
    site = sites[0]
    resp = api.get(office, f"/api/v1/sites/{site.id}/certificate.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.content))
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # A4 landscape
    text = "".join(page.extract_text().split())
    url = certificates.verification_url(site.plaque_no)
    assert url.endswith(
        "/public/plaques/"
        + "%E7%9A%96%E6%80%9D%E6%94%BF%E7%A4%BA%E8%8C%83%E3%80%942022%E3%80%95001%E5%8F%B7"
    )
    for expected in ("证书", "合肥市第四十五中学", "合肥市第四十五中学思政示范点", site.plaque_no, "2022年11月25日",
                     "中共安徽省委宣传部", "扫码核验", "核验网址：http://127.0.0.1:8000/public/plaques/" + site.plaque_no):  # fmt: skip
        assert expected in text, expected
    # The QR image in the PDF holds exactly the code of the verification URL.
    images = page.images
    assert len(images) == 1
    expected_qr = certificates.qr_of(site.plaque_no)
    modules = len(expected_qr.matrix)
    assert qr_matrix(images[0].image, modules) == [
        [bool(v) for v in row] for row in expected_qr.matrix
    ]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "certificate.pdf").write_bytes(resp.content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(ARTIFACTS / "certificate.pdf"),
                    str(ARTIFACTS / "certificate-page1")], check=True)  # fmt: skip

    stranger = b.person(session, ["recommender"], "wuhu")  # recommended sites[1], not sites[0]
    assert api.get(stranger, f"/api/v1/sites/{site.id}/certificate.pdf").status_code == 404
    assert api.get(stranger, f"/api/v1/sites/{sites[1].id}/certificate.pdf").status_code == 200
    site.status = SiteStatus.delisted
    session.add(site)
    delisted = api.get(office, f"/api/v1/sites/{site.id}/certificate.pdf")
    assert delisted.status_code == 409 and delisted.json()["code"] == "site_delisted"


def test_a_certificates_batch_is_one_pdf_with_a_page_per_site(
    api: Api, session: Session, launched: list[int]
) -> None:
    r, office, sites = setup_round(api, session)
    sites[4].status = SiteStatus.delisted
    session.add(sites[4])
    job = ok(api.post(office, "/api/v1/sites/certificates.pdf", json={"round_id": r.id}), 202)
    assert job["kind"] == "certificates" and job["total_items"] == 4 and launched == [job["id"]]
    refused = api.post(office, "/api/v1/sites/certificates.pdf", json={"site_ids": [sites[4].id]})
    assert refused.status_code == 409
    # What the job's thread runs, here on the test session.
    params = {"site_ids": [s.id for s in sites[:4]]}
    seen: list[tuple[int, int]] = []
    actor = Actor(user_id=office.id, username=office.username, display_name="", organization_id=office.organization_id,
                  organization_name="", organization_city=None, roles=frozenset({"office"}))  # fmt: skip
    data, name, ctype = jobs.GENERATORS["certificates"](
        session, actor, params, lambda d, t: seen.append((d, t))
    )
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 4 and name == "证书-4份.pdf" and ctype == "application/pdf"
    assert seen[-1] == (4, 4) and len(seen) == 4
    assert [
        s.plaque_no in "".join(p.extract_text().split())
        for p, s in zip(reader.pages, sorted(sites[:4], key=lambda s: s.plaque_no), strict=True)
    ] == [True] * 4


def test_the_site_inspection_and_rectification_exports_match_the_lists(
    api: Api, session: Session
) -> None:
    r, office, sites = setup_round(api, session)
    hefei = b.person(session, ["recommender"], "hefei")
    for user, params in (
        (office, {}),
        (office, {"city": "合肥"}),
        (office, {"field": "community"}),
        (hefei, {}),
    ):
        rows = sheet_rows(api.get(user, "/api/v1/sites/export.xlsx", params=params))
        listed = ok(api.get(user, "/api/v1/sites", params={**params, "limit": 200}))["items"]
        assert [row["牌匾编号"] for row in rows] == [s["plaque_no"] for s in listed], params
    rows = sheet_rows(api.get(hefei, "/api/v1/sites/export.xlsx"))
    assert {row["申报主体"] for row in rows} == {"合肥市第四十五中学", "合肥市蜀山区琥珀社区"}
    assert rows[0]["授牌日期"].date() == date(2022, 11, 25) and rows[0]["状态"] == "在牌"

    b.set_day(date(2023, 3, 1))
    ok(
        api.post(
            office,
            f"/api/v1/sites/{sites[0].id}/inspections",
            json={"kind": "inspection", "year": 2023},
        ),
        201,
    )
    ok(
        api.post(
            office,
            f"/api/v1/sites/{sites[1].id}/inspections",
            json={"kind": "review", "year": 2023},
        ),
        201,
    )
    rows = sheet_rows(api.get(office, "/api/v1/inspections/export.xlsx", params={"year": 2023}))
    listed = ok(api.get(office, "/api/v1/inspections", params={"year": 2023}))["items"]
    assert [(row["示范点名称"], row["类型"]) for row in rows] == [
        (i["site_name"], {"inspection": "检查", "review": "复核"}[i["kind"]]) for i in listed
    ]
    assert {row["结论"] for row in rows} == {"未录入"} and rows[0]["牌匾编号"]
    assert len(sheet_rows(api.get(hefei, "/api/v1/inspections/export.xlsx"))) == 1

    session.add(Rectification(site_id=sites[1].id or 0, findings="台账不全", deadline=date(2023, 2, 1),
                              created_at=b.clock.now()))  # fmt: skip
    session.flush()
    rows = sheet_rows(api.get(office, "/api/v1/rectifications/export.xlsx"))
    assert [(row["示范点名称"], row["状态"], row["逾期"]) for row in rows] == [
        ("芜湖海螺集团思政示范点", "待整改", "是")
    ]
    assert rows[0]["整改期限"].date() == date(2023, 2, 1)
    assert sheet_rows(api.get(hefei, "/api/v1/rectifications/export.xlsx")) == []


def test_the_compilation_groups_the_rounds_sites_by_field_with_deeds_and_media_reports(
    api: Api, session: Session, launched: list[int]
) -> None:
    r, office, sites = setup_round(api, session)
    b.set_day(b.PUBLICITY)
    report = {"kind": "media_report", "title": "“红色星期五”点亮思政课堂", "happened_on": "2022-12-20",
              "outlet": "安徽日报", "level": "provincial"}  # fmt: skip
    ok(api.post(office, f"/api/v1/sites/{sites[0].id}/publicity", json=report), 201)
    forum = {"kind": "forum", "title": "“皖若春风”思政论坛交流发言", "happened_on": "2023-01-05"}
    ok(api.post(office, f"/api/v1/sites/{sites[2].id}/publicity", json=forum), 201)
    delisted = sites[4]
    delisted.status = SiteStatus.delisted
    session.add(delisted)
    session.flush()

    job = ok(api.post(office, f"/api/v1/rounds/{r.id}/compilation.docx"), 202)
    assert job["kind"] == "compilation" and job["total_items"] == 4 and launched == [job["id"]]
    recommender = b.person(session, ["recommender"], "hefei")
    assert api.post(recommender, f"/api/v1/rounds/{r.id}/compilation.docx").status_code == 403
    empty = b.make_round(session, year=2025)
    assert (
        api.post(office, f"/api/v1/rounds/{empty.id}/compilation.docx").json()["code"]
        == "nothing_to_export"
    )

    actor = b.actor_of(session, office)
    data = compilation.build(session, actor, r.id or 0, lambda d, t: None)
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "创新案例选编" in paragraphs and "（2022年度）" in paragraphs  # the cover
    toc = paragraphs.index("目　录")
    assert paragraphs[toc + 1] == "一、学校领域（1个）"
    assert "三、社区领域（1个）" in paragraphs[toc:]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    fields = [h for h in headings if h.endswith("领域")]
    assert fields == ["一、学校领域", "二、企业领域", "三、社区领域", "四、农村领域"]
    # Each site under its own field's heading, with plaque number, unit, city and deeds.
    section_of: dict[str, str] = {}
    current = ""
    for h in headings:
        if h in fields:
            current = h
        elif h[0].isdigit():
            section_of[h.split(". ", 1)[1]] = current
    assert section_of == {
        "合肥市第四十五中学思政示范点": "一、学校领域", "芜湖海螺集团思政示范点": "二、企业领域",
        "安庆市大观区德宽路社区思政示范点": "三、社区领域", "金寨县大湾村思政示范点": "四、农村领域",
    }  # fmt: skip
    body = "\n".join(paragraphs)
    assert "合肥市蜀山区琥珀社区" not in body  # delisted: not in the book
    first = paragraphs.index("1. 合肥市第四十五中学思政示范点")
    block = paragraphs[first : paragraphs.index("2. 芜湖海螺集团思政示范点")]
    assert f"牌匾编号：{sites[0].plaque_no}" in block and "申报主体：合肥市第四十五中学" in block
    assert "所在城市：合肥" in block and "授牌日期：2022年11月25日" in block
    assert (
        "合肥市第四十五中学的简要事迹。" in block
        and "合肥市第四十五中学的先进事迹材料正文。" in block
    )
    assert "2022年12月20日　《安徽日报》（省级）　“红色星期五”点亮思政课堂" in block
    assert "论坛交流：“皖若春风”思政论坛交流发言" in body
    assert "（暂无宣传推介记录）" in paragraphs[paragraphs.index("2. 芜湖海螺集团思政示范点") :]
    assert isinstance(session.get(Application, sites[0].application_id), Application)

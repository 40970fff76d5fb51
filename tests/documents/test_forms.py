"""The 申报审批表 as Word and PDF: the attachment's labels, filled from the history as far as it
goes (blank blocks with 年 月 日 where a stage has not happened), only for those who may see it."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from docx import Document
from PIL import Image
from pypdf import PdfReader
from sqlmodel import Session

from demosites.core.config import ROOT
from demosites.documents.forms import TITLE
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import DAYS, OPINIONS, ok, submitted_application, walk

LABELS = ("示范点名称", "申报主体", "推荐单位", "示范点简要事迹", "推荐审核意见", "初评审核意见",
          "考核组审核意见", "部务会审批意见")  # fmt: skip
BLOCKS = ("推荐审核意见", "初评审核意见", "考核组审核意见", "部务会审批意见")
ARTIFACTS = ROOT / "var" / "test-artifacts"


def flat(text: str) -> str:
    """Text without whitespace: the form breaks its labels over lines as the seed does."""
    return "".join(text.split())


def docx_of(response) -> Document:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in response.headers["content-disposition"]
    return Document(io.BytesIO(response.content))


def blocks_of(doc) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """label → the text of its opinion cell."""
    table = doc.tables[0]
    return {flat(row.cells[0].text): row.cells[1].text for row in table.rows[3:]}


def test_the_word_form_has_every_label_and_blank_dated_blocks_before_any_opinion(
    api: Api, session: Session
) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(
        session, r, unit_name="合肥市第四十五中学", name="“红色星期五”思政课堂"
    )
    cast = b.cast_for(session, app)
    doc = docx_of(api.get(cast.recommender, f"/api/v1/applications/{app.id}/form.docx"))

    text = flat("\n".join(p.text for p in doc.paragraphs))
    assert TITLE in text
    table = doc.tables[0]
    cells = flat(" ".join(c.text for row in table.rows for c in row.cells))
    for label in LABELS:
        assert label in cells, label
    assert flat(table.rows[0].cells[1].text) == "“红色星期五”思政课堂"
    assert table.rows[1].cells[1].text == "合肥市第四十五中学"
    assert table.rows[1].cells[3].text == "合肥市委宣传部"
    assert "红色星期五" in table.rows[2].cells[1].text
    blocks = blocks_of(doc)
    assert list(blocks) == list(BLOCKS)
    for label, cell in blocks.items():
        assert flat(cell) == "年月日", (label, cell)  # nothing but the blank date to fill by hand


def test_the_word_form_carries_each_opinion_and_its_date_as_far_as_the_history_goes(
    api: Api, session: Session
) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(session, r)
    cast = walk(api, session, app, r, upto="record_assessment")
    doc = docx_of(api.get(cast.office, f"/api/v1/applications/{app.id}/form.docx"))
    blocks = blocks_of(doc)

    assert OPINIONS["recommend"] in blocks["推荐审核意见"]
    assert "合肥市委宣传部" in blocks["推荐审核意见"]
    assert "2022年7月1日" in blocks["推荐审核意见"]
    assert OPINIONS["pass_preliminary"] in blocks["初评审核意见"]
    assert "2022年8月20日" in blocks["初评审核意见"]
    assert OPINIONS["record_assessment"] in blocks["考核组审核意见"]
    assert "2022年9月15日" in blocks["考核组审核意见"]
    assert flat(blocks["部务会审批意见"]) == "年月日"  # the 部务会 has not met yet


def test_the_pdf_form_is_a4_with_the_cjk_font_embedded_and_renders_chinese(
    api: Api, session: Session
) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(
        session, r, unit_name="芜湖市镜湖区大砻坊社区", city="芜湖", kind="community"
    )
    cast = walk(api, session, app, r, upto="approve")
    resp = api.get(cast.approver, f"/api/v1/applications/{app.id}/form.pdf")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.content))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
        595,
        842,
    )  # A4
    assert len(reader.pages) == 1  # a short form prints on one sheet
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert TITLE in text
    for label in LABELS:
        assert label in text, label
    assert "芜湖市镜湖区大砻坊社区" in text and "芜湖市委宣传部" in text
    for action in ("recommend", "pass_preliminary", "record_assessment", "approve"):
        assert flat(OPINIONS[action]) in text, action
        d = DAYS[action]
        assert f"{d.year}年{d.month}月{d.day}日" in text, action
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    assert fonts and all("CJK" in str(f["/BaseFont"]) for f in fonts)
    for f in fonts:  # Type0 → descendant → descriptor → an embedded font file
        descriptor = f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))

    # Page 1 as an image, kept as a test artifact: it must show something (the Chinese text).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / "application-form.pdf"
    pdf_path.write_bytes(resp.content)
    stem = ARTIFACTS / "application-form-page1"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(stem),
        ],
        check=True,
    )
    png = Path(f"{stem}.png")
    with Image.open(png) as img:
        gray = img.convert("L")
        dark = sum(1 for v in gray.getdata() if v < 128)
        assert img.size[0] < img.size[1]  # portrait
        assert dark / (gray.size[0] * gray.size[1]) > 0.01, "page 1 rendered blank"


def test_another_recommenders_form_is_not_found(api: Api, session: Session) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(session, r)
    stranger = b.person(session, ["recommender"], "wuhu")
    other_applicant = b.person(session, ["applicant"], b.org_of(session, b.unit(session)))
    for who in (stranger, other_applicant):
        for fmt in ("docx", "pdf"):
            resp = api.get(who, f"/api/v1/applications/{app.id}/form.{fmt}")
            assert (
                resp.status_code == 404
                and resp.json()["code"] == "not_found"
                or resp.json()["code"].endswith("not_found")
            )
        assert (
            api.post(
                who, "/api/v1/applications/forms.zip", json={"application_ids": [app.id]}
            ).status_code
            == 404
        )


def test_a_batch_of_forms_starts_a_job_that_only_its_requester_sees(
    api: Api, session: Session, launched: list[int]
) -> None:
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    apps = [submitted_application(session, r, city=c) for c in ("合肥", "合肥", "芜湖")]
    office = b.person(session, ["office"], "office")
    resp = api.post(
        office, "/api/v1/applications/forms.zip", json={"round_id": r.id, "formats": ["docx"]}
    )
    job = ok(resp, 202)
    assert resp.headers["location"] == f"/api/v1/document-jobs/{job['id']}"
    assert job["status"] == "queued" and job["total_items"] == 3 and job["kind"] == "forms"
    assert launched == [job["id"]]  # started once its transaction committed
    assert ok(api.get(office, f"/api/v1/document-jobs/{job['id']}"))["status"] == "queued"
    other = b.person(session, ["office"], "office")
    assert api.get(other, f"/api/v1/document-jobs/{job['id']}").status_code == 404
    not_ready = api.get(office, f"/api/v1/document-jobs/{job['id']}/file")
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "document_job_not_ready"

    # A recommender's batch holds only what its list shows.
    hefei = b.person(session, ["recommender"], "hefei")
    mine = ok(api.post(hefei, "/api/v1/applications/forms.zip", json={"round_id": r.id}), 202)
    assert mine["total_items"] == 2
    assert {a.id for a in apps} and len(launched) == 2
    nothing = api.post(
        hefei, "/api/v1/applications/forms.zip", json={"round_id": r.id, "status": "awarded"}
    )
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_export"

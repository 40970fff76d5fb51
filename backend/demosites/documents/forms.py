"""The 申报审批表 (application and approval form) of seed 000's attachment, as Word and PDF,
filled with what the application and its history hold (blank where a stage has not happened)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm
from sqlmodel import Session

from demosites.applications import repository as applications_repo
from demosites.applications import service as applications
from demosites.applications.schemas import ApplicationRead, OpinionStage
from demosites.core.actor import Actor
from demosites.documents import jobs
from demosites.documents.errors import NothingToExport, TooManyItems
from demosites.documents.models import DocumentJob, JobKind
from demosites.documents.render import (
    DOCX,
    PDF,
    PDF_FONTS,
    PDF_TITLE_FONTS,
    WORD_TITLE_FONT,
    ZIP,
    cn_date,
    esc,
    font,
    html_to_pdf,
    para,
    require_pdf_fonts,
)
from demosites.documents.schemas import FormsBatchRequest
from demosites.rounds.models import Round

TITLE = "安徽省基层思想政治工作示范点申报审批表"
# The rows of the form, labels broken as the seed's table breaks them.
NAME_LABEL = "示范点\n名称"
APPLICANT_LABEL = "申报\n主体"
RECOMMENDER_LABEL = "推荐\n单位"
SUMMARY_LABEL = "示\n范\n点\n简\n要\n事\n迹"
# The four opinion blocks, in the form's order, with the stage whose opinion fills each.
OPINION_BLOCKS = (
    ("推荐\n审核\n意见", OpinionStage.recommendation),
    ("初评\n审核\n意见", OpinionStage.preliminary),
    ("考核组\n审核\n意见", OpinionStage.assessment),
    ("部务会\n审批\n意见", OpinionStage.approval),
)
MAX_BATCH = 500


@dataclass(frozen=True)
class Block:
    label: str
    opinion: str  # "" while the stage has not happened
    signed_by: str  # the organisation that gave it ("" while blank)
    on: date | None


@dataclass(frozen=True)
class FormContent:
    application_id: int
    year: int | None
    name: str
    applicant: str
    recommender: str
    summary: str
    blocks: tuple[Block, ...]

    @property
    def filename_stem(self) -> str:
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", self.name)[:60]
        return f"申报审批表-{self.application_id}-{safe}"


def content_of(read: ApplicationRead, year: int | None) -> FormContent:
    opinions = {o.stage: o for o in read.opinions}
    blocks = []
    for label, stage in OPINION_BLOCKS:
        o = opinions.get(stage)
        blocks.append(
            Block(label, (o.opinion or "") if o else "", (o.organization_name or "") if o else "",
                  o.date if o else None)
        )  # fmt: skip
    return FormContent(
        application_id=read.id, year=year, name=read.name, applicant=read.applicant.name,
        recommender=read.recommender.name, summary=read.summary, blocks=tuple(blocks),
    )  # fmt: skip


def form_content(session: Session, actor: Actor, application_id: int) -> FormContent:
    """The form of one application the actor may read (another's → ApplicationNotFound, 404)."""
    read = applications.get_application(session, actor, application_id)
    r = session.get(Round, read.round_id)
    return content_of(read, r.year if r else None)


# ---- Word ----------------------------------------------------------------------------------


def _label_cell(cell: Any, text: str) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    lines = text.split("\n")
    for n, line in enumerate(lines):
        run = font(p.add_run(line), size=14)
        if n < len(lines) - 1:
            run.add_break()


def _text_cell(cell: Any, text: str) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = (text or "").split("\n")
    p = cell.paragraphs[0]
    font(p.add_run(lines[0]), size=12)
    for line in lines[1:]:
        font(cell.add_paragraph().add_run(line), size=12)


def _opinion_cell(cell: Any, block: Block) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    _text_cell(cell, block.opinion)
    cell.paragraphs[0].paragraph_format.first_line_indent = Cm(0.85) if block.opinion else None
    para(cell, "")
    sign = para(cell, block.signed_by, align=WD_ALIGN_PARAGRAPH.RIGHT)
    sign.paragraph_format.right_indent = Cm(0.5)
    when = para(cell, cn_date(block.on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    when.paragraph_format.right_indent = Cm(0.5)


def docx_bytes(c: FormContent) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.4)
    section.top_margin = section.bottom_margin = Cm(2.2)
    para(doc, "附件", size=12, name=WORD_TITLE_FONT)
    para(doc, TITLE, size=20, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, name=WORD_TITLE_FONT)
    if c.year:
        para(doc, f"（{c.year}年度）　申报编号：{c.application_id}", size=10.5,
             align=WD_ALIGN_PARAGRAPH.RIGHT)  # fmt: skip
    table = doc.add_table(rows=3 + len(c.blocks), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(2.4), Cm(5.7), Cm(2.4), Cm(5.7))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    name_row, party_row, summary_row = table.rows[0], table.rows[1], table.rows[2]
    _label_cell(name_row.cells[0], NAME_LABEL)
    _text_cell(name_row.cells[1].merge(name_row.cells[3]), c.name)
    name_row.height, name_row.height_rule = Cm(1.6), WD_ROW_HEIGHT_RULE.AT_LEAST
    _label_cell(party_row.cells[0], APPLICANT_LABEL)
    _text_cell(party_row.cells[1], c.applicant)
    _label_cell(party_row.cells[2], RECOMMENDER_LABEL)
    _text_cell(party_row.cells[3], c.recommender)
    party_row.height, party_row.height_rule = Cm(1.6), WD_ROW_HEIGHT_RULE.AT_LEAST
    _label_cell(summary_row.cells[0], SUMMARY_LABEL)
    summary = summary_row.cells[1].merge(summary_row.cells[3])
    _text_cell(summary, c.summary)
    summary.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    summary_row.height, summary_row.height_rule = Cm(8), WD_ROW_HEIGHT_RULE.AT_LEAST
    for block, row in zip(c.blocks, table.rows[3:], strict=True):
        _label_cell(row.cells[0], block.label)
        _opinion_cell(row.cells[1].merge(row.cells[3]), block)
        row.height, row.height_rule = Cm(3.6), WD_ROW_HEIGHT_RULE.AT_LEAST
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---- PDF -----------------------------------------------------------------------------------

_CSS = f"""
@page {{ size: A4; margin: 1.8cm 2.4cm 1.6cm; }}
body {{ font-family: {PDF_FONTS}; font-size: 12pt; color: #000; }}
.annex {{ font-family: {PDF_TITLE_FONTS}; font-size: 12pt; margin: 0 0 .3cm; }}
h1 {{ font-family: {PDF_TITLE_FONTS}; font-size: 19pt; text-align: center; margin: 0 0 .25cm;
      font-weight: bold; }}
.no {{ text-align: right; font-size: 10pt; margin: 0 0 .2cm; }}
table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
td {{ border: 1px solid #000; padding: .15cm .25cm; vertical-align: middle; line-height: 1.4; }}
td.label {{ width: 2.2cm; text-align: center; font-size: 13pt; }}
tr.name td, tr.party td {{ height: 1.4cm; }}
tr.summary td {{ height: 5.8cm; vertical-align: top; }}
tr.opinion {{ page-break-inside: avoid; }}
tr.summary td.label {{ vertical-align: middle; }}
tr.opinion td {{ height: 2.6cm; vertical-align: top; }}
tr.opinion td.label {{ vertical-align: middle; }}
.opinion-text {{ text-indent: 2em; min-height: .9cm; }}
.sign {{ text-align: right; padding-right: .6cm; }}
"""


def _label(text: str) -> str:
    return "<br>".join(esc(line) for line in text.split("\n"))


def html_of(c: FormContent) -> str:
    rows = [
        f'<tr class="name"><td class="label">{_label(NAME_LABEL)}</td><td colspan="3">{esc(c.name)}</td></tr>',
        f'<tr class="party"><td class="label">{_label(APPLICANT_LABEL)}</td><td>{esc(c.applicant)}</td>'
        f'<td class="label">{_label(RECOMMENDER_LABEL)}</td><td>{esc(c.recommender)}</td></tr>',
        f'<tr class="summary"><td class="label">{_label(SUMMARY_LABEL)}</td>'
        f'<td colspan="3">{esc(c.summary)}</td></tr>',
    ]
    for b in c.blocks:
        rows.append(
            f'<tr class="opinion"><td class="label">{_label(b.label)}</td><td colspan="3">'
            f'<div class="opinion-text">{esc(b.opinion)}</div>'
            f'<div class="sign">{esc(b.signed_by) or "&nbsp;"}</div>'
            f'<div class="sign">{esc(cn_date(b.on))}</div></td></tr>'
        )
    number = f'<p class="no">（{c.year}年度）　申报编号：{c.application_id}</p>' if c.year else ""
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{TITLE}</title>'
        f'<style>{_CSS}</style></head><body><p class="annex">附件</p><h1>{TITLE}</h1>{number}'
        f'<table><colgroup><col style="width:2.2cm"><col><col style="width:2.2cm"><col></colgroup>'
        f"{''.join(rows)}</table></body></html>"
    )


def pdf_bytes(c: FormContent) -> bytes:
    return html_to_pdf(html_of(c))


RENDERERS: dict[str, tuple[Callable[[FormContent], bytes], str, str]] = {
    "docx": (docx_bytes, DOCX, "docx"),
    "pdf": (pdf_bytes, PDF, "pdf"),
}


def render(c: FormContent, fmt: str) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of one form."""
    fn, ctype, ext = RENDERERS[fmt]
    return fn(c), ctype, f"{c.filename_stem}.{ext}"


# ---- batch (run by a document job) ---------------------------------------------------------


def batch_ids(
    session: Session, actor: Actor, ids: list[int] | None, filters: dict[str, Any]
) -> list[int]:
    """The applications of a batch: the ids given (one the actor may not read → 404, as for a
    single form), or the list's filters with the list's own query and data scope."""
    if ids:
        found = [applications.readable(session, actor, i).id or 0 for i in ids]
    else:
        # The list's own query and scope (ids only: no need to build each read here).
        apps, total = applications_repo.list_readable(session, actor, filters, MAX_BATCH + 1, 0)
        if total > MAX_BATCH:
            raise TooManyItems(
                f"{total} applications; at most {MAX_BATCH} forms per batch — narrow the filters / "
                f"共 {total} 份申报，每批最多 {MAX_BATCH} 份，请缩小筛选范围"
            )
        found = [a.id or 0 for a in apps]
    if not found:
        raise NothingToExport("No application you may see matches / 没有符合条件的申报")
    return found


def zip_forms(
    session: Session, actor: Actor, ids: list[int], formats: list[str],
    progress: Callable[[int, int], None],
) -> bytes:  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, app_id in enumerate(ids, start=1):
            content = form_content(session, actor, app_id)
            for fmt in formats:
                data, _ctype, name = render(content, fmt)
                z.writestr(name, data)
            progress(n, len(ids))
    return buf.getvalue()


def one_form(
    session: Session, actor: Actor, application_id: int, fmt: str
) -> tuple[bytes, str, str]:
    return render(form_content(session, actor, application_id), fmt)


FILTERS = ("round_id", "status", "field", "recommender_id", "priority", "q")


def start_batch(session: Session, actor: Actor, body: FormsBatchRequest) -> DocumentJob:
    """Checks the batch now (unreadable id → 404, too many → 422) and starts its job."""
    filters = {name: getattr(body, name) for name in FILTERS}
    ids = batch_ids(session, actor, body.application_ids, filters)
    if "pdf" in body.formats:
        require_pdf_fonts()  # refused now, not as a failed job later
    params = {"application_ids": ids, "formats": list(body.formats)}
    return jobs.start(session, actor, JobKind.forms, params, total=len(ids))


def _generate(
    session: Session, actor: Actor, params: dict[str, Any], progress: jobs.Progress
) -> tuple[bytes, str, str]:
    ids = params["application_ids"]
    data = zip_forms(session, actor, ids, params["formats"], progress)
    return data, f"申报审批表-{len(ids)}份.zip", ZIP


jobs.GENERATORS[JobKind.forms] = _generate

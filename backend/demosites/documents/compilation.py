"""The 创新案例选编 (compiled book of innovation cases) of an awarded round, as one .docx: a cover
with the year, a table of contents, the sites grouped by field (学校、企业、社区、农村) with plaque
number, unit, city and deeds, and each site's publicity record (media reports, forums)."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Pt
from sqlmodel import Session, col, select

from demosites.applications.models import Application
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.documents import jobs
from demosites.documents.errors import NothingToExport
from demosites.documents.models import DocumentJob, JobKind
from demosites.documents.render import DOCX, FIELD_LABELS, WORD_TITLE_FONT, cn_date, font, para
from demosites.rounds import service as rounds
from demosites.rounds.models import FIELDS, Round
from demosites.sites import repository as sites_repo
from demosites.sites.models import PublicityKind, PublicityRecord, Site, SiteStatus

EDITOR = "中共安徽省委宣传部"
NUMERALS = "一二三四五六七八九十"
LEVELS = {"central": "中央", "provincial": "省级", "city": "市级"}
PAGE = 200


def title_of(r: Round) -> str:
    return f"安徽省基层思想政治工作创新案例选编（{r.year}年度）"


def sites_of(session: Session, actor: Actor, round_id: int) -> list[Site]:
    """The round's sites the actor may read (the sites list's own query), delisted ones left out."""
    out: list[Site] = []
    for state in (SiteStatus.active, SiteStatus.rectifying):
        offset = 0
        while True:
            rows, total = sites_repo.list_readable(
                session, actor, {"round_id": round_id, "status": state}, PAGE, offset
            )
            out += rows
            offset += PAGE
            if offset >= total or not rows:
                break
    return sorted(out, key=lambda s: s.plaque_no)


def start(session: Session, actor: Actor, round_id: int) -> DocumentJob:
    """Checks there is something to compile now (409 otherwise), then starts the job."""
    r = rounds.get_round(session, round_id)
    found = sites_of(session, actor, round_id)
    if not found:
        raise NothingToExport(f"Round {r.year} has no awarded sites / {r.year}年度尚无授牌的示范点")
    return jobs.start(session, actor, JobKind.compilation, {"round_id": round_id}, total=len(found))


def _heading(doc: Any, text: str, level: int) -> None:
    h = doc.add_heading(level=level)
    size = {0: 22, 1: 16, 2: 14, 3: 12}[level]
    font(h.add_run(text), WORD_TITLE_FONT, size, bold=True)


def _publicity_line(p: PublicityRecord) -> str:
    if p.kind == PublicityKind.media_report:
        level = f"（{LEVELS[p.level]}）" if p.level in LEVELS else ""
        outlet = f"《{p.outlet}》" if p.outlet else ""
        return f"{cn_date(p.happened_on)}　{outlet}{level}　{p.title}"
    return f"{cn_date(p.happened_on)}　论坛交流：{p.title}"


def build(
    session: Session, actor: Actor, round_id: int, progress: Callable[[int, int], None]
) -> bytes:
    r = rounds.get_round(session, round_id)
    found = sites_of(session, actor, round_id)
    if not found:
        raise NothingToExport(f"Round {r.year} has no awarded sites / {r.year}年度尚无授牌的示范点")
    deeds = dict(
        session.exec(
            select(Application.id, Application.deeds).where(
                col(Application.id).in_([s.application_id for s in found])
            )
        ).all()
    )
    publicity: dict[int, list[PublicityRecord]] = defaultdict(list)
    for p in session.exec(
        select(PublicityRecord).where(col(PublicityRecord.site_id).in_([s.id for s in found]))
        .order_by(col(PublicityRecord.happened_on), col(PublicityRecord.id))
    ):  # fmt: skip
        publicity[p.site_id].append(p)
    by_field: dict[str, list[Site]] = {f: [s for s in found if s.field == f] for f in FIELDS}

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)

    # Cover
    for _ in range(6):
        para(doc)
    para(
        doc,
        "安徽省基层思想政治工作",
        size=26,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        name=WORD_TITLE_FONT,
    )
    para(
        doc,
        "创新案例选编",
        size=30,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        name=WORD_TITLE_FONT,
    )
    para(doc, f"（{r.year}年度）", size=18, align=WD_ALIGN_PARAGRAPH.CENTER)
    for _ in range(10):
        para(doc)
    para(doc, f"{EDITOR}　编", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    today = clock.today()
    para(doc, f"{today.year}年{today.month}月", size=14, align=WD_ALIGN_PARAGRAPH.CENTER)

    # Table of contents (the book is generated, so it lists its own entries)
    doc.add_section(WD_SECTION.NEW_PAGE)
    _heading(doc, "目　录", 1)
    number = 0
    for n, field in enumerate(FIELDS):
        para(
            doc,
            f"{NUMERALS[n]}、{FIELD_LABELS[field]}领域（{len(by_field[field])}个）",
            size=13,
            bold=True,
        )
        for s in by_field[field]:
            number += 1
            entry = para(doc, f"{number}. {s.name}　{s.unit_name}（{s.city}）", size=12)
            entry.paragraph_format.left_indent = Cm(0.8)

    done = 0
    number = 0
    for n, field in enumerate(FIELDS):
        doc.add_section(WD_SECTION.NEW_PAGE)
        _heading(doc, f"{NUMERALS[n]}、{FIELD_LABELS[field]}领域", 1)
        if not by_field[field]:
            para(doc, "（本领域暂无示范点）")
        for i, s in enumerate(by_field[field]):
            number += 1
            if i:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            _heading(doc, f"{number}. {s.name}", 2)
            for label, value in (("牌匾编号", s.plaque_no), ("申报主体", s.unit_name), ("所在城市", s.city),
                                 ("授牌日期", cn_date(s.awarded_on))):  # fmt: skip
                fact = doc.add_paragraph()
                font(fact.add_run(f"{label}："), bold=True)
                font(fact.add_run(value))
            _heading(doc, "简要事迹", 3)
            for line in (s.summary or "（未填写）").split("\n"):
                para(doc, line).paragraph_format.first_line_indent = Cm(0.85)
            if deeds.get(s.application_id):
                _heading(doc, "先进事迹", 3)
                for line in deeds[s.application_id].split("\n"):
                    para(doc, line).paragraph_format.first_line_indent = Cm(0.85)
            _heading(doc, "宣传推介", 3)
            records = publicity.get(s.id or 0, [])
            for rec in records:
                para(doc, _publicity_line(rec))
            if not records:
                para(doc, "（暂无宣传推介记录）")
            done += 1
            progress(done, len(found))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _generate(
    session: Session, actor: Actor, params: dict[str, Any], progress: Callable[[int, int], None]
) -> tuple[bytes, str, str]:
    r = rounds.get_round(session, params["round_id"])
    return build(session, actor, r.id or 0, progress), f"{title_of(r)}.docx", DOCX


jobs.GENERATORS[JobKind.compilation] = _generate

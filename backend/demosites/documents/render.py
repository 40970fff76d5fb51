"""Shared rendering: Chinese dates, HTML → PDF with the embedded Noto CJK font, Word fonts."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from datetime import date

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from demosites.documents import fonts
from demosites.documents.errors import PdfFontsMissing

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ZIP = "application/zip"

# Debian's fonts-noto-cjk; WeasyPrint finds them through fontconfig and embeds the subset used.
PDF_FONTS = '"Noto Serif CJK SC", "Noto Sans CJK SC", serif'
PDF_TITLE_FONTS = '"Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif'
# What officials' Word has; the file names the font, Word supplies it.
WORD_BODY_FONT = "宋体"
WORD_TITLE_FONT = "黑体"
BLANK_DATE = "年　　月　　日"
FIELD_LABELS = {"school": "学校", "enterprise": "企业", "community": "社区", "rural": "农村"}

_pdf_lock = threading.Lock()


def cn_date(d: date | None) -> str:
    """A date as a form writes it (2022年7月1日), or the blank 年 月 日 to fill in by hand."""
    return f"{d.year}年{d.month}月{d.day}日" if d else BLANK_DATE


def esc(text: str | None) -> str:
    """User text for HTML: escaped, line breaks kept (nothing a user types becomes markup)."""
    return html.escape(text or "").replace("\n", "<br>")


def require_pdf_fonts() -> None:
    """Refuses (503 `pdf_fonts_missing`, naming the packages) on a machine that would print
    empty boxes or unextractable text instead of Chinese (see documents/fonts.py)."""
    missing = fonts.missing_packages()
    if missing:
        raise PdfFontsMissing(missing)


def html_to_pdf(document: str) -> bytes:
    """Renders HTML to PDF. Only data: URLs load (no file or network access from user text)."""
    require_pdf_fonts()
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Fontconfig set-up inside WeasyPrint is not safe to race from several threads.
    with _pdf_lock:
        pdf = HTML(string=document, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def html_documents_to_pdf(documents: list[str], progress: Callable[[int, int], None]) -> bytes:
    """Lays out each HTML document (reporting progress) and writes their pages as one PDF."""
    require_pdf_fonts()
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    rendered = []
    for n, document in enumerate(documents, start=1):
        with _pdf_lock:
            fetcher = URLFetcher(allowed_protocols={"data"})
            rendered.append(HTML(string=document, url_fetcher=fetcher).render())
        progress(n, len(documents))
    pages = [page for doc in rendered for page in doc.pages]
    with _pdf_lock:
        pdf = rendered[0].copy(pages).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def font(run: Run, name: str = WORD_BODY_FONT, size: float = 12, bold: bool = False) -> Run:
    """Sets a run's Latin and East Asian font (Word takes Chinese glyphs from w:eastAsia)."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)
    return run


def para(
    container: object,
    text: str = "",
    *,
    size: float = 12,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    name: str = WORD_BODY_FONT,
    style: str | None = None,
) -> Paragraph:
    p: Paragraph = container.add_paragraph(style=style)  # type: ignore[attr-defined]
    if align is not None:
        p.alignment = align
    if text:
        font(p.add_run(text), name, size, bold)
    return p

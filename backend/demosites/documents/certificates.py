"""Certificates (证书) of awarded sites as PDF: site, unit, plaque number, award date, and a QR
code that opens the SPA's public plaque verification page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import segno
from sqlmodel import Session, col, select

from demosites.core.actor import Actor
from demosites.core.config import get_settings
from demosites.documents import jobs
from demosites.documents.errors import NothingToExport, SiteDelisted, TooManyItems
from demosites.documents.models import DocumentJob, JobKind
from demosites.documents.render import (
    PDF,
    PDF_FONTS,
    PDF_TITLE_FONTS,
    cn_date,
    esc,
    html_documents_to_pdf,
    html_to_pdf,
    require_pdf_fonts,
)
from demosites.documents.schemas import CertificatesBatchRequest
from demosites.sites import repository as sites_repo
from demosites.sites import service as sites
from demosites.sites.models import Site, SiteStatus

ISSUER = "中共安徽省委宣传部"
TITLE = "安徽省基层思想政治工作示范点"
MAX_BATCH = 500
QR_SCALE, QR_BORDER = 6, 2


def verification_url(plaque_no: str) -> str:
    """The SPA's public verification page of a plaque (no login needed)."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/public/plaques/{quote(plaque_no, safe='')}"


def qr_of(plaque_no: str) -> segno.QRCode:
    return segno.make(verification_url(plaque_no), error="m")


_CSS = f"""
@page {{ size: A4 landscape; margin: 1.2cm; }}
body {{ font-family: {PDF_FONTS}; color: #222; margin: 0; }}
.cert {{ border: 6px double #b8860b; height: 16.4cm; padding: 1cm 2.2cm; position: relative; }}
.no {{ position: absolute; right: 1.2cm; top: .7cm; font-size: 11pt; }}
h1 {{ font-family: {PDF_TITLE_FONTS}; color: #b22222; text-align: center; font-size: 40pt;
      letter-spacing: .6em; margin: .6cm 0 .1cm; }}
.sub {{ text-align: center; font-size: 15pt; margin: 0 0 .9cm; letter-spacing: .1em; }}
.to {{ font-size: 18pt; margin: 0 0 .3cm; }}
.text {{ font-size: 18pt; line-height: 1.8; text-indent: 2em; margin: 0; }}
.issuer {{ position: absolute; right: 2.4cm; bottom: 1.8cm; text-align: center; font-size: 16pt;
           line-height: 1.8; }}
.qr {{ position: absolute; left: 1.6cm; bottom: 1.1cm; text-align: center; font-size: 9pt; }}
.qr img {{ width: 2.8cm; height: 2.8cm; image-rendering: pixelated; display: block; }}
.url {{ position: absolute; left: 0; right: 0; bottom: .3cm; text-align: center; font-size: 8pt;
        color: #666; }}
"""


def _page(site: Site) -> str:
    qr = qr_of(site.plaque_no).png_data_uri(scale=QR_SCALE, border=QR_BORDER)
    readable_url = f"{get_settings().public_base_url.rstrip('/')}/public/plaques/{site.plaque_no}"
    return (
        '<section class="cert">'
        f'<p class="no">编号：{esc(site.plaque_no)}</p>'
        f'<h1>证书</h1><p class="sub">{TITLE}</p>'
        f'<p class="to">{esc(site.unit_name)}：</p>'
        f'<p class="text">你单位“{esc(site.name)}”被评为{TITLE}。</p>'
        '<p class="text">特发此证。</p>'
        f'<div class="issuer">{ISSUER}<br>{cn_date(site.awarded_on)}</div>'
        f'<div class="qr"><img src="{qr}" alt="QR">扫码核验</div>'
        f'<p class="url">核验网址：{esc(readable_url)}</p>'
        "</section>"
    )


def _html(site: Site) -> str:
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>证书</title>'
        f"<style>{_CSS}</style></head><body>{_page(site)}</body></html>"
    )


def pdf_of(sites_: list[Site], progress: Callable[[int, int], None] | None = None) -> bytes:
    if len(sites_) == 1 and progress is None:
        return html_to_pdf(_html(sites_[0]))
    return html_documents_to_pdf([_html(s) for s in sites_], progress or (lambda _n, _t: None))


def _certifiable(site: Site) -> Site:
    if site.status == SiteStatus.delisted:
        raise SiteDelisted(f"{site.name} was delisted / {site.name}已摘牌")
    return site


def one_certificate(session: Session, actor: Actor, site_id: int) -> tuple[bytes, str, str]:
    """The certificate of one site the actor may read (another's → SiteNotFound, 404)."""
    site = _certifiable(sites.readable(session, actor, site_id))
    return pdf_of([site]), PDF, f"证书-{site.plaque_no}.pdf"


FILTERS = ("round_id", "city", "field")


def batch_ids(session: Session, actor: Actor, body: CertificatesBatchRequest) -> list[int]:
    """The named sites (unreadable → 404, delisted → 409), or the sites list's own query and scope
    for the filters, leaving out delisted sites."""
    if body.site_ids:
        return [_certifiable(sites.readable(session, actor, i)).id or 0 for i in body.site_ids]
    filters = {name: getattr(body, name) for name in FILTERS}
    found: list[int] = []
    for state in (SiteStatus.active, SiteStatus.rectifying):
        rows, total = sites_repo.list_readable(
            session, actor, {**filters, "status": state}, MAX_BATCH + 1, 0
        )
        found += [s.id or 0 for s in rows]
    if len(found) > MAX_BATCH:
        raise TooManyItems(
            f"At most {MAX_BATCH} certificates per batch / 每批最多 {MAX_BATCH} 份证书"
        )
    if not found:
        raise NothingToExport("No awarded site you may see matches / 没有符合条件的示范点")
    return found


def start_batch(session: Session, actor: Actor, body: CertificatesBatchRequest) -> DocumentJob:
    ids = batch_ids(session, actor, body)
    require_pdf_fonts()  # refused now, not as a failed job later
    return jobs.start(session, actor, JobKind.certificates, {"site_ids": ids}, total=len(ids))


def _generate(
    session: Session, actor: Actor, params: dict[str, Any], progress: Callable[[int, int], None]
) -> tuple[bytes, str, str]:
    ids: list[int] = params["site_ids"]
    rows = {
        s.id: s
        for s in session.exec(
            select(Site).where(col(Site.id).in_(ids), sites_repo.readable_by(actor))
        )
    }
    ordered = [
        _certifiable(rows[i]) if i in rows else sites.readable(session, actor, i) for i in ids
    ]
    ordered.sort(key=lambda s: s.plaque_no)
    data = pdf_of(ordered, progress)
    return data, f"证书-{len(ordered)}份.pdf", PDF


jobs.GENERATORS[JobKind.certificates] = _generate

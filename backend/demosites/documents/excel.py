"""Excel (.xlsx) exports of the main lists, built from the same list functions (filters and data
scopes) as the API: Chinese headers, a frozen header row, fitting widths, dates as dates."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from demosites.applicants.models import ApplicantKind
from demosites.applications import service as applications
from demosites.applications.models import Status
from demosites.applications.schemas import ApplicationRead, OpinionStage
from demosites.core.actor import Actor
from demosites.documents.errors import TooManyItems
from demosites.documents.render import FIELD_LABELS
from demosites.rounds import service as rounds
from demosites.rounds.models import Round
from demosites.sites import repository as sites_repo
from demosites.sites import service as sites
from demosites.sites.models import Rectification, Site
from demosites.sites.service import rectification_read

MAX_ROWS = 20_000
PAGE = 200  # the API list's own page limit
BEIJING = timedelta(hours=8)

STATUS_LABELS = {
    Status.draft: "草稿", Status.submitted: "已提交", Status.not_recommended: "未获推荐",
    Status.recommended: "已推荐", Status.preliminary_passed: "初审通过", Status.preliminary_failed: "初审未通过",
    Status.assessed: "已考核", Status.proposed: "列入候选建议名单", Status.not_proposed: "未列入候选建议名单",
    Status.candidate: "列入候选名单", Status.review_rejected: "评审未通过", Status.approved: "部务会审批通过",
    Status.approval_rejected: "部务会审批未通过", Status.awarded: "已授牌",
}  # fmt: skip
KIND_LABELS = {
    ApplicantKind.primary_school: "中小学校", ApplicantKind.university_unit: "高校二级教学单位",
    ApplicantKind.enterprise: "企业", ApplicantKind.community: "社区", ApplicantKind.village: "行政村",
}  # fmt: skip
OWNERSHIP_LABELS = {"provincial_soe": "省属国有", "private": "民营", "other": "其他"}
# 候选名单: applications the review meeting adopted, and what the 部务会 made of them.
CANDIDATE_STATES = (Status.candidate, Status.approved, Status.approval_rejected, Status.awarded)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def _display_width(value: Any) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = "" if value is None else str(value)
    longest = max((line for line in text.split("\n")), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in longest)


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: officials read Beijing time.
        return (value + BEIJING).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def workbook(title: str, columns: Sequence[Column], rows: Iterable[Any]) -> bytes:
    """One sheet: bold filled header, frozen, filterable; widths fit the content (capped)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([c.header for c in columns])
    widths = [_display_width(c.header) for c in columns]
    n = 0
    for n, row in enumerate(rows, start=1):
        if n > MAX_ROWS:
            raise TooManyItems(
                f"More than {MAX_ROWS} rows; narrow the filters / 超过 {MAX_ROWS} 行，请缩小筛选范围"
            )
        for i, column in enumerate(columns):
            value = _excel_value(column.value(row))
            cell = ws.cell(row=n + 1, column=i + 1, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if isinstance(value, str) and "\n" in value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[i] = max(widths[i], _display_width(value))
    header_fill = PatternFill("solid", fgColor="DDE5F0")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(n + 1, 1)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- applications (申报) ------------------------------------------------------------------


def all_applications(
    session: Session, actor: Actor, filters: dict[str, Any]
) -> list[ApplicationRead]:
    """Every row of the API's list for these filters and this caller, page by page."""
    out: list[ApplicationRead] = []
    offset = 0
    while True:
        items, total = applications.list_applications(session, actor, filters, PAGE, offset)
        if total > MAX_ROWS:
            raise TooManyItems(
                f"{total} rows; at most {MAX_ROWS} — narrow the filters / 共 {total} 行，最多 {MAX_ROWS} 行"
            )
        out.extend(items)
        offset += PAGE
        if not items or offset >= total:
            return out


def _opinion(a: ApplicationRead, stage: OpinionStage, part: str) -> Any:
    for o in a.opinions:
        if o.stage == stage:
            return o.opinion if part == "text" else o.date
    return None


def _score(a: ApplicationRead, name: str) -> int | None:
    if a.scores is None:
        return None
    if name == "total":
        s = a.scores
        return s.political + s.contemporary + s.effective + s.exemplary
    return int(getattr(a.scores, name))


def _years(session: Session, apps: list[ApplicationRead]) -> dict[int, int]:
    ids = {a.round_id for a in apps}
    if not ids:
        return {}
    return {r.id or 0: r.year for r in session.exec(select(Round).where(col(Round.id).in_(ids)))}


def application_columns(years: dict[int, int]) -> list[Column]:
    def op(stage: OpinionStage, part: str) -> Callable[[ApplicationRead], Any]:
        return lambda a: _opinion(a, stage, part)

    return [
        Column("申报编号", lambda a: a.id),
        Column("年度", lambda a: years.get(a.round_id)),
        Column("示范点名称", lambda a: a.name),
        Column("申报主体", lambda a: a.applicant.name),
        Column("推荐单位", lambda a: a.recommender.name),
        Column("领域", lambda a: FIELD_LABELS.get(a.field, a.field)),
        Column("所在城市", lambda a: a.city),
        Column("状态", lambda a: STATUS_LABELS.get(a.status, a.status)),
        Column("优先申报", lambda a: a.priority),
        Column("提交时间", lambda a: a.submitted_at),
        Column("推荐审核意见", op(OpinionStage.recommendation, "text")),
        Column("推荐日期", op(OpinionStage.recommendation, "date")),
        Column("初评审核意见", op(OpinionStage.preliminary, "text")),
        Column("初评日期", op(OpinionStage.preliminary, "date")),
        Column("实地考核日期", lambda a: a.visit_date),
        Column("政治性", lambda a: _score(a, "political")),
        Column("时代性", lambda a: _score(a, "contemporary")),
        Column("时效性", lambda a: _score(a, "effective")),
        Column("示范性", lambda a: _score(a, "exemplary")),
        Column("考核总分", lambda a: _score(a, "total")),
        Column("考核组审核意见", op(OpinionStage.assessment, "text")),
        Column("考核日期", op(OpinionStage.assessment, "date")),
        Column("评审会意见", op(OpinionStage.review, "text")),
        Column("评审日期", op(OpinionStage.review, "date")),
        Column("部务会审批意见", op(OpinionStage.approval, "text")),
        Column("审批日期", op(OpinionStage.approval, "date")),
        Column("牌匾编号", lambda a: a.plaque_no),
        Column("授牌时间", lambda a: a.awarded_at),
    ]


def export_applications(session: Session, actor: Actor, filters: dict[str, Any]) -> bytes:
    apps = all_applications(session, actor, filters)
    return workbook("申报列表", application_columns(_years(session, apps)), apps)


def export_candidates(session: Session, actor: Actor, round_id: int) -> bytes:
    """候选名单 of a round: what the review meeting adopted (and the 部务会's decision), priority
    first, as the caller's list shows each of those states."""
    rounds.get_round(session, round_id)
    apps: list[ApplicationRead] = []
    for state in CANDIDATE_STATES:
        apps += all_applications(session, actor, {"round_id": round_id, "status": state})
    apps.sort(key=lambda a: (not a.priority, a.id))
    position = {a.id: n for n, a in enumerate(apps, start=1)}
    cols = [Column("序号", lambda a: position[a.id])] + [
        c for c in application_columns(_years(session, apps))
        if c.header in {"申报编号", "示范点名称", "申报主体", "推荐单位", "领域", "所在城市", "优先申报",
                        "考核总分", "评审会意见", "评审日期", "状态", "部务会审批意见", "审批日期"}
    ]  # fmt: skip
    return workbook("候选名单", cols, apps)


# ---- the quota board (名额) ---------------------------------------------------------------


def describe_eligibility(e: dict[str, Any]) -> str:
    parts = []
    if e.get("scope") == "own_city":
        parts.append("本市单位")
    if e.get("kinds"):
        parts.append("、".join(KIND_LABELS.get(k, k) for k in e["kinds"]))
    if e.get("provincial_university") is True:
        parts.append("省属高校")
    elif e.get("provincial_university") is False:
        parts.append("非省属高校")
    if e.get("ownership"):
        parts.append("、".join(OWNERSHIP_LABELS.get(o, o) for o in e["ownership"]) + "企业")
    exclude = {"provincial_university": "省属高校", "provincial_soe": "省属国有企业"}
    if e.get("exclude"):
        parts.append("不含" + "、".join(exclude.get(x, x) for x in e["exclude"]))
    return "；".join(parts) or "不限"


def export_quotas(session: Session, actor: Actor, round_id: int) -> bytes:
    board = rounds.quota_board(session, round_id)
    cols = [
        Column("推荐单位", lambda q: q.recommender_name),
        Column("领域", lambda q: FIELD_LABELS.get(q.field, q.field)),
        Column("名额", lambda q: q.limit),
        Column("已推荐", lambda q: q.used),
        Column("剩余", lambda q: q.left),
        Column("推荐范围", lambda q: describe_eligibility(q.eligibility)),
    ]
    return workbook("名额", cols, board)


# ---- after the award: sites, inspections, rectifications ---------------------------------------

SITE_STATUS_LABELS = {"active": "在牌", "rectifying": "限期整改中", "delisted": "已摘牌"}
DELIST_LABELS = {
    "rectification_failed": "整改不认真不到位", "ideology_inspection": "意识形态督查存在问题",
    "negative_public_opinion": "发生重大负面舆情",
}  # fmt: skip
INSPECTION_KIND_LABELS = {"inspection": "检查", "review": "复核"}
OUTCOME_LABELS = {"pass": "合格", "rectify": "限期整改", "delist": "摘牌"}
RECTIFICATION_LABELS = {"open": "待整改", "submitted": "已提交整改报告", "refused": "整改不到位",
                        "accepted": "验收通过", "failed": "未通过（摘牌）"}  # fmt: skip


def _paged(fetch: Callable[[int, int], tuple[list[Any], int]]) -> list[Any]:
    out: list[Any] = []
    offset = 0
    while True:
        items, total = fetch(PAGE, offset)
        if total > MAX_ROWS:
            raise TooManyItems(
                f"{total} rows; at most {MAX_ROWS} — narrow the filters / 共 {total} 行，最多 {MAX_ROWS} 行"
            )
        out.extend(items)
        offset += PAGE
        if not items or offset >= total:
            return out


def export_sites(session: Session, actor: Actor, filters: dict[str, Any]) -> bytes:
    rows = _paged(lambda limit, offset: sites.list_sites(session, actor, filters, limit, offset))
    cols = [
        Column("牌匾编号", lambda s: s.plaque_no),
        Column("示范点名称", lambda s: s.name),
        Column("申报主体", lambda s: s.unit_name),
        Column("领域", lambda s: FIELD_LABELS.get(s.field, s.field)),
        Column("所在城市", lambda s: s.city),
        Column("授牌日期", lambda s: s.awarded_on),
        Column("状态", lambda s: SITE_STATUS_LABELS.get(s.status, s.status)),
        Column(
            "整改期限", lambda s: s.open_rectification.deadline if s.open_rectification else None
        ),
        Column("摘牌原因", lambda s: DELIST_LABELS.get(s.delist_reason or "", s.delist_reason)),
        Column("摘牌日期", lambda s: s.delisted_on),
    ]
    return workbook("示范点", cols, rows)


def export_inspections(session: Session, actor: Actor, filters: dict[str, Any]) -> bytes:
    rows = _paged(
        lambda limit, offset: sites.list_inspections(session, actor, filters, limit, offset)
    )
    ids = {i.site_id for i in rows}
    plaques = (
        dict(session.exec(select(Site.id, Site.plaque_no).where(col(Site.id).in_(ids))).all())
        if ids
        else {}
    )
    cols = [
        Column("年度", lambda i: i.year),
        Column("类型", lambda i: INSPECTION_KIND_LABELS.get(i.kind, i.kind)),
        Column("牌匾编号", lambda i: plaques.get(i.site_id)),
        Column("示范点名称", lambda i: i.site_name),
        Column(
            "结论", lambda i: OUTCOME_LABELS.get(i.outcome, i.outcome) if i.outcome else "未录入"
        ),
        Column("检查日期", lambda i: i.inspected_on),
        Column("发现问题", lambda i: i.findings),
        Column("录入时间", lambda i: i.recorded_at),
    ]
    return workbook("检查复核", cols, rows)


def export_rectifications(session: Session, actor: Actor, filters: dict[str, Any]) -> bytes:
    """Rectifications (限期整改) of every site the actor may read (the sites' data scope)."""
    stmt = (
        select(Rectification, Site)
        .join(Site, col(Site.id) == Rectification.site_id)
        .where(sites_repo.readable_by(actor))
    )
    for name in ("status", "site_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Rectification, name) == filters[name])
    pairs = [
        (rectification_read(r), s)
        for r, s in session.exec(
            stmt.order_by(col(Rectification.deadline), col(Rectification.id)).limit(MAX_ROWS + 1)
        )
    ]
    if filters.get("overdue") is not None:
        pairs = [p for p in pairs if p[0].overdue == filters["overdue"]]
    cols = [
        Column("牌匾编号", lambda p: p[1].plaque_no),
        Column("示范点名称", lambda p: p[1].name),
        Column("所在城市", lambda p: p[1].city),
        Column("整改问题", lambda p: p[0].findings),
        Column("整改期限", lambda p: p[0].deadline),
        Column("状态", lambda p: RECTIFICATION_LABELS.get(p[0].status, p[0].status)),
        Column("逾期", lambda p: p[0].overdue),
        Column("整改报告提交时间", lambda p: p[0].report_submitted_at),
        Column("验收意见", lambda p: p[0].decision_opinion),
        Column("验收时间", lambda p: p[0].decided_at),
    ]
    return workbook("限期整改", cols, pairs)

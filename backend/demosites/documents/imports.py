"""Excel import of applicant units (申报主体) by recommenders and the office: the template, and an
upload checked whole first, then imported whole or refused whole with every problem by row and
column. The natural key is 单位名称 + 所属城市: a unit that exists is skipped, never duplicated."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError
from sqlmodel import Session, col, select

from demosites.applicants import service as applicants
from demosites.applicants.models import ApplicantKind, ApplicantUnit
from demosites.applicants.schemas import ApplicantCreate
from demosites.core.actor import Actor
from demosites.documents.errors import ImportInvalid, cell_error
from demosites.documents.excel import KIND_LABELS, OWNERSHIP_LABELS
from demosites.documents.schemas import ImportResult, SkippedRow
from demosites.files import xlsx
from demosites.files.service import within_limit
from demosites.organizations.models import CITIES

SHEET = "申报主体"
MAX_ROWS = 10_000
MAX_LISTED_ERRORS = 1000
CHUNK = 500


@dataclass(frozen=True)
class Col:
    key: str  # the ApplicantCreate field
    header: str
    width: int
    required: bool = False


COLUMNS = (
    Col("name", "单位名称", 36, True),
    Col("kind", "申报主体类型", 18, True),
    Col("city", "所属城市", 10, True),
    Col("university", "所属高校", 20),
    Col("provincial_university", "是否省属高校", 14),
    Col("ownership", "企业所有制", 12),
    Col("code", "组织代码", 18),
)
LETTER = {c.key: chr(ord("A") + n) for n, c in enumerate(COLUMNS)}
HEADER = {c.key: c.header for c in COLUMNS}
KIND_BY_LABEL = {label: kind.value for kind, label in KIND_LABELS.items()}
OWNERSHIP_BY_LABEL = {label: value for value, label in OWNERSHIP_LABELS.items()}
YES, NO = {"是", "Y", "y", "yes", "true", "1"}, {"否", "N", "n", "no", "false", "0"}


# ---- the template ----------------------------------------------------------------------------


def template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([c.header + ("*" if c.required else "") for c in COLUMNS])
    fill = PatternFill("solid", fgColor="DDE5F0")
    for n, c in enumerate(COLUMNS):
        ws.column_dimensions[LETTER[c.key]].width = c.width
        cell = ws.cell(row=1, column=n + 1)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(horizontal="center")
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("选项")
    options = {
        "kind": list(KIND_BY_LABEL), "city": list(CITIES), "provincial_university": ["是", "否"],
        "ownership": list(OWNERSHIP_BY_LABEL),
    }  # fmt: skip
    for n, (key, values) in enumerate(options.items(), start=1):
        letter = chr(ord("A") + n - 1)
        lists.cell(row=1, column=n, value=HEADER[key]).font = Font(bold=True)
        for m, v in enumerate(values, start=2):
            lists.cell(row=m, column=n, value=v)
        lists.column_dimensions[letter].width = 18
        dv = DataValidation(
            type="list", formula1=f"=选项!${letter}$2:${letter}${len(values) + 1}", allow_blank=True,
            showErrorMessage=True, errorTitle="请选择", error=f"请从下拉列表中选择{HEADER[key]}",
        )  # fmt: skip
        ws.add_data_validation(dv)
        dv.add(f"{LETTER[key]}2:{LETTER[key]}{MAX_ROWS + 1}")
    notes = wb.create_sheet("说明")
    for line in (
        "安徽省基层思想政治工作示范点 申报主体导入模板",
        "每行一个申报主体，带 * 的列必填；从第 2 行开始填写，不要改动表头。",
        "申报主体类型：中小学校、高校二级教学单位、企业、社区、行政村。",
        "所属城市：安徽省 16 个市之一（合肥、芜湖……宣城），可写“合肥”或“合肥市”。",
        "所属高校、是否省属高校：仅高校二级教学单位填写；企业所有制：仅企业填写（省属国有、民营、其他）。",
        "组织代码：可不填，系统自动生成；填写时只用小写字母、数字、下划线和连字符。",
        "市委宣传部只能导入本市的申报主体。",
        "导入时整表校验：任何一行有误则整表不导入，并逐行逐列列出错误；"
        "单位名称与所属城市相同的申报主体已存在时跳过，不会重复创建。",
        f"每次最多 {MAX_ROWS} 行。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- reading and checking ----------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def err(self, row: int, key: str, message: str) -> None:
        e = cell_error(row, HEADER[key], message)
        e["cell"] = f"{LETTER[key]}{row}"
        self.errors.append(e)


def _parse_row(n: int, cells: dict[str, str | None], check: _Checker) -> dict[str, Any] | None:
    """The row as ApplicantCreate input, or None when a cell is wrong (each wrong cell reported)."""
    before = len(check.errors)
    for c in COLUMNS:
        if cells[c.key] and "\x00" in cells[c.key]:  # type: ignore[operator]
            check.err(n, c.key, "contains a NUL character / 含非法字符")
            cells[c.key] = None
    record: dict[str, Any] = {"name": cells["name"], "code": cells["code"]}
    for c in COLUMNS:
        if c.required and not cells[c.key]:
            check.err(n, c.key, f"{c.header} is required / {c.header}不能为空")
    kind_label = cells["kind"]
    kind = KIND_BY_LABEL.get(kind_label or "") or (
        kind_label if kind_label in {k.value for k in ApplicantKind} else None
    )
    if kind_label and kind is None:
        check.err(n, "kind", f"“{kind_label}” is not a kind of applicant unit / “{kind_label}”不是申报主体类型"
                  f"（应为：{'、'.join(KIND_BY_LABEL)}）")  # fmt: skip
    record["kind"] = kind
    city = cells["city"]
    if city:
        bare = city.removesuffix("市") if city.removesuffix("市") in CITIES else city
        if bare not in CITIES:
            check.err(
                n, "city", f"所属城市“{city}”不是安徽省的城市 / “{city}” is not a city of Anhui"
            )
        record["city"] = bare
    university, provincial = cells["university"], cells["provincial_university"]
    is_university = kind == ApplicantKind.university_unit
    if is_university and not university:
        check.err(
            n,
            "university",
            "a university unit names its university / 高校二级教学单位须填写所属高校",
        )
    if not is_university and kind and university:
        check.err(
            n,
            "university",
            "only university units have a university / 仅高校二级教学单位填写所属高校",
        )
    if provincial and provincial not in YES | NO:
        check.err(n, "provincial_university", f"“{provincial}”: write 是 or 否 / 请填写“是”或“否”")
    elif provincial in YES and not is_university and kind:
        check.err(n, "provincial_university", "only university units / 仅高校二级教学单位填写")
    record["university"] = university if is_university else None
    record["provincial_university"] = provincial in YES
    ownership_label = cells["ownership"]
    ownership = OWNERSHIP_BY_LABEL.get(ownership_label or "") or (
        ownership_label if ownership_label in OWNERSHIP_LABELS else None
    )
    is_enterprise = kind == ApplicantKind.enterprise
    if ownership_label and ownership is None:
        check.err(n, "ownership", f"“{ownership_label}” is not an ownership / “{ownership_label}”不是企业所有制"
                  f"（应为：{'、'.join(OWNERSHIP_BY_LABEL)}）")  # fmt: skip
    elif is_enterprise and not ownership:
        check.err(n, "ownership", "an enterprise states its ownership / 企业须填写所有制")
    elif ownership and kind and not is_enterprise:
        check.err(n, "ownership", "only enterprises have an ownership / 仅企业填写所有制")
    record["ownership"] = ownership if is_enterprise else None
    if len(check.errors) > before:
        return None
    return record


def _validated(n: int, record: dict[str, Any], check: _Checker) -> ApplicantCreate | None:
    """The same schema as POST /api/v1/applicants, its errors put on their columns."""
    try:
        return ApplicantCreate.model_validate(record)
    except ValidationError as exc:
        for e in exc.errors():
            key = str(e["loc"][0]) if e["loc"] else "name"
            check.err(
                n, key if key in HEADER else "name", str(e["msg"]).removeprefix("Value error, ")
            )
        return None


def read_sheet(data: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    """The upload's rows, header first, read with no database work: the router calls this before
    authentication opens the request's transaction (on SQLite that takes the write lock)."""
    return xlsx.read_rows(
        within_limit(data),
        SHEET,
        len(COLUMNS),
        MAX_ROWS,
        lambda: ImportInvalid("Not an .xlsx workbook / 不是有效的 .xlsx 文件"),
    )


def check_rows(
    sheet: list[tuple[int, tuple[Any, ...]]], check: _Checker
) -> list[tuple[int, ApplicantCreate]]:
    header = [(_text(v) or "").rstrip("*") for v in sheet[0][1]] if sheet else []
    expected = [c.header for c in COLUMNS]
    if header[: len(expected)] != expected:
        raise ImportInvalid(
            "The first row must be the template's header / 第一行须为模板表头",
            errors=[cell_error(1, "表头", "Expected / 应为: " + " | ".join(expected))],
        )
    parsed: list[tuple[int, ApplicantCreate]] = []
    for n, raw in sheet[1:]:
        values = [_text(v) for v in raw]
        if all(v is None for v in values):
            continue
        record = _parse_row(n, dict(zip([c.key for c in COLUMNS], values, strict=True)), check)
        if record is not None and (unit := _validated(n, record, check)) is not None:
            parsed.append((n, unit))
    return parsed


def _existing(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(name, city) → id of the applicant units that already exist, by chunks of names."""
    names = sorted({name for name, _ in keys})
    out: dict[tuple[str, str], int] = {}
    for i in range(0, len(names), CHUNK):
        rows = session.exec(
            select(ApplicantUnit.name, ApplicantUnit.city, ApplicantUnit.id).where(
                col(ApplicantUnit.name).in_(names[i : i + CHUNK])
            )
        )
        for name, city, unit_id in rows:
            out.setdefault((name, city), unit_id or 0)
    return out


def import_applicants(
    session: Session, actor: Actor, sheet: list[tuple[int, tuple[Any, ...]]]
) -> ImportResult:
    """`sheet` is what read_sheet returned (parsed before the transaction began)."""
    check = _Checker()
    parsed = check_rows(sheet, check)
    seen: dict[tuple[str, str], int] = {}
    seen_codes: dict[str, int] = {}
    own_city = None if actor.has("office") else actor.organization_city
    for n, unit in parsed:
        if own_city and unit.city != own_city:
            check.err(n, "city", f"{actor.organization_name} imports units of {own_city} only / "
                      f"只能导入本市（{own_city}）的申报主体")  # fmt: skip
        key = (unit.name, unit.city)
        if key in seen:
            check.err(
                n,
                "name",
                f"Same unit as row {seen[key]} / 与第 {seen[key]} 行重复（单位名称与所属城市相同）",
            )
        seen.setdefault(key, n)
        if unit.code:
            if unit.code in seen_codes:
                check.err(
                    n,
                    "code",
                    f"Same code as row {seen_codes[unit.code]} / 与第 {seen_codes[unit.code]} 行组织代码重复",
                )
            seen_codes.setdefault(unit.code, n)
    existing = _existing(session, set(seen))
    new_codes = [u.code for n, u in parsed if u.code and (u.name, u.city) not in existing]
    for code in applicants.taken_codes(session, new_codes):
        check.err(seen_codes[code], "code", f"Code {code} exists / 组织代码 {code} 已存在")
    if check.errors:
        errors = sorted(check.errors, key=lambda e: (e["row"], e["cell"]))
        shown = errors[:MAX_LISTED_ERRORS]
        more = f"（仅列出前 {MAX_LISTED_ERRORS} 处）" if len(errors) > len(shown) else ""
        raise ImportInvalid(
            f"{len(errors)} problem(s) in {len({e['row'] for e in errors})} row(s); nothing was imported / "
            f"共 {len(errors)} 处错误，整表未导入{more}",
            errors=shown,
        )
    if not parsed:
        raise ImportInvalid("The sheet has no rows / 表中没有数据行")
    skipped: list[SkippedRow] = []
    new: list[ApplicantCreate] = []
    for n, unit in parsed:
        found = existing.get((unit.name, unit.city))
        if found is not None:
            skipped.append(SkippedRow(row=n, name=unit.name, city=unit.city, existing_id=found))
        else:
            new.append(unit)
    # The same rules, history entries and events as POST /api/v1/applicants, one per unit, written
    # in a few multi-row INSERTs (one create_applicant per row took a minute for 5,000 units).
    created = [u.id for u in applicants.create_applicants(session, actor, new)]
    return ImportResult(
        created=len(created), skipped=len(skipped), created_ids=created, skipped_rows=skipped
    )

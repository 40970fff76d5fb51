"""Demo data of the work ledger: 合肥市 → 包河区 → 电厂街道 with two communities, the street's plan
from the seed-003 template, and a few months of entries (accounts dc_street, dc_c1, dc_c2)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from demosites.core.actor import SYSTEM
from demosites.core.clock import clock
from demosites.ledger.access import LedgerScope
from demosites.ledger.entries import bulk_create
from demosites.ledger.models import LedgerUnit
from demosites.ledger.plans import create_plan
from demosites.ledger.schemas import EntryCreate, PlanCreate
from demosites.ledger.units import add_unit
from demosites.organizations.models import Organization, OrgKind
from demosites.organizations.service import get_org_by_code

UNITS = (("dc_street", "电厂街道办事处"), ("dc_c1", "电厂社区居委会"), ("dc_c2", "新华社区居委会"))


def seed_ledger(session: Session, pw: str) -> None:
    from demosites.seed import _ensure_user  # seed.py imports this module

    if session.execute(
        select(col(LedgerUnit.id)).where(col(LedgerUnit.name) == "电厂街道")
    ).first():
        return
    city = add_unit(session, None, "合肥市", "city", city="合肥")
    district = add_unit(session, city, "包河区", "district")
    units = [add_unit(session, district, "电厂街道", "street")]
    units += [add_unit(session, units[0], name, "community") for name in ("电厂社区", "新华社区")]
    for unit, (code, name) in zip(units, UNITS, strict=True):
        if get_org_by_code(session, code) is None:
            session.add(Organization(code=code, name=name, kind=OrgKind.grassroots, city="合肥"))
            session.flush()
        org = get_org_by_code(session, code)
        unit.organization_id = org.id if org else None
        _ensure_user(session, code, f"{name} 演示账号", code, ["unit"], pw)
    session.flush()
    scope = LedgerScope(actor=SYSTEM, everything=True)
    year = clock.today().year
    plan = create_plan(
        session,
        scope,
        PlanCreate(
            unit_id=units[0].id or 0, year=year, source="template", template="dianchang_2023"
        ),
    )
    item = {i.code: i.id for i in plan.items}
    today = clock.today()
    rows = []
    for month in range(1, today.month):
        for n, unit in enumerate(units[1:]):
            for k in range(8 - 3 * n if month % 2 else 8):  # 新华社区 falls short every other month
                rows.append(
                    EntryCreate(
                        unit_id=unit.id or 0,
                        item_id=item["12.3"],
                        entry_date=date(year, month, 2 + 2 * k),
                        title="新时代文明实践主题性活动",
                        participants=20,
                    )
                )
            rows.append(
                EntryCreate(
                    unit_id=unit.id or 0,
                    item_id=item["14"],
                    entry_date=date(year, month, 5 + 4 * n),
                    title="通辽好人典型事迹材料",
                )
            )
            rows.append(
                EntryCreate(
                    unit_id=unit.id or 0,
                    item_id=item["17"],
                    entry_date=date(year, month, 20),
                    title="“读书伴我行”主题阅读活动",
                    participants=15,
                )
            )
    keeper = LedgerScope(actor=SYSTEM, roots=frozenset({units[0].id or 0}))
    if rows:
        bulk_create(session, keeper, rows, via="demo")

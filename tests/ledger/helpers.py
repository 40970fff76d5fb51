"""Builders for ledger tests: a street (电厂街道) with two communities, a sibling street, users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.ledger.models import LedgerUnit
from demosites.ledger.units import add_unit
from demosites.organizations.models import OrgKind, User
from tests import factories


@dataclass
class World:
    """Headers (`*_h`) are issued at the clock's time: call `w.refresh()` after moving the
    clock by more than a session's idle timeout."""

    city: LedgerUnit
    street: LedgerUnit
    c1: LedgerUnit
    c2: LedgerUnit
    other_street: LedgerUnit
    other_c: LedgerUnit
    street_h: dict[str, str]
    c1_h: dict[str, str]
    c2_h: dict[str, str]
    other_h: dict[str, str]
    office_h: dict[str, str]
    city_h: dict[str, str]
    other_city_h: dict[str, str]
    session: Session
    users: dict[str, User]

    def refresh(self) -> None:
        for name, u in self.users.items():
            setattr(self, f"{name}_h", factories.bearer(self.session, u))


def keeper(session: Session, unit: LedgerUnit, name: str) -> User:
    """A grassroots organisation linked to `unit` and a `unit`-role user of it."""
    org = factories.org(session, name=name, kind=OrgKind.grassroots, city=unit.city)
    unit.organization_id = org.id
    session.add(unit)
    session.flush()
    return factories.user(session, ["unit"], org)


def build(session: Session) -> World:
    city = add_unit(session, None, "合肥市", "city", city="合肥")
    district = add_unit(session, city, "包河区", "district")
    street = add_unit(session, district, "电厂街道", "street")
    c1 = add_unit(session, street, "电厂社区", "community")
    c2 = add_unit(session, street, "新华社区", "community")
    other_street = add_unit(session, district, "常青街道", "street")
    other_c = add_unit(session, other_street, "常青社区", "community")
    users = {
        "street": keeper(session, street, "电厂街道办事处"),
        "c1": keeper(session, c1, "电厂社区居委会"),
        "c2": keeper(session, c2, "新华社区居委会"),
        "other": keeper(session, other_street, "常青街道办事处"),
        "office": factories.user(session, ["office"], "office"),
        "city": factories.user(session, ["recommender"], "hefei"),
        "other_city": factories.user(session, ["recommender"], "wuhu"),
    }
    w = World(
        city=city, street=street, c1=c1, c2=c2, other_street=other_street, other_c=other_c,
        street_h={}, c1_h={}, c2_h={}, other_h={}, office_h={}, city_h={}, other_city_h={},
        session=session, users=users,
    )  # fmt: skip
    w.refresh()
    return w


def today_is(y: int, m: int, d: int) -> None:
    """Beijing noon of that day."""
    clock.set(datetime(y, m, d, 4, 0, tzinfo=UTC))


def plan_from_template(client: TestClient, w: World, year: int = 2023) -> dict:  # type: ignore[type-arg]
    r = client.post(
        "/api/v1/ledger/plans",
        json={
            "unit_id": w.street.id,
            "year": year,
            "source": "template",
            "template": "dianchang_2023",
        },
        headers=w.street_h,
    )
    assert r.status_code == 201, r.text
    return r.json()


def item_by_code(plan: dict, code: str) -> int:  # type: ignore[type-arg]
    return next(i["id"] for i in plan["items"] if i["code"] == code)

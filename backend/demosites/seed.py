"""Seeding: the fixed organisations (always, idempotent) and the demo data (`make run` only)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlmodel import Session, select

from demosites.core.config import VAR_DIR, get_settings
from demosites.organizations.models import CITIES, CITY_CODES, Organization, OrgKind, User
from demosites.organizations.schemas import UserCreate
from demosites.organizations.service import (
    MEMBER_UNITS,
    create_user,
    get_org_by_code,
    seed_fixed_organizations,
)

# Later domains append their own demo seeders here (each idempotent, given the demo password).
DEMO_SEEDERS: list[Callable[[Session, str], None]] = []

DEMO_APPLICANT_UNITS = (
    # code, name, city
    ("hf_school", "合肥市第四十五中学", "合肥"),
    ("wh_community", "芜湖市镜湖区范罗山街道新时代社区", "芜湖"),
    ("aq_village", "安庆市潜山市源潭镇石关村", "安庆"),
    ("ahu_marx", "安徽大学马克思主义学院", "合肥"),
    ("ah_energy", "安徽省能源集团有限公司", "合肥"),
    ("hf_private", "合肥科大讯飞股份有限公司", "合肥"),
)  # fmt: skip


def demo_password() -> str:
    s = get_settings()
    if s.demo_password:
        return s.demo_password
    path = VAR_DIR / "demo_password"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    pw = "Demo-" + secrets.token_urlsafe(9)
    path.write_text(pw)
    path.chmod(0o600)
    return pw


def _ensure_user(
    session: Session, username: str, display: str, org_code: str, roles: list[str], pw: str
) -> None:
    if session.exec(select(User).where(User.username == username)).first():
        return
    org = get_org_by_code(session, org_code)
    assert org is not None, org_code
    create_user(
        session,
        None,
        UserCreate(
            username=username,
            display_name=display,
            password=pw,
            organization_id=org.id or 0,
            roles=roles,  # type: ignore[arg-type]
        ),
        must_change=False,
    )


def seed_demo_accounts(session: Session, pw: str) -> None:
    """One account per fixed organisation (username = its short code) plus meeting roles."""
    _ensure_user(session, "office", "思想政治工作处 演示账号", "office", ["office"], pw)
    # 三员分立: three administrators instead of one all-powerful admin.
    _ensure_user(session, "sysadmin", "系统管理员 演示账号", "office", ["sysadmin"], pw)
    _ensure_user(session, "secadmin", "安全管理员 演示账号", "office", ["secadmin"], pw)
    _ensure_user(session, "auditor", "审计管理员 演示账号", "office", ["auditor"], pw)
    _ensure_user(session, "committee", "联席会议评审 演示账号", "cac", ["committee"], pw)
    _ensure_user(session, "approver", "部务会 演示账号", "office", ["approver"], pw)
    for city in CITIES:
        code = CITY_CODES[city]
        _ensure_user(session, code, f"{city}市委宣传部 演示账号", code, ["recommender"], pw)
    for code, name, recommends in MEMBER_UNITS:
        roles = ["recommender", "assessor"] if recommends else ["assessor"]
        _ensure_user(session, code, f"{name} 演示账号", code, roles, pw)
    for code, name, city in DEMO_APPLICANT_UNITS:
        if get_org_by_code(session, code) is None:
            session.add(Organization(code=code, name=name, kind=OrgKind.applicant_unit, city=city))
            session.flush()
        _ensure_user(session, code, f"{name} 演示账号", code, ["applicant"], pw)


def _check_demo_password(session: Session, pw: str) -> None:
    from demosites.security.passwords import broken_rules
    from demosites.security.policy import get_policy

    if rules := broken_rules(get_policy(session), "", pw):
        raise SystemExit(
            f"DEMO_PASSWORD breaks the password policy ({', '.join(rules)}): use ≥ 12 characters of "
            "three kinds, e.g. Demo-Anhui-2026 / 演示口令不符合口令策略"
        )


def seed(session: Session, demo: bool) -> str | None:
    seed_fixed_organizations(session)
    if not demo:
        return None
    pw = demo_password()
    _check_demo_password(session, pw)
    seed_demo_accounts(session, pw)
    for seeder in DEMO_SEEDERS:
        seeder(session, pw)
    return pw


from demosites.applications.demo import seed_workflow  # noqa: E402  (after DEMO_SEEDERS exists)

DEMO_SEEDERS.append(seed_workflow)

from demosites.sites.demo import seed_sites  # noqa: E402  (after the workflow's: it needs the awarded round)

DEMO_SEEDERS.append(seed_sites)

from demosites.ledger.demo import seed_ledger  # noqa: E402  (after DEMO_SEEDERS exists)

DEMO_SEEDERS.append(seed_ledger)

"""Organisations and users: creation by admins, and the fixed organisations of the programme."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from demosites.core.actor import Actor
from demosites.core.security import hash_password
from demosites.organizations.errors import DuplicateCode, OrganizationNotFound, UnknownCity
from demosites.organizations.models import CITIES, CITY_CODES, Organization, OrgKind, User, UserRole
from demosites.organizations.schemas import OrganizationCreate, UserContact, UserCreate, UserRead
from demosites.security import duties, passwords
from demosites.security.audit import SecurityEvent, log_event
from demosites.security.errors import UserNotFound

# 联席会议成员单位; the last three are also recommenders (domain.md §1).
MEMBER_UNITS = (
    ("cac", "省委网信办", False),
    ("gov_work", "省直机关工委", False),
    ("edu", "省委教育工委", True),
    ("civil", "省民政厅", False),
    ("agri", "省农业农村厅", False),
    ("sasac", "省国资委", True),
    ("union", "省总工会", False),
    ("youth", "团省委", False),
    ("fic", "省工商联", True),
)  # fmt: skip

OFFICE = ("office", "省委宣传部思想政治工作处")


def fixed_organizations() -> list[dict[str, object]]:
    orgs: list[dict[str, object]] = [
        {"code": OFFICE[0], "name": OFFICE[1], "kind": OrgKind.office, "city": None},
    ]
    for code, name, recommends in MEMBER_UNITS:
        orgs.append(
            {"code": code, "name": name, "kind": OrgKind.member_unit, "city": None,
             "is_member_unit": True, "is_recommender": recommends}
        )  # fmt: skip
    for city in CITIES:
        orgs.append(
            {"code": CITY_CODES[city], "name": f"{city}市委宣传部", "kind": OrgKind.city_propaganda,
             "city": city, "is_recommender": True}
        )  # fmt: skip
    return orgs


def seed_fixed_organizations(session: Session) -> int:
    """Idempotent: creates the missing fixed organisations; returns how many were created."""
    existing = set(session.exec(select(Organization.code)).all())
    created = 0
    for spec in fixed_organizations():
        if spec["code"] in existing:
            continue
        session.add(Organization(**spec))  # type: ignore[arg-type]
        created += 1
    session.flush()
    return created


def get_org_by_code(session: Session, code: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.code == code)).first()


def create_organization(session: Session, actor: Actor, data: OrganizationCreate) -> Organization:
    if data.city is not None and data.city not in CITIES:
        raise UnknownCity(f"“{data.city}” is not a city of Anhui / “{data.city}”不是安徽省的城市")
    if get_org_by_code(session, data.code):
        raise DuplicateCode(f"Code {data.code} exists / 代码 {data.code} 已存在")
    org = Organization(**data.model_dump())
    session.add(org)
    session.flush()
    return org


def list_organizations(
    session: Session, kind: str | None, q: str | None, limit: int, offset: int
) -> tuple[list[Organization], int]:
    stmt = select(Organization)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if q:
        stmt = stmt.where(col(Organization.name).contains(q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Organization.id)).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def roles_of(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if user_ids:
        for uid, role in session.exec(
            select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(user_ids))
        ):
            out[uid].append(role)
    return out


def mask_phone(phone: str | None) -> str | None:
    """138****1234: lists never show personal data whole (个人信息保护)."""
    if not phone:
        return None
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 1
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def user_read(user: User, roles: list[str], organization_name: str) -> UserRead:
    return UserRead(
        id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        organization_id=user.organization_id,
        organization_name=organization_name,
        roles=sorted(roles),  # type: ignore[arg-type]
        is_active=user.is_active,
        created_at=user.created_at,
        phone_masked=mask_phone(user.phone),
    )


def read_user(session: Session, user: User) -> UserRead:
    org = session.get(Organization, user.organization_id)
    roles = roles_of(session, [user.id or 0])[user.id or 0]
    return user_read(user, roles, org.name if org else "")


def create_user(
    session: Session, actor: Actor | None, data: UserCreate, must_change: bool = True
) -> User:
    """A new account; `actor` None for seeding. Its password passes the policy (口令复杂度)."""
    duties.check_creation(actor, [str(r) for r in data.roles])
    if session.get(Organization, data.organization_id) is None:
        raise OrganizationNotFound()
    if session.exec(select(User).where(User.username == data.username)).first():
        raise DuplicateCode(f"Username {data.username} exists / 用户名 {data.username} 已存在")
    passwords.check_new_password(session, data.username, data.password)
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        organization_id=data.organization_id,
        must_change_password=must_change,
        phone=data.phone,
    )
    session.add(user)
    session.flush()
    for role in sorted(set(data.roles)):
        session.add(UserRole(user_id=user.id or 0, role=str(role)))
    session.flush()
    passwords.remember(session, user)
    if actor is not None:
        log_event(
            session, SecurityEvent.user_created, actor, object_id=user.id,
            object_label=user.username, roles=sorted(str(r) for r in data.roles),
        )  # fmt: skip
    return user


def user_contact(session: Session, actor: Actor, user_id: int, ip: str | None) -> UserContact:
    """The user's personal data whole, for those who need it; the viewing is audited."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    log_event(
        session, SecurityEvent.personal_data_view, actor, object_id=user.id,
        object_label=user.username, ip=ip, fields=["phone"],
    )  # fmt: skip
    return UserContact(
        id=user.id or 0, username=user.username, display_name=user.display_name, phone=user.phone
    )


def list_users(
    session: Session, organization_id: int | None, q: str | None, limit: int, offset: int
) -> tuple[list[UserRead], int]:
    stmt = select(User, Organization.name).join(
        Organization, col(Organization.id) == User.organization_id
    )
    if organization_id:
        stmt = stmt.where(User.organization_id == organization_id)
    if q:
        stmt = stmt.where(col(User.username).contains(q) | col(User.display_name).contains(q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = list(session.exec(stmt.order_by(col(User.id)).limit(limit).offset(offset)))
    roles = roles_of(session, [u.id or 0 for u, _ in rows])
    return [user_read(u, roles[u.id or 0], name) for u, name in rows], int(total)

"""Separation of administrator duties (三员分立): the checks every role grant and creation pass."""

from __future__ import annotations

from collections.abc import Iterable

from demosites.core.actor import Actor
from demosites.organizations.models import ADMIN_ROLES
from demosites.security.errors import SeparationOfDuties


def admin_roles_in(roles: Iterable[str]) -> set[str]:
    return {str(r) for r in roles} & {str(r) for r in ADMIN_ROLES}


def check_role_set(roles: Iterable[str]) -> None:
    """No account holds two of sysadmin, secadmin and auditor."""
    held = admin_roles_in(roles)
    if len(held) > 1:
        raise SeparationOfDuties(
            f"An account may hold only one of sysadmin, secadmin, auditor (given: {', '.join(sorted(held))}) "
            "/ 一个账号只能担任系统管理员、安全管理员、审计管理员之一"
        )


def check_creation(actor: Actor | None, roles: Iterable[str]) -> None:
    """The system administrator creates accounts with business roles only; administrator roles
    are granted by the security administrator, so nobody can make themselves an auditor."""
    roles = list(roles)
    check_role_set(roles)
    if actor is not None and admin_roles_in(roles):
        raise SeparationOfDuties(
            "Administrator roles are granted by the security administrator / 管理员角色须由安全管理员授予"
        )


def check_grant(actor: Actor, target_user_id: int, roles: Iterable[str]) -> None:
    """The security administrator grants roles, but never to their own account."""
    check_role_set(roles)
    if actor.user_id == target_user_id:
        raise SeparationOfDuties("Nobody changes their own roles / 不能修改自己的角色")

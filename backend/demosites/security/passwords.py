"""Password rules (口令复杂度): checked on every set and change, with the history of past hashes."""

from __future__ import annotations

import string

from sqlmodel import Session, col, select

from demosites.core.clock import clock
from demosites.core.security import hash_password, verify_password
from demosites.organizations.models import User
from demosites.security.errors import WeakPassword
from demosites.security.models import PasswordHistory
from demosites.security.policy import SecurityPolicy, get_policy


def character_classes(password: str) -> int:
    return sum(
        (
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isascii() or not c.isalnum() for c in password),
        )
    )


def broken_rules(policy: SecurityPolicy, username: str, password: str) -> list[str]:
    """The rules `password` breaks, by name (min_length, char_classes, contains_username)."""
    rules = []
    if len(password) < policy.password_min_length:
        rules.append("min_length")
    if character_classes(password) < policy.password_min_classes:
        rules.append("char_classes")
    name = username.strip().lower()
    # The username itself, or (for names long enough to mean something) the username inside it.
    if name and (password.lower() == name or (len(name) >= 4 and name in password.lower())):
        rules.append("contains_username")
    return rules


def _recent_hashes(session: Session, user_id: int, n: int) -> list[str]:
    if n <= 0:
        return []
    return list(
        session.exec(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user_id)
            .order_by(col(PasswordHistory.id).desc())
            .limit(n)
        )
    )


def check_new_password(
    session: Session, username: str, password: str, user_id: int | None = None
) -> None:
    """Raises WeakPassword naming every rule the password breaks (the reuse rule too)."""
    policy = get_policy(session)
    rules = broken_rules(policy, username, password)
    # Hashing costs time: the history is checked only for a password otherwise acceptable.
    recent = (
        _recent_hashes(session, user_id, policy.password_history) if user_id and not rules else []
    )
    if any(verify_password(password, h) for h in recent):
        rules.append("reused")
    if rules:
        raise WeakPassword(
            rules, min_length=policy.password_min_length, min_classes=policy.password_min_classes
        )


def remember(session: Session, user: User) -> None:
    """Adds the user's current hash to the history (call after every set)."""
    session.add(PasswordHistory(user_id=user.id or 0, password_hash=user.password_hash))
    session.flush()


def set_password(session: Session, user: User, password: str, *, must_change: bool) -> None:
    """Checks the policy, stores the new hash and remembers it; never commits."""
    check_new_password(session, user.username, password, user.id)
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    user.must_change_password = must_change
    session.add(user)
    remember(session, user)

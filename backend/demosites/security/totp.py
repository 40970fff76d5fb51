"""TOTP second factor (动态口令, RFC 6238) and one-time recovery codes (恢复码)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, select

from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.organizations.models import User
from demosites.security.models import RecoveryCode, UserTotp

ISSUER = "安徽省示范点管理平台"
STEP = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


def _fernet() -> Fernet:
    # The secret is encrypted at rest (数据保密性) with a key derived from the app's secret key.
    digest = hashlib.sha256(("totp:" + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (an <img src> for the enrolment page)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def matching_step(secret: str, code: str, last_used_step: int | None) -> int | None:
    """The time step `code` belongs to (±1 step of drift), if not already used; else None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(clock.now().timestamp()) // STEP
    for step in (now_step - 1, now_step, now_step + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def code_at(secret: str, step_offset: int = 0) -> str:
    """The code of the current step (tests and the enrolment page's self-check)."""
    return pyotp.TOTP(secret).at(int(clock.now().timestamp()) // STEP * STEP + step_offset * STEP)


def _hash_recovery(code: str) -> str:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    key = get_settings().secret_key.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replaces the user's recovery codes; the plain codes are shown once and never stored."""
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id or 0, code_hash=_hash_recovery(code)))
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    row = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at == None,  # noqa: E711
        )
    ).first()
    if row is None:
        return False
    row.used_at = clock.now()
    session.add(row)
    session.flush()
    return True


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        list(
            session.exec(
                select(RecoveryCode.id).where(
                    RecoveryCode.user_id == user_id,
                    RecoveryCode.used_at == None,  # noqa: E711
                )
            )
        )
    )


def enrolment(session: Session, user_id: int) -> UserTotp | None:
    return session.get(UserTotp, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    row = session.get(UserTotp, user_id)
    return bool(row and row.secret_enc and row.enabled_at)


def verify_login_code(session: Session, user: User, code: str) -> bool:
    """A TOTP code of the enrolled secret (not replayed) or an unused recovery code."""
    row = session.get(UserTotp, user.id)
    if row is None or not row.secret_enc:
        return False
    secret = decrypt(row.secret_enc)
    step = matching_step(secret, code, row.last_used_step) if secret else None
    if step is not None:
        row.last_used_step = step
        session.add(row)
        session.flush()
        return True
    return use_recovery_code(session, user, code)

"""The JWT adapter and password hashing: the only module that imports jose or pwdlib."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from demosites.core.clock import clock
from demosites.core.config import get_settings

ALGORITHM = "HS256"
ISSUER = "demosites"
MAX_TOKEN_BYTES = 4096


class InvalidToken(Exception):
    """Any token that is not ours, not intact or not current."""


def _hasher() -> PasswordHash:
    if get_settings().password_hash_fast:
        # Tests hash hundreds of passwords: cheap parameters, same algorithm.
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash((Argon2Hasher(),))


_HASHER: PasswordHash | None = None
_DUMMY_HASH: str | None = None


def _get_hasher() -> PasswordHash:
    global _HASHER
    if _HASHER is None:
        _HASHER = _hasher()
    return _HASHER


def hash_password(password: str) -> str:
    return _get_hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Compares against a dummy hash for unknown users so timing does not reveal who exists."""
    global _DUMMY_HASH
    hasher = _get_hasher()
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
        hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return hasher.verify(password, password_hash)
    except Exception:
        return False


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def create_token(
    subject: str,
    session_id: str | None = None,
    lifetime: timedelta | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, datetime, str]:
    """Returns (token, expires_at, jti)."""
    settings = get_settings()
    now = clock.now()
    expires = now + (lifetime or timedelta(minutes=settings.access_token_minutes))
    jti = session_id or uuid.uuid4().hex
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": jti,
        "iss": ISSUER,
    }
    if extra:
        claims.update(extra)
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, expires, jti


def decode_token(token: str) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise InvalidToken("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise InvalidToken("bad header") from exc
    if header.get("alg") != ALGORITHM or "enc" in header:
        raise InvalidToken("algorithm")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                # exp/iat presence is checked below: python-jose turns require_exp into a
                # wall-clock exp check, which would bypass the injectable clock.
                "require_sub": True,
                "require_jti": True,
                "verify_exp": False,  # checked below against the injectable clock
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    now = clock.now().timestamp()
    try:
        if float(claims["exp"]) <= now:
            raise InvalidToken("expired")
        if float(claims.get("nbf", claims["iat"])) > now + 30:
            raise InvalidToken("not yet valid")
        if float(claims["iat"]) > now + 30:
            raise InvalidToken("issued in the future")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("bad claims") from exc
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("sub")
    return claims

"""Forged and invalid tokens: every variant answers 401, as a Bearer header and as the cookie.

tests/auth/test_login.py covers `alg: none`, HS512, a wrong key, a swapped `sub`, expiry by the
clock and missing exp/sub/iat; these are the rest of the catalogue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jose import jwe, jwt
from sqlmodel import Session

from demosites.auth.deps import SESSION_COOKIE
from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.security import ISSUER, create_token
from tests import factories as f

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _RSA.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
PUBLIC_PEM = _RSA.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """An HMAC-SHA256 JWT built by hand (python-jose rightly refuses some of these keys)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def _secret() -> bytes:
    return get_settings().secret_key.encode()


HS256 = {"alg": "HS256", "typ": "JWT"}


def _claims(good: str, **changes: Any) -> dict[str, Any]:
    claims = jwt.get_unverified_claims(good)
    for k, v in changes.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def _now() -> int:
    return int(clock.now().timestamp())


# Each variant: (the genuine token of the caller, the session, another user's id) → a forgery.
VARIANTS: dict[str, Callable[[str, Session, int], str]] = {
    "rs256 signed with a private key": lambda good, s, o: jwt.encode(
        _claims(good), PRIVATE_PEM.decode(), algorithm="RS256"
    ),
    "hs256 with the public key as the secret": lambda good, s, o: _sign(
        HS256, _claims(good), PUBLIC_PEM
    ),
    "hs256 with an empty secret": lambda good, s, o: _sign(HS256, _claims(good), b""),
    "payload tampered, signature kept (exp pushed out)": lambda good, s, o: ".".join(
        [
            good.split(".")[0],
            _b64(json.dumps(_claims(good, exp=_now() + 10**7)).encode()),
            good.split(".")[2],
        ]
    ),  # fmt: skip
    "payload tampered (sub of another user)": lambda good, s, o: ".".join(
        [
            good.split(".")[0],
            _b64(json.dumps(_claims(good, sub=str(o))).encode()),
            good.split(".")[2],
        ]
    ),  # fmt: skip
    "expired": lambda good, s, o: _sign(HS256, _claims(good, exp=_now() - 1), _secret()),
    "no exp": lambda good, s, o: _sign(HS256, _claims(good, exp=None), _secret()),
    "exp not a number": lambda good, s, o: _sign(HS256, _claims(good, exp="tomorrow"), _secret()),
    "nbf in the future": lambda good, s, o: _sign(
        HS256, _claims(good, nbf=_now() + 3600), _secret()
    ),
    "iat in the future": lambda good, s, o: _sign(
        HS256, _claims(good, iat=_now() + 3600), _secret()
    ),
    "missing sub": lambda good, s, o: _sign(HS256, _claims(good, sub=None), _secret()),
    "empty sub": lambda good, s, o: _sign(HS256, _claims(good, sub=""), _secret()),
    "another issuer": lambda good, s, o: _sign(HS256, _claims(good, iss="evil"), _secret()),
    "no jti": lambda good, s, o: _sign(HS256, _claims(good, jti=None), _secret()),
    "a session that does not exist": lambda good, s, o: create_token(
        jwt.get_unverified_claims(good)["sub"], session_id=uuid.uuid4().hex
    )[0],
    "a valid session of one user presented for another": lambda good, s, o: create_token(
        str(o), session_id=jwt.get_unverified_claims(good)["jti"]
    )[0],
    "encrypted (JWE) with the server's own key": lambda good, s, o: jwe.encrypt(
        json.dumps(_claims(good)),
        hashlib.sha256(_secret()).digest(),
        algorithm="dir",
        encryption="A256GCM",
    ).decode(),  # fmt: skip
    "header with alg HS256 and an embedded jwk": lambda good, s, o: _sign(
        {**HS256, "jwk": {"kty": "oct", "k": _b64(b"attacker")}}, _claims(good), b"attacker"
    ),
    "header with enc": lambda good, s, o: _sign(
        {**HS256, "enc": "A256GCM"}, _claims(good), _secret()
    ),
    "8 KB header": lambda good, s, o: (
        good.split(".")[0] + "A" * 8192 + "." + ".".join(good.split(".")[1:])
    ),
    "8 KB of garbage": lambda good, s, o: "x" * 8192,
    "two dots only": lambda good, s, o: "..",
    "non-ascii": lambda good, s, o: "令牌.令牌.令牌",
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("carrier", ["bearer", "cookie"])
def test_a_forged_or_invalid_token_is_refused(
    session: Session, client: TestClient, variant: str, carrier: str
) -> None:
    me = f.user(session, ["applicant"], "hefei")
    other = f.user(session, ["office"], "office")
    good = f.bearer(session, me)["Authorization"].split()[1]
    session.commit()  # a refused request rolls back to here, not past the setup
    forged = VARIANTS[variant](good, session, other.id or 0)
    assert forged != good
    raw = forged.encode()  # as bytes: a header may carry what a str header may not
    if carrier == "bearer":
        r = client.get("/api/v1/me", headers={"Authorization": b"Bearer " + raw})  # type: ignore[dict-item]
    else:
        r = client.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}=".encode() + raw})  # type: ignore[dict-item]
    assert r.status_code == 401, (variant, r.status_code, r.text[:200])
    assert r.json()["code"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    # The genuine token still works: the refusal was the forgery's, not the session's.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_an_authorization_header_of_8_kb_is_refused_on_every_kind_of_route(
    session: Session, client: TestClient
) -> None:
    junk = {"Authorization": "Bearer " + "a" * 8192}
    for method, url in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/applications"),
        ("POST", "/api/v1/applications/transitions"),
        ("DELETE", "/api/v1/webhooks/1"),
    ]:
        r = client.request(method, url, headers=junk, json={})
        assert r.status_code == 401, (method, url, r.status_code)


def test_the_issuer_claim_is_ours() -> None:
    # The forgeries above change `iss`; this pins what the genuine value is.
    token, _, _ = create_token("1")
    assert jwt.get_unverified_claims(token)["iss"] == ISSUER

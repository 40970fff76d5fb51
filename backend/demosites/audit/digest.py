"""The one seam through which the history and its checkpoints are digested (hashed).

Every history row and every checkpoint stores the `key_id` its digest was made under, and is
verified under that same key id. Today there is one: "sha256", plain SHA-256, which anyone able to
write the database can recompute. The chain then orders each object's history and catches edits
that do not rewrite the rest of the stream; checkpoints catch a rewritten or shortened stream as
long as the checkpoint itself is trusted.

What a later issue changes here, and nowhere else:
- an HMAC (or SM3-HMAC) under a key the database does not hold: register its hasher in
  `_HASHERS` under a new key id (e.g. "hmac-sha256:2027-1", the key read from outside the
  database) and make it `CURRENT_KEY_ID`; old rows keep verifying under "sha256". The verifier
  must then refuse rows written after the switch under an unkeyed id (a downgrade), e.g. by
  requiring the key id of every row newer than the first keyed checkpoint;
- signed checkpoints written outside the database: `checkpoints.statement()` is the canonical
  text to sign and to store elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

GENESIS = "0" * 64  # the prev_hash of the first row of every stream
CURRENT_KEY_ID = "sha256"


class Hasher(Protocol):
    """What hashlib's and hmac's objects both are: fed bytes, asked for a hex digest."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


_HASHERS: dict[str, Callable[[], Hasher]] = {"sha256": hashlib.sha256}


def known(key_id: str) -> bool:
    return key_id in _HASHERS


def hasher(key_id: str = CURRENT_KEY_ID) -> Hasher:
    """A fresh hasher for `key_id` (KeyError when this installation does not know it)."""
    return _HASHERS[key_id]()


def digest(payload: bytes, key_id: str = CURRENT_KEY_ID) -> str:
    h = hasher(key_id)
    h.update(payload)
    return h.hexdigest()

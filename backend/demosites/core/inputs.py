"""Hostile input refused for every API route at once (422): NUL bytes and undeclared query parameters."""

# PostgreSQL cannot store a NUL in text and SQLite stores it silently: refused up front, the same
# on both databases and for every route, instead of field by field.

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demosites.core.errors import problem

_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _body_has_nul(ctype: str, body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if ctype.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body
    # JSON escapes a NUL as \u0000; decode only when the text suggests one (rarely).
    if b"u0000" not in body.lower():
        return False
    try:
        return _has_nul(json.loads(body))
    except ValueError:
        return False  # malformed JSON: the route's own parsing answers 422


class RefuseNul:
    """Must sit inside the body limit: it buffers the (already bounded) text body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = problem(
            422, "validation_error", "Invalid input / 输入有误",
            "NUL characters are not allowed / 不允许包含 NUL 字符",
            errors=[{"loc": ["request"], "msg": "NUL character", "type": "nul_character"}],
        )  # fmt: skip
        query = scope.get("query_string", b"")
        if "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query:
            await refused(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if not ctype.startswith(_TEXT_BODIES):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if _body_has_nul(ctype, body):
            await refused(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


_DECLARED: dict[tuple[str, str], frozenset[str]] = {}


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias or p.name for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def known_query_only(request: Request) -> None:
    """Refuses query parameters an API route does not declare (422): a mistyped filter
    (`?stauts=draft`) would otherwise be ignored and answer the unfiltered list."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.url.path.startswith("/api/"):
        return
    key = (request.method, str(getattr(route, "path", "")))
    if key not in _DECLARED:
        _DECLARED[key] = frozenset(_query_names(dependant))
    unknown = sorted(set(request.query_params) - _DECLARED[key])
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Unknown query parameter / 未知的查询参数",
                 "type": "extra_forbidden"}
                for name in unknown
            ]
        )  # fmt: skip

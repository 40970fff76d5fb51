"""Hostile input refused for every API route at once (422): NUL bytes, JSON nested too deep and
undeclared query parameters."""

# PostgreSQL cannot store a NUL in text and SQLite stores it silently: refused up front, the same
# on both databases and for every route, instead of field by field.

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demosites.core.errors import problem

_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")
# No payload of this API nests deeper than a handful of levels. Python's json module recurses
# once per level: 10,000 levels raised RecursionError (a 500 with a traceback in the log).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def _is_json(ctype: str) -> bool:
    """What FastAPI parses as JSON: no content type at all, application/json or .../*+json."""
    media = ctype.split(";", 1)[0].strip()
    return media == "" or (media.startswith("application/") and media.endswith(("/json", "+json")))


def json_depth_over(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests deeper than `limit`, counted without parsing it: strings are
    skipped (a bracket inside one does not count); malformed text is left to the parser."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets (the usual case, at C speed)
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(0, depth - 1)
    return False


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
    except (ValueError, RecursionError):
        return False  # malformed JSON: the route's own parsing answers 422


class RefuseNul:
    """Refuses NUL characters anywhere and JSON bodies nested deeper than MAX_JSON_DEPTH. Must
    sit inside the body limit: it buffers the (already bounded) text body."""

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
        if not (ctype.startswith(_TEXT_BODIES) or _is_json(ctype)):
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
        if _is_json(ctype) and json_depth_over(body):
            too_deep = problem(
                422, "json_too_deep", "JSON nested too deep / JSON 嵌套层级过深",
                f"At most {MAX_JSON_DEPTH} levels of arrays and objects / "
                f"数组与对象最多嵌套 {MAX_JSON_DEPTH} 层",
                errors=[{"loc": ["body"], "msg": "nested too deep", "type": "json_too_deep"}],
            )  # fmt: skip
            await too_deep(scope, receive, send)
            return
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

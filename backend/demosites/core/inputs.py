"""Hostile input refused for every API route at once (422): NUL bytes, JSON nested too deep and
undeclared query parameters."""

# PostgreSQL cannot store a NUL in text and SQLite stores it silently: refused up front, the same
# on both databases and for every route, instead of field by field.

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, get_args, get_origin
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
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


def _nul_path(value: Any) -> list[str] | None:
    """Where in a decoded JSON value the first NUL is (keys, indexes), or None."""
    if isinstance(value, str):
        return [] if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in str(k):
                return [str(k)]
            inner = _nul_path(v)
            if inner is not None:
                return [str(k), *inner]
    if isinstance(value, list):
        for i, v in enumerate(value):
            inner = _nul_path(v)
            if inner is not None:
                return [str(i), *inner]
    return None


def _form_nul(text: bytes) -> str | None:
    """The name of the first form (or query) field whose name or value holds a NUL."""
    for name, value in parse_qsl(text.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\0")
    return None


def _body_nul(ctype: str, body: bytes) -> list[str] | None:
    """The `loc` of a NUL in the body, as validation errors name fields; None when there is none."""
    if ctype.startswith("application/x-www-form-urlencoded"):
        if b"\x00" not in body and b"%00" not in body:
            return None
        name = _form_nul(body)
        return ["body", name] if name is not None else ["body"]
    # JSON escapes a NUL as \u0000; decode only when the text suggests one (rarely).
    if b"\x00" not in body and b"u0000" not in body.lower():
        return None
    try:
        where = _nul_path(json.loads(body))
    except (ValueError, RecursionError):
        # Malformed JSON: a raw NUL is still refused here; otherwise the route's parsing answers.
        return ["body"] if b"\x00" in body else None
    if where is not None:
        return ["body", *where]
    return ["body"] if b"\x00" in body else None


def nul_refusal(loc: list[str]) -> Response:
    field = ".".join(loc[1:]) or loc[0]
    return problem(
        422, "validation_error", "Invalid input / 输入有误",
        f"NUL characters are not allowed: {field} / 不允许包含 NUL 字符: {field}",
        errors=[{"loc": loc, "msg": "NUL character", "msg_zh": "不允许包含 NUL 字符",
                 "type": "nul_character"}],
    )  # fmt: skip


class RefuseNul:
    """Refuses NUL characters anywhere and JSON bodies nested deeper than MAX_JSON_DEPTH. Must
    sit inside the body limit: it buffers the (already bounded) text body. `refusals`
    answers a NUL on a path its own way (the token endpoint answers OAuth2's invalid_request)."""

    def __init__(
        self, app: ASGIApp, refusals: dict[str, Callable[[list[str]], Response]] | None = None
    ) -> None:
        self.app = app
        self.refusals = refusals or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        refuse = self.refusals.get(path, nul_refusal)
        query = scope.get("query_string", b"")
        if "\x00" in path:
            await refuse(["path"])(scope, receive, send)
            return
        if b"\x00" in query or b"%00" in query:
            name = _form_nul(query)
            await refuse(["query", name] if name is not None else ["query"])(scope, receive, send)
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
                errors=[{"loc": ["body"], "msg": "nested too deep", "msg_zh": "嵌套层级过深",
                         "type": "json_too_deep"}],
            )  # fmt: skip
            await too_deep(scope, receive, send)
            return
        loc = _body_nul(ctype, body)
        if loc is not None:
            await refuse(loc)(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


_DECLARED: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}


def _is_sequence(annotation: Any) -> bool:
    """Whether a query parameter's type takes several values (list[int], list[str] | None …)."""
    if get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_sequence(arg) for arg in get_args(annotation))


def _query_names(dependant: Any) -> tuple[set[str], set[str]]:
    """(every declared query name, the names that take one value only)."""
    names = {p.alias or p.name for p in dependant.query_params}
    single = {
        p.alias or p.name
        for p in dependant.query_params
        if not _is_sequence(p.field_info.annotation)
    }
    for sub in dependant.dependencies:
        sub_names, sub_single = _query_names(sub)
        names |= sub_names
        single |= sub_single
    return names, single


def known_query_only(request: Request) -> None:
    """Refuses query parameters an API route does not declare (422): a mistyped filter
    (`?stauts=draft`) would otherwise be ignored and answer the unfiltered list; and a
    one-value parameter given several times, of which only the last would count."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.url.path.startswith("/api/"):
        return
    key = (request.method, str(getattr(route, "path", "")))
    if key not in _DECLARED:
        names, scalars = _query_names(dependant)
        _DECLARED[key] = (frozenset(names), frozenset(scalars))
    declared, one_value = _DECLARED[key]
    unknown = sorted(set(request.query_params) - declared)
    # A parameter of one value given twice (`?q=a&q=b`) would silently answer for the last one.
    repeated = sorted(n for n in one_value if len(request.query_params.getlist(n)) > 1)
    refused = [
        (n, "repeated_parameter", "Give this parameter once", "该参数只能出现一次")
        for n in repeated
    ]
    refused += [
        (n, "extra_forbidden", "Unknown query parameter", "未知的查询参数") for n in unknown
    ]
    if refused:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": f"{en} / {zh}", "msg_zh": zh, "type": kind}
                for name, kind, en, zh in refused
            ]
        )

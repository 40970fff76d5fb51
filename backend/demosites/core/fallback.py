"""The answer for /api requests no route took: 405 with `Allow` when the path exists, else 404."""

# A catch-all under /api keeps API paths away from the SPA fallback (which would answer them with
# index.html), but it matches before Starlette can tell "no such path" from "no such method". So
# it tells them apart itself, from a table of every /api path pattern and the methods it accepts.

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import Message, Receive, Scope, Send

from demosites.core.errors import MethodNotAllowed, NotFound, problem

PATH = "/api/{rest:path}"


class ApiFallback:
    """ASGI endpoint of the catch-all route; accepts every method (a Starlette route whose
    endpoint is not a function has no method list)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def table(self) -> list[tuple[re.Pattern[str], frozenset[str]]]:
        # Built at the first request, when every router is included (the test clock's too).
        if self._table is None:
            grouped: dict[str, set[str]] = {}
            for ctx in iter_route_contexts(self.app.routes):
                path = str(ctx.path or "")
                if path.startswith("/api/") and ctx.methods and ctx.endpoint is not self:
                    grouped.setdefault(path, set()).update(ctx.methods)
            self._table = [(compile_path(p)[0], frozenset(m)) for p, m in grouped.items()]
        return self._table

    def allowed(self, path: str) -> set[str]:
        methods: set[str] = set()
        for regex, accepted in self.table():
            if regex.match(path):
                methods |= accepted
        if "GET" in methods:
            methods.add("HEAD")  # answered below, as GET without its body
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = "/api/" + str(scope["path_params"]["rest"])
        allowed = self.allowed(path)
        if scope["method"] == "HEAD" and "HEAD" in allowed:
            await self._head_as_get(scope, receive, send)
            return
        if allowed:
            listed = ", ".join(sorted(allowed))
            response = problem(
                MethodNotAllowed.status,
                MethodNotAllowed.code,
                MethodNotAllowed.title,
                f"{scope['method']} is not supported here; use {listed} / "
                f"此路径不支持 {scope['method']}，可用: {listed}",
                headers={"Allow": listed},
            )
        else:
            response = problem(
                NotFound.status, NotFound.code, NotFound.title, f"No API route {path} / 无此接口"
            )
        await response(scope, receive, send)

    async def _head_as_get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI routes accept only the methods they declare; HEAD of a GET route is that GET
        with the same headers and no body (RFC 9110 §9.3.2)."""
        as_get: dict[str, Any] = {
            k: v for k, v in scope.items() if k not in ("path_params", "endpoint", "route")
        }
        as_get["method"] = "GET"

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app.router(as_get, receive, without_body)

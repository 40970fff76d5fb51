"""Scopes of service accounts: every API route needs `<resource>:read` (safe methods) or
`<resource>:write`, the resource being the route's first tag; declared in the OpenAPI document
as `x-required-scope` so scripts can see what each operation needs."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from demosites.core.errors import Forbidden

# Routes any authenticated caller may use, whatever its scopes.
SCOPE_FREE_TAGS = {"auth", "health", "public", "test"}
SCOPE_KEY = "x-required-scope"


class InsufficientScope(Forbidden):
    code, title = (
        "insufficient_scope",
        "The token lacks the scope this endpoint needs / 令牌缺少此接口所需的权限范围",
    )


def scope_for(route: APIRoute) -> str | None:
    extra = route.openapi_extra or {}
    if SCOPE_KEY in extra:
        return str(extra[SCOPE_KEY]) or None
    tag = str(route.tags[0]) if route.tags else None
    if tag is None or tag in SCOPE_FREE_TAGS:
        return None
    # An APIRoute always has methods (GET by default); None would mean every method: a write.
    safe = route.methods is not None and route.methods <= {"GET", "HEAD", "OPTIONS"}
    level = "read" if safe else "write"
    return f"{tag}:{level}"


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app (FastAPI nests included routers; this flattens them)."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        path = str(ctx.path or getattr(route, "path", None) or "")
        if isinstance(route, APIRoute) and path.startswith("/api/"):
            # A route of a router included into another router keeps its own short path
            # ("/entries/bulk"); its context answers like the route, with the full path and
            # the merged tags. Judging by the short path would leave it out of every check.
            out.append(route if route.path == path else cast(APIRoute, ctx))
    return out


def declare_scopes(app: FastAPI) -> set[str]:
    """Writes each route's scope into its OpenAPI entry; returns every scope that exists."""
    known: set[str] = set()
    for route in api_routes(app):
        scope = scope_for(route)
        if scope:
            target = getattr(route, "original_route", route)  # a nested route's context is frozen
            target.openapi_extra = {**(target.openapi_extra or {}), SCOPE_KEY: scope}
            resource = scope.split(":")[0]
            known.update({f"{resource}:read", f"{resource}:write"})
    return known


def document_scopes(app: FastAPI, schema: dict) -> None:  # type: ignore[type-arg]
    """Adds `x-required-scope` to each operation of the OpenAPI document."""
    paths = schema.get("paths", {})
    for route in api_routes(app):
        scope = scope_for(route)
        for method in route.methods or ():
            op = paths.get(route.path_format, {}).get(method.lower())
            if op is not None and scope:
                op[SCOPE_KEY] = scope

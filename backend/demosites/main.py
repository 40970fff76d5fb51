"""The app factory: routers, error handlers, limits and the built SPA."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demosites.applicants.router import router as applicants_router
from demosites.applications.router import round_router as applications_round_router
from demosites.applications.router import router as applications_router
from demosites.auth import oauth
from demosites.auth.router import router as auth_router
from demosites.core import fallback
from demosites.core.admission import AdmissionLimit
from demosites.core.config import ROOT, get_settings
from demosites.core.docs import install_docs
from demosites.core.errors import (
    DomainError,
    NotFound,
    PayloadTooLarge,
    Problem,
    install_error_handlers,
    problem,
    problem_openapi,
)
from demosites.core.health import router as health_router
from demosites.core.health import test_router
from demosites.core.inputs import RefuseNul, known_query_only
from demosites.core.scopes import declare_scopes, document_scopes
from demosites.documents import fonts as pdf_fonts
from demosites.documents.jobs import sweep_expired_now
from demosites.documents.router import router as documents_router
from demosites.files.service import sweep_orphans_now
from demosites.integration import router as integration
from demosites.integration.service import KNOWN_SCOPES, resolve_service_actor
from demosites.ledger.router import router as ledger_router
from demosites.organizations.router import router as org_router
from demosites.rounds.router import router as rounds_router
from demosites.security.router import router as security_router
from demosites.sites.router import ROUTERS as sites_routers
from demosites.wiring import wire

log = logging.getLogger("demosites")

API_ROUTERS = [
    auth_router,
    org_router,
    security_router,
    integration.router,
    integration.webhooks,
    integration.events,
    ledger_router,
]
# documents first: its /applications/export.xlsx and /applicants/import-template.xlsx would
# otherwise be taken for /applications/{id} and /applicants/{id}.
API_ROUTERS += [documents_router]
API_ROUTERS += [rounds_router, applications_round_router, applicants_router, applications_router]
API_ROUTERS += sites_routers
SPA_DIR = ROOT / "frontend" / "dist"


class BodyLimit:
    """Refuses request bodies over the limit before they are read into memory (413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = get_settings()
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        limit = (
            s.max_upload_bytes + 1024 * 1024
            if ctype.startswith("multipart/")
            else s.max_json_body_bytes
        )
        declared = headers.get(b"content-length")
        mib = limit // (1024 * 1024)
        detail = f"The limit is {mib} MiB / 上限为 {mib} MiB"
        too_big = (
            # OAuth2 clients read an answer without `error` as a token.
            oauth.oauth_answer(PayloadTooLarge(detail))
            if scope.get("path") == oauth.TOKEN_PATH
            else problem(413, PayloadTooLarge.code, PayloadTooLarge.title, detail)
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_big(scope, receive, send)
            return
        length = int(declared) if declared is not None and declared.isdigit() else None
        seen = 0
        body_done = False

        async def limited_receive() -> Message:
            nonlocal seen, body_done
            if body_done:
                return await receive()  # waiting for a disconnect: no timeout
            try:
                message = await asyncio.wait_for(receive(), s.body_timeout_seconds)
            except TimeoutError:
                raise _BodyTimeout() from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
                body_done = not message.get("more_body", False)
                if body_done and length is not None and seen != length:
                    # uvicorn frames bodies by Content-Length itself (core/server.py answers its
                    # refusals); another server or a proxy might hand a lying one through.
                    raise _LengthMismatch(length, seen)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await too_big(scope, receive, send)
        except (_BodyTimeout, _LengthMismatch) as exc:
            await problem(exc.status, exc.code, exc.title, exc.detail)(scope, receive, send)


class _TooLarge(PayloadTooLarge):
    """Raised while the body streams in: FastAPI turns an error while parsing into a 400 whose
    cause this is, and the error handlers answer the cause (413)."""


class _BodyTimeout(DomainError):
    """The body stopped arriving before its Content-Length (raised like _TooLarge)."""

    status, code, title = 408, "body_timeout", "The request body stopped arriving / 请求体传输超时"

    def __init__(self) -> None:
        seconds = get_settings().body_timeout_seconds
        super().__init__(
            f"No byte of the body for {seconds:g} s; is its Content-Length right? / "
            f"请求体 {seconds:g} 秒未到达，Content-Length 是否正确？"
        )


class _LengthMismatch(DomainError):
    """The body that arrived is not as long as its Content-Length said (raised like _TooLarge)."""

    status, code, title = (
        400,
        "content_length_mismatch",
        "The body does not match its Content-Length / 请求体长度与 Content-Length 不符",
    )

    def __init__(self, declared: int, received: int) -> None:
        super().__init__(
            f"Content-Length said {declared} bytes, {received} arrived / "
            f"Content-Length 声明 {declared} 字节，实际收到 {received} 字节"
        )


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # A crash between writing an upload and committing its row leaves bytes no row names.
    sweep_orphans_now()
    # Finished document jobs keep their files only DOCUMENT_JOB_RETENTION_DAYS days.
    sweep_expired_now()
    # Say at start-up, where the operator looks, what a PDF download would otherwise refuse.
    missing = pdf_fonts.missing_packages()
    if missing:
        logging.getLogger("demosites").warning(
            "PDF documents are refused (503 pdf_fonts_missing) until these Debian packages are "
            "installed: %s — run scripts/ensure-system.sh pdf as root, then restart",
            " ".join(missing),
        )
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    wire()
    app = FastAPI(
        title="安徽省基层思想政治工作示范点管理平台 API",
        version="1.0.0",
        description=(
            "Creation, approval and dynamic management of Anhui's grassroots ideological and "
            "political work demonstration sites (基层思想政治工作示范点), and the work ledger (台账). "
            "Every error is application/problem+json with a stable `code`."
        ),
        docs_url=None,  # core/docs.py: Swagger UI from this server, under the CSP
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
        dependencies=[Depends(known_query_only)],
    )
    app.state.service_actor_resolver = resolve_service_actor
    install_error_handlers(app)
    # Inside the body limit: it reads bounded bodies only. The token endpoint answers OAuth2.
    app.add_middleware(RefuseNul, refusals={oauth.TOKEN_PATH: oauth.nul_refusal})
    app.add_middleware(BodyLimit)
    app.include_router(health_router)
    install_docs(app)
    for router in API_ROUTERS:
        app.include_router(router)
    if settings.environment == "test" and settings.allow_clock_override:
        app.include_router(test_router)

    # FastAPI's usual place for the document, where tools guess first: sent on to ours (308
    # keeps the method), rather than the SPA answering it with index.html.
    app.add_api_route(
        "/openapi.json",
        _redirect_to_openapi,
        methods=["GET", "HEAD"],
        include_in_schema=False,
    )
    # After every API route, before the SPA: unknown /api paths are 404, known ones 405 + Allow.
    app.router.routes.append(
        Route(fallback.PATH, fallback.ApiFallback(app), include_in_schema=False)
    )

    KNOWN_SCOPES.update(declare_scopes(app))
    _mount_spa(app, SPA_DIR)
    _document_problems(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AdmissionLimit)
    return app


def _document_problems(app: FastAPI) -> None:
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:  # type: ignore[type-arg]
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})
            schema["components"]["schemas"]["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            defs = schema["components"]["schemas"]["Problem"].pop("$defs", {})
            schema["components"]["schemas"].update(defs)
            document_scopes(app, schema)
            oauth.document_security(schema, KNOWN_SCOPES)
            app.openapi_schema = problem_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Headers every response carries (the SPA was checked under this CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    # /docs included: Swagger UI is served from here (core/docs.py).
                    (b"content-security-policy", CSP.encode()),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The last segment of a path that names a file (`openapi.yaml`, `logo.svg`), not an SPA page.
_FILE_NAME = re.compile(r"(?:^|/)[^/]*\.[A-Za-z0-9]{1,10}$")


def _redirect_to_openapi(request: Request) -> RedirectResponse:
    return RedirectResponse(request.app.openapi_url, status_code=308)


def _mount_spa(app: FastAPI, dist: Path) -> None:
    if not (dist / "index.html").exists():
        log.warning("frontend/dist missing: run `make build` to serve the SPA")
        return
    if (dist / "assets").exists():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def spa(path: str, request: Request) -> FileResponse:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            return FileResponse(candidate)
        if _FILE_NAME.search(path):
            # A file the build does not have (/openapi.yaml, /swagger.json, /favicon.png): no
            # page of the SPA looks like a file name, and answering index.html with 200 would
            # tell a tool or a script that guessed the file exists.
            raise NotFound(f"No file /{path} / 无此文件")
        return FileResponse(dist / "index.html")


app = create_app()

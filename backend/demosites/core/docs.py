"""/docs: Swagger UI served from this server, under the app's Content-Security-Policy.

FastAPI's own page loads Swagger UI from a public CDN with an inline script, so the CSP had to be
dropped for /docs. The files now come from the `fastapi-swagger` package (Swagger UI 5.x, which
renders OpenAPI 3.1; `swagger-ui-bundle` on PyPI still ships 4.15, which does not), installed
with the backend, so `make run` and an offline installation need nothing from outside; the start
script is a static file (docs_static/swagger-init.js), so no 'unsafe-inline' script is needed."""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
ASSETS = "/docs/assets"
_OWN = Path(__file__).with_name("docs_static")


def swagger_ui_dir() -> Path:
    return Path(str(resources.files("fastapi_swagger") / "resources"))


def page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body data-openapi-url="{html.escape(openapi_url)}">
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{DOCS}/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Adds /docs, its start script and Swagger UI's files (create the app with docs_url=None)."""
    body = page(app.title, app.openapi_url or "/openapi.json")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(body)

    @app.get(DOCS + "/swagger-init.js", include_in_schema=False)
    def swagger_init() -> FileResponse:
        return FileResponse(_OWN / "swagger-init.js", media_type="text/javascript")

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")

"""/docs (issue 19): Swagger UI comes from this server, under the app's Content-Security-Policy —
no CDN, no inline script, and every asset the page names answers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from demosites.main import CSP


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_the_docs_page_names_only_same_origin_files_and_no_inline_script(
    client: TestClient,
) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    urls = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert urls, page
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert len(scripts) == 2
    assert all('src="/' in attrs and body.strip() == "" for attrs, body in scripts)
    assert "<style" not in page and " style=" not in page and "onload=" not in page


def test_the_docs_page_is_served_under_the_csp_without_external_origins(client: TestClient) -> None:
    for path in ("/docs", "/docs/swagger-init.js", "/docs/assets/swagger-ui-bundle.js"):
        csp = client.get(path).headers.get("content-security-policy")
        assert csp == CSP, path
    directives = _directives(CSP)
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    for sources in directives.values():
        for source in sources:
            assert source.startswith("'") or source == "data:", source  # no host, no *


def test_every_asset_the_docs_page_names_answers(client: TestClient) -> None:
    page = client.get("/docs").text
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in re.findall(r'(?:src|href)="([^"]*)"', page):
        r = client.get(url)
        assert r.status_code == 200, url
        kind = expected[url[url.rindex(".") :]]
        assert r.headers["content-type"].startswith(kind), (url, r.headers["content-type"])
        assert len(r.content) > 100
    (spec,) = re.findall(r'data-openapi-url="([^"]*)"', page)
    assert client.get(spec).json()["openapi"].startswith("3.1")  # Swagger UI 5 renders 3.1

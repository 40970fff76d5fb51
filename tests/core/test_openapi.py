"""The committed OpenAPI document is exactly what the app serves."""

from __future__ import annotations

import json

from demosites.core.config import ROOT
from demosites.main import create_app


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == create_app().openapi(), "openapi/openapi.json is stale: run `make openapi`"


def test_every_operation_has_an_id_summary_tag_and_documented_errors() -> None:
    doc = create_app().openapi()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), where
            assert op.get("summary"), where
            assert op.get("tags"), where
            if path != "/healthz" and not op.get("security_public"):
                codes = set(op["responses"])
                assert any(c.startswith("4") for c in codes), where

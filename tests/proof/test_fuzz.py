"""Schemathesis against openapi/openapi.json, in process: 50 generated requests per operation and
database, fixed seed. No server error, no response outside its documented schema, status code or
content type, no schema-violating request accepted, every error problem+json.

Each operation runs as one caller per database, rotated over the roles the route table allows
(and the anonymous caller), shifted by one on PostgreSQL, so two roles meet each operation in a
full run; refusals of every other role are the role matrix's job (test_authorisation.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine

from demosites.core.config import ROOT
from tests.conftest import _APP
from tests.proof.routes import PARAMS, PUBLIC, ROUTES, url_for
from tests.proof.world import ROLES, World

EXAMPLES = 50
SPEC = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SPEC.get_all_operations())
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
LEAKS = ("traceback", "sqlalchemy", "psycopg", "select ", "insert into", 'file "/')


def _caller(key: str, index: int, backend: str) -> str | None:
    roles = ROUTES[key].roles if key in ROUTES else PUBLIC  # /healthz is outside /api
    allowed = [r for r in ROLES if r in roles] + [None]
    return allowed[(index + (backend == "postgresql")) % len(allowed)]


def _real_ids(key: str, w: World) -> dict[str, Any]:
    path = key.split(" ", 1)[1]
    if key not in ROUTES:
        return {}
    filled = url_for(path, w).split("/")
    return {
        seg[1:-1]: filled[i]
        for i, seg in enumerate(path.split("/"))
        if seg.startswith("{") and seg[1:-1] in PARAMS
    }


def _problem_check(response: Any) -> None:
    """The suite's problem+json rule for the fuzzer's responses (headers hold lists here)."""
    if response.status_code < 400:
        return
    ctype = (response.headers.get("content-type") or [""])[0]
    assert ctype.startswith("application/problem+json"), (response.status_code, ctype)
    body = json.loads(response.content)
    assert {"type", "title", "status", "code"} <= set(body), body
    text = response.content.decode("utf-8", "replace").lower()
    assert not any(leak in text for leak in LEAKS), text[:300]


def test_the_fuzzed_document_is_the_apps() -> None:
    assert set(OPERATIONS) == {
        f"{m} {p}" for p, ops in _APP.openapi()["paths"].items() for m in map(str.upper, ops)
    }


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_generated_requests_get_documented_answers(
    engine: Engine, world: World, world_requests: None, key: str
) -> None:
    op = OPERATIONS[key]
    index = sorted(OPERATIONS).index(key)
    persona = _caller(key, index, engine.dialect.name)
    headers = world.as_(persona)
    strategy = st.one_of(
        op.as_strategy(GenerationMode.POSITIVE, path_parameters=_real_ids(key, world)),
        op.as_strategy(GenerationMode.POSITIVE),
        op.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
    )  # fmt: skip
    @given(case=strategy)
    def run(case: Any) -> None:
        # Into the case itself (not call()'s headers=): a negative case generated without the
        # header is then judged as sent, with it.
        if case.headers is None:
            case.headers = {}
        case.headers.update(headers)
        response = case.call(app=_APP)
        _problem_check(response)
        # 413 is a refusal too (the body limit answers before validation): schemathesis's
        # negative-data check does not count it among rejections.
        checks = [
            c for c in CHECKS if response.status_code != 413 or c is not negative_data_rejection
        ]
        case.validate_response(response, checks=checks)

    run()

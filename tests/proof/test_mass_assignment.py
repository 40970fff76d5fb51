"""Mass assignment: a write that also sends a field the server controls is refused whole (422,
`extra="forbid"`) and changes nothing. Every JSON write route of the app is walked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from demosites.core.db import metadata
from tests.conftest import _APP
from tests.proof.routes import ROUTES, app_routes, request_kwargs, url_for
from tests.proof.world import ROLES, World, requests_in_rollback

# What only the server may set: states, counters, ownership, numbering, authorship, privileges,
# versions and identities.
SERVER_FIELDS: dict[str, Any] = {
    "status": "awarded",
    "used": 0,
    "recommender_id": 1,
    "plaque_no": "皖思政示范〔2099〕001号",
    "created_by": 1,
    "created_by_org_id": 1,
    "roles": ["office"],
    "version": 99,
    "id": 1,
    "organization_id": 1,
    "is_active": True,
    "hash": "0" * 64,
}
# Tables whose rows a refused request may legitimately touch (the caller's session, the audit
# of refused requests) or that only count requests.
BOOKKEEPING = {"user_session", "rate_bucket", "login_attempt", "history", "idempotency_key"}


def _json_write_routes() -> list[tuple[str, set[str]]]:
    """(route, the properties its JSON body declares) for every write route taking JSON."""
    out = []
    for key, route in sorted(app_routes(_APP).items()):
        field = route.body_field
        if key.split(" ")[0] == "GET" or field is None:
            continue
        model = getattr(field, "type_", None) or field.field_info.annotation
        config = getattr(model, "model_config", {})
        if "Body_" in getattr(model, "__name__", ""):  # form and multipart bodies
            continue
        assert config.get("extra") == "forbid", f"{key}: {model.__name__} must forbid extra fields"
        out.append((key, set(model.model_fields)))
    return out


def _caller(key: str) -> str | None:
    roles = ROUTES[key].roles
    return next((r for r in ROLES if r in roles), None)


def _fingerprint(conn: Any) -> dict[str, Any]:
    out = {}
    for table in metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
        out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


def test_every_json_write_route_forbids_unknown_fields() -> None:
    routes = _json_write_routes()
    assert len(routes) >= 45


def test_server_controlled_fields_are_refused_in_every_write_and_change_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demosites.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 0)
    wrong: list[tuple[str, str, int, Any]] = []
    sent = 0
    # Requests here are kept (not rolled back one by one) so that the fingerprint would see any
    # change; the whole block is rolled back at the end.
    with requests_in_rollback(world.engine, keep=True) as conn, TestClient(_APP) as client:
        before = _fingerprint(conn)
        for key, declared in _json_write_routes():
            method, path = key.split(" ", 1)
            body = request_kwargs(key, world).get("json") or {}
            for field, value in SERVER_FIELDS.items():
                if field in declared:
                    continue  # a form field here (e.g. the recommending body of a new application)
                r = client.request(
                    method, url_for(path, world), headers=world.as_(_caller(key)),
                    json={**body, field: value},
                )  # fmt: skip
                sent += 1
                errors = r.json().get("errors") or [] if r.status_code == 422 else []
                if not any(
                    e["loc"][-1] == field and e["type"] == "extra_forbidden" for e in errors
                ):
                    wrong.append((key, field, r.status_code, r.text[:200]))
        after = _fingerprint(conn)
    assert wrong == [], "\n".join(map(str, wrong))
    assert sent > 400
    assert {t: rows for t, rows in after.items() if rows != before[t]} == {}

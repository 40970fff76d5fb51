"""Function- and object-level authorisation, walked over every route of the app.

The route table (tests/proof/routes.py) says who may call each route; these tests fail for a
route it lacks, so a new route is covered (or named) the day it is added."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import _APP
from tests.proof.routes import (
    DOMAIN,
    OUTSIDERS,
    PARAMS,
    ROUTES,
    SHARED,
    app_routes,
    domain_of,
    path_params,
    request_kwargs,
    url_for,
)
from tests.proof.world import ROLES, World


def _call(client: TestClient, w: World, key: str, persona: str | None, **overrides: Any) -> Any:
    method, path = key.split(" ", 1)
    return client.request(
        method, url_for(path, w, overrides), headers=w.as_(persona), **request_kwargs(key, w)
    )


def _lines(rows: list[Any]) -> str:
    return "\n".join(map(str, rows))


def _declared_roles(route: Any) -> set[str] | None:
    """The roles of a route's `require_roles` dependency, if it has one."""

    def walk(dep: Any) -> set[str] | None:
        call = dep.call
        if getattr(call, "__qualname__", "").startswith("require_roles.") and call.__closure__:
            return {str(r) for r in call.__closure__[0].cell_contents}
        for sub in dep.dependencies:
            found = walk(sub)
            if found is not None:
                return found
        return None

    return walk(route.dependant)


def test_the_route_table_names_every_route_of_the_app() -> None:
    routes = app_routes(_APP)
    assert sorted(set(routes) - set(ROUTES)) == [], "add these routes to tests/proof/routes.py"
    assert sorted(set(ROUTES) - set(routes)) == [], "these routes no longer exist"
    unmapped = {
        (key, p) for key in routes for p in path_params(key.split(" ", 1)[1]) if p not in PARAMS
    }
    assert unmapped == set(), "map these path parameters to World ids in PARAMS"
    undomained = {p for p in PARAMS if p not in DOMAIN and p not in SHARED}
    assert undomained == set(), "say which object these parameters name (DOMAIN) or SHARED"


def test_the_table_agrees_with_each_routes_role_dependency() -> None:
    disagree = {}
    for key, route in app_routes(_APP).items():
        declared = _declared_roles(route)
        if declared is not None and declared != set(ROUTES[key].roles):
            disagree[key] = (sorted(declared), sorted(ROUTES[key].roles))
    assert disagree == {}


def test_every_role_is_refused_where_the_matrix_forbids_it(
    world: World, world_client: TestClient
) -> None:
    """10 roles and the anonymous caller against every route, with real ids and valid bodies:
    forbidden → 403 (or 404: the object is out of the caller's scope), anonymous → 401,
    allowed → never 401/403 (per-action routes: decided by their transition tables)."""
    wrong: list[tuple[str, str, int, str]] = []
    for key, route in ROUTES.items():
        for role in (*ROLES, "anonymous"):
            persona = None if role == "anonymous" else role
            r = _call(world_client, world, key, persona)
            code = r.json().get("code", "") if r.status_code >= 400 else ""
            if role in route.roles:
                ok = (route.checks_credential or r.status_code != 401) and (
                    route.per_action or r.status_code != 403
                )
            elif role == "anonymous":
                ok = r.status_code == 401
            else:
                ok = r.status_code in (403, 404)
            if not ok:
                wrong.append((key, role, r.status_code, code))
    assert wrong == [], _lines(wrong)


def test_nobody_reaches_an_object_of_another_city_unit_or_site(
    world: World, world_client: TestClient
) -> None:
    """Every route naming an owned object, called by each of its outsiders (another city, another
    recommender, an unassigned assessor, another unit's applicant, a sibling ledger unit,
    another site's people): 403 or 404, and not one of the object's strings in the answer."""
    wrong: list[tuple[str, str, int, list[str]]] = []
    checked = 0
    for key in ROUTES:
        domain = domain_of(key.split(" ", 1)[1])
        if domain is None:
            continue
        secrets = world.secrets[domain]
        for persona in OUTSIDERS[domain]:
            r = _call(world_client, world, key, persona)
            leaked = [s for s in secrets if s and s in r.text]
            checked += 1
            if r.status_code not in (403, 404) or leaked:
                wrong.append((key, persona, r.status_code, leaked))
    assert wrong == [], _lines(wrong)
    assert checked > 300


# The people each object belongs to: they do reach it (so the refusals above are not an artefact
# of wrong ids).
OWNERS = {"application": "applicant", "applicant": "applicant", "site": "site_people",
          "ledger": "unit"}  # fmt: skip


def test_the_owners_do_reach_the_objects_the_outsiders_cannot(
    world: World, world_client: TestClient
) -> None:
    wrong = []
    for key in ROUTES:
        method, path = key.split(" ", 1)
        domain = domain_of(path)
        if method != "GET" or domain not in OWNERS:
            continue
        r = _call(world_client, world, key, OWNERS[domain])
        if r.status_code >= 400:
            wrong.append((key, r.status_code))
    assert wrong == [], _lines(wrong)

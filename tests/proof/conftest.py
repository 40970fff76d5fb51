"""The proof tests share one world per database (built once: the demo seed is not cheap); every
request they make runs in a savepoint that is rolled back, so the world never drifts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from demosites.core.config import get_settings
from tests.conftest import _APP, make_client, migrated_engine
from tests.proof.world import World, build, requests_in_rollback


@pytest.fixture(scope="session")
def world(engine: Engine) -> Iterator[World]:
    eng, cleanup = migrated_engine(engine.dialect.name)
    try:
        yield build(eng)
    finally:
        cleanup()


@pytest.fixture
def world_requests(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app answers from the world; nothing any request writes survives it."""
    # Hundreds of calls per person and minute: the per-user rate limit is another test's business.
    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 0)
    monkeypatch.setattr(get_settings(), "rate_limit_service_per_minute", 0)
    with requests_in_rollback(world.engine):
        yield


@pytest.fixture
def world_client(world_requests: None) -> Iterator[TestClient]:
    """A client against the world (see world_requests)."""
    with make_client(_APP) as c:
        yield c

"""Fixtures of the workflow tests: an HTTP helper that logs people in at the clock's current time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from tests.applications.builders import Api


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[Api]:
    yield Api(client, session)
    clock.set(None)


@pytest.fixture(autouse=True)
def _real_time_afterwards() -> Iterator[None]:
    yield
    clock.set(None)

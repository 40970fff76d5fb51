"""Fixtures of the documents tests: the workflow's HTTP helper, real time afterwards, and no
background threads on the rolled-back test session (job tests use the live client)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.documents import jobs
from tests.applications.builders import Api


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[Api]:
    yield Api(client, session)
    clock.set(None)


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs started by requests on the test session are recorded, not run in a thread (a thread
    could not see the test's uncommitted data)."""
    started: list[int] = []
    monkeypatch.setattr(jobs, "launch", started.append)
    return started


@pytest.fixture(autouse=True)
def _real_time_afterwards() -> Iterator[None]:
    yield
    clock.set(None)

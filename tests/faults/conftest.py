"""Fault tests move the in-process clock for their setup; put it back after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demosites.core.clock import clock


@pytest.fixture(autouse=True)
def _real_time_afterwards() -> Iterator[None]:
    yield
    clock.set(None)

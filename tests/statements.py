"""Counting the SQL statements a block of code sends (the no-N+1 and cache tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The statements sent through `engine` inside the block, in order."""
    statements: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


@pytest.fixture
def no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits are counted in batches (core/ratelimit.py): a request that sends its batch
    costs a statement more. Tests that count an endpoint's own statements turn them off."""
    from demosites.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_user_per_minute", 0)
    monkeypatch.setattr(get_settings(), "rate_limit_service_per_minute", 0)

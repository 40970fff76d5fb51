"""Settings refuse weak secrets and production demo data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from demosites.core.config import Settings


def test_secret_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValidationError, match="32"):
        Settings(secret_key="short")


def test_demo_mode_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="production"):
        Settings(secret_key="x" * 40, environment="production", demo_mode=True)


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    assert Settings().database_url == "sqlite:////tmp/elsewhere.db"


def test_an_empty_database_url_keeps_the_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().database_url.startswith("sqlite:///") and Settings().database_url.endswith("demosites.db")

"""Models and migrations agree, and the migrations run down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

import demosites.models  # noqa: F401
from demosites.core.db import make_engine, metadata
from tests.conftest import alembic_config, new_database_url


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert _diff(engine) == []


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    url, drop = new_database_url(engine.dialect.name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "heads")
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "heads")
        eng = make_engine(url)
        try:
            assert _diff(eng) == []
        finally:
            eng.dispose()
    finally:
        drop()

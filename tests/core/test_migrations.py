"""Models and migrations agree, and the migrations run down and up again."""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import demosites.models  # noqa: F401
from demosites.audit.models import HistoryEntry
from demosites.audit.service import verify_chain
from demosites.core.db import make_engine, metadata
from demosites.core.types import UTCDateTime
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


# ---- the history's move to streams (0930) ----------------------------------------------------

_OLD_CHAINED = (
    "prev_hash", "object_type", "object_id", "action", "from_state", "to_state", "actor_user_id",
    "actor_name", "actor_role", "actor_org_id", "at", "opinion", "data",
)  # fmt: skip


def _old_digest(v: dict[str, Any]) -> str:
    """The digest of the single chain before 0930, as the code of that time computed it."""
    payload = json.dumps(
        [*(v[k] for k in _OLD_CHAINED[:10]), v["at"].isoformat(timespec="microseconds"),
         v["opinion"], v["data"]],
        ensure_ascii=False, sort_keys=True, default=str,
    )  # fmt: skip
    return hashlib.sha256(payload.encode()).hexdigest()


_OLD_HISTORY = sa.table(
    "history", *(sa.column(c) for c in _OLD_CHAINED if c not in ("at", "data")),
    sa.column("at", UTCDateTime()), sa.column("data", sa.JSON()), sa.column("id"),
    sa.column("actor_org_name"), sa.column("hash"),
)  # fmt: skip


def _old_history(url: str, tamper_row: int | None = None) -> list[dict[str, Any]]:
    """Rows of three objects, interleaved, in one chain as an installation before 0930 has them."""
    start = datetime(2026, 3, 1, 2, 30, 15, 123456, tzinfo=UTC)
    objects = [("application", 11), ("security", 0), ("application", 12), ("application", 11),
               ("site", 3), ("application", 11), ("security", 0)]  # fmt: skip
    rows, prev = [], "0" * 64
    for n, (object_type, object_id) in enumerate(objects, start=1):
        row = {
            "id": n, "object_type": object_type, "object_id": object_id, "action": f"act{n}",
            "from_state": None if n == 1 else "draft", "to_state": "submitted",
            "actor_user_id": n, "actor_name": f"张{n}", "actor_role": "recommender",
            "actor_org_id": 40 + n, "actor_org_name": "合肥市委宣传部",
            "at": start + timedelta(minutes=n), "opinion": f"同意 {n}" if n % 2 else None,
            "data": {"意见": ["甲", n], "quota_id": n} if n % 3 else None, "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = _old_digest(row)
        if n == tamper_row:
            row["opinion"] = "forged after hashing"
        rows.append(row)
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.insert(_OLD_HISTORY), rows)
    finally:
        eng.dispose()
    return rows


def test_an_old_installations_history_verifies_after_the_upgrade_and_the_downgrade(
    engine: Engine,
) -> None:
    url, drop = new_database_url(engine.dialect.name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "0920")
        old = _old_history(url)
        command.upgrade(cfg, "heads")
        eng = make_engine(url)
        try:
            with Session(eng) as s:
                report = verify_chain(s)
                assert report.intact, report.findings
                assert (report.checked, report.streams) == (7, 4)
                rows = s.exec(select(HistoryEntry).order_by(col(HistoryEntry.id))).all()
                # each object's rows numbered in the order they were written, chained among themselves
                assert [(r.object_type, r.object_id, r.seq) for r in rows] == [
                    ("application", 11, 1), ("security", 0, 1), ("application", 12, 1),
                    ("application", 11, 2), ("site", 3, 1), ("application", 11, 3),
                    ("security", 0, 2),
                ]  # fmt: skip
                assert rows[3].prev_hash == rows[0].hash and rows[1].prev_hash == "0" * 64
                kept = ("action", "actor_name", "actor_org_name", "at", "opinion", "data")
                assert [[getattr(r, k) for k in kept] for r in rows] == [
                    [o[k] for k in kept] for o in old
                ]
                assert {r.key_id for r in rows} == {"sha256"}
        finally:
            eng.dispose()
        command.downgrade(cfg, "0920")
        eng = make_engine(url)
        try:
            with eng.connect() as conn:
                back = [
                    dict(r) for r in conn.execute(sa.select(_OLD_HISTORY).order_by("id")).mappings()
                ]
            assert [r["hash"] for r in back] == [o["hash"] for o in old]  # the old chain again
        finally:
            eng.dispose()
    finally:
        drop()


def test_the_upgrade_refuses_to_rechain_a_tampered_history_unless_told_to(engine: Engine) -> None:
    url, drop = new_database_url(engine.dialect.name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "0920")
        _old_history(url, tamper_row=4)
        with pytest.raises(RuntimeError, match=r"broken at rows \[4\]"):
            command.upgrade(cfg, "heads")
        cfg.cmd_opts = argparse.Namespace(x=["accept_tampered_history=yes"])
        command.upgrade(cfg, "heads")
        eng = make_engine(url)
        try:
            with Session(eng) as s:
                assert verify_chain(s).intact  # re-chained as the operator decided
        finally:
            eng.dispose()
    finally:
        drop()

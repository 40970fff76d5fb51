"""The history (履历): append-only in the database itself, one row per transition written in the
transition's own transaction, hash-chained per object, and a verifier that names a tampered row
(tests/audit/ walks the streams, checkpoints and every kind of tampering)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from demosites import cli
from demosites.applications import service
from demosites.applications.models import Status
from demosites.applications.schemas import BatchTransitionRequest, TransitionRequest
from demosites.applications.transitions import TABLE
from demosites.audit.models import HistoryEntry
from demosites.audit.service import GENESIS, record, verify_chain
from demosites.core.actor import SYSTEM
from demosites.core.errors import DomainError
from demosites.events import service as events
from demosites.rounds.models import Quota
from tests.applications import builders as b
from tests.sites.builders import upheld_objection


def _tamper_statements(dialect: str) -> dict[str, str]:
    return {
        "update": "UPDATE history SET action = 'forged'",
        "delete": "DELETE FROM history WHERE id = (SELECT max(id) FROM history)",
        # SQLite has no TRUNCATE: an unconditional DELETE is its truncate (refused the same way).
        "truncate": "TRUNCATE history" if dialect == "postgresql" else "DELETE FROM history",
    }


@pytest.mark.parametrize("kind", ["update", "delete", "truncate"])
def test_the_database_refuses_to_change_or_empty_the_history(session: Session, kind: str) -> None:
    record(session, SYSTEM, "test", 1, "create")
    statement = _tamper_statements(session.get_bind().dialect.name)[kind]
    before = session.exec(select(func.count()).select_from(HistoryEntry)).one()
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.execute(text(statement))
    assert "append-only" in str(refused.value)
    assert session.exec(select(func.count()).select_from(HistoryEntry)).one() == before


def _rows(session: Session, app_id: int) -> list[HistoryEntry]:
    return list(
        session.exec(
            select(HistoryEntry)
            .where(HistoryEntry.object_type == "application", HistoryEntry.object_id == app_id)
            .order_by(col(HistoryEntry.id))
        )
    )


def _ready(session: Session, state: Status):  # type: ignore[no-untyped-def]
    """An application of 合肥 in `state`, its people, and its round (as the table walk builds)."""
    b.set_day(b.BEFORE)
    r = b.make_round(session)
    u = b.unit(session, "primary_school", "合肥")
    hefei = b.org(session, "hefei")
    quota = session.exec(
        select(Quota).where(
            Quota.round_id == r.id, Quota.recommender_id == hefei.id, Quota.field == "school"
        )
    ).one()
    later = state not in (Status.draft, Status.submitted, Status.not_recommended)
    if later:
        quota.used = 1
        session.add(quota)
    app = b.application(session, r, u, hefei, state, quota_id=quota.id if later else None)
    if state == Status.approved:
        upheld_objection(session, app)
    return app, b.cast_for(session, app), r


@pytest.mark.parametrize("action", sorted(str(r.action) for r in TABLE))
def test_each_transition_writes_exactly_one_history_row_and_none_when_rolled_back(
    session: Session, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    (rule,) = (r for r in TABLE if r.action == action)
    app, cast, r = _ready(session, rule.source)
    actor = b.actor_of(session, getattr(cast, sorted(rule.roles)[0]))
    b.set_day(b.DAY_OF_ACTION[action])
    body = TransitionRequest(**b.payload_for(action, r, session))
    before = _rows(session, app.id or 0)

    # A failure after the history row was written (the outbox write here) undoes the row too.
    def fail(*_a: object, **_k: object) -> None:
        raise RuntimeError("the outbox is down")

    with monkeypatch.context() as m, pytest.raises(RuntimeError), session.begin_nested():
        m.setattr(events, "emit", fail)
        service.transition(session, actor, app.id or 0, body)
    session.expire_all()
    assert _rows(session, app.id or 0) == before

    with session.begin_nested():
        service.transition(session, actor, app.id or 0, body)
    after = _rows(session, app.id or 0)
    assert len(after) == len(before) + 1
    row = after[-1]
    assert (row.action, row.from_state, row.to_state) == (action, rule.source, rule.target)
    # the application's own chain: the next place after its rows so far, linked to the last
    assert row.seq == len(before) + 1
    assert row.prev_hash == (before[-1].hash if before else GENESIS) and row.hash != row.prev_hash


def test_a_refused_batch_writes_no_history(session: Session) -> None:
    app, cast, r = _ready(session, Status.submitted)
    draft = b.application(session, r, b.unit(session, "community", "合肥"), b.org(session, "hefei"))
    actor = b.actor_of(session, cast.recommender)
    b.set_day(b.DAY_OF_ACTION["recommend"])
    count = session.exec(select(func.count()).select_from(HistoryEntry)).one()
    body = BatchTransitionRequest(
        action="recommend", opinion="同意推荐", application_ids=[app.id or 0, draft.id or 0]
    )
    # The first application is recommended (its history row written), then the draft refuses.
    with pytest.raises(DomainError) as refused, session.begin_nested():
        service.transition_batch(session, actor, body)
    assert refused.value.extra["application_id"] == draft.id
    assert session.exec(select(func.count()).select_from(HistoryEntry)).one() == count


def _tamper_one(session: Session, entry_id: int) -> None:
    """What someone with database access could do: lift the guard, edit a row, put it back."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE history DISABLE TRIGGER history_no_update_delete"))
        session.execute(
            text("UPDATE history SET opinion = 'forged' WHERE id = :id"), {"id": entry_id}
        )
        session.execute(text("ALTER TABLE history ENABLE TRIGGER history_no_update_delete"))
    else:
        trigger = session.execute(
            text(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'history_no_update'"
            )
        ).scalar_one()
        session.execute(text("DROP TRIGGER history_no_update"))
        session.execute(
            text("UPDATE history SET opinion = 'forged' WHERE id = :id"), {"id": entry_id}
        )
        session.execute(text(trigger))


def test_the_chain_links_every_row_and_the_verifier_names_a_single_tampered_one(
    session: Session,
) -> None:
    rows = [record(session, SYSTEM, "test", 1, "note", opinion=f"意见 {n}") for n in range(5)]
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert verify_chain(session).intact
    with session.begin_nested() as tampering:
        _tamper_one(session, rows[2].id or 0)
        session.expire_all()
        # that row only: the links still hold
        assert verify_chain(session).tampered_ids == [rows[2].id]
        tampering.rollback()
    session.expire_all()
    assert verify_chain(session).intact


@pytest.fixture
def committed(fresh_engine: Engine) -> Iterator[Session]:
    with Session(fresh_engine) as s:
        yield s


def test_the_verify_history_command_flags_a_tampered_row(committed: Session) -> None:
    rows = [record(committed, SYSTEM, "test", n, "note") for n in range(3)]
    committed.commit()
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["verify-history"]) == 0
    _tamper_one(committed, rows[1].id or 0)
    committed.commit()
    with pytest.raises(DBAPIError), committed.begin_nested():  # the guard is back in place
        committed.execute(text("UPDATE history SET opinion = 'again'"))
    committed.rollback()  # end the transaction: the command opens its own
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["verify-history"]) == 1
    assert str(rows[1].id) in out.getvalue()

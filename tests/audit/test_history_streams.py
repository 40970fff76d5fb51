"""The history in streams: one hash chain per object, numbered from 1, and checkpoints of every
stream's head. Whoever lifts the database's guard and edits a row, deletes one from the middle or
from the end of a stream, or edits the checkpoints, is named by the verifier."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

import pytest
from sqlalchemy import false, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from demosites import cli
from demosites.audit import checkpoints
from demosites.audit import service as audit
from demosites.audit.errors import HistoryBusy
from demosites.audit.models import HistoryCheckpoint, HistoryCheckpointHead, HistoryEntry
from demosites.audit.service import GENESIS, record, record_many, verify_chain
from demosites.core.actor import SYSTEM, Actor

OFFICE = Actor(
    user_id=7, username="office", display_name="王处长", organization_id=3,
    organization_name="省委宣传部思想政治工作处", organization_city=None,
    roles=frozenset({"office"}), kind="user",
)  # fmt: skip


@contextmanager
def guard_lifted(session: Session, table: str = "history") -> Iterator[None]:
    """What someone with database access could do: lift the append-only guard, then put it back."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update_delete"))
        yield
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_update_delete"))
        return
    saved = session.execute(
        text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{table}'")
    ).all()
    for name, _sql in saved:
        session.execute(text(f"DROP TRIGGER {name}"))
    yield
    for _name, sql in saved:
        session.execute(text(sql))


def stream(session: Session, object_type: str, object_id: int) -> list[HistoryEntry]:
    session.expire_all()
    return audit.history_of(session, object_type, object_id)


def kinds(session: Session) -> list[tuple[str, int | None]]:
    session.expire_all()
    return [(f.kind, f.entry_id) for f in verify_chain(session).findings]


def test_each_object_is_a_stream_of_its_own_numbered_from_one(session: Session) -> None:
    a1 = record(session, OFFICE, "test", 1, "create", to_state="draft")
    b1 = record(session, OFFICE, "test", 2, "create", to_state="draft")
    a2 = record(session, OFFICE, "test", 1, "submit", from_state="draft", to_state="submitted")
    assert [(e.seq, e.prev_hash) for e in (a1, b1, a2)] == [
        (1, GENESIS),
        (1, GENESIS),
        (2, a1.hash),
    ]
    assert [e.id for e in stream(session, "test", 1)] == [a1.id, a2.id]
    report = verify_chain(session)
    assert report.intact and report.checked >= 3 and report.streams >= 2
    assert a1.key_id == "sha256" and a1.actor_org_name == "省委宣传部思想政治工作处"


def test_the_same_object_twice_in_one_batch_chains_on(session: Session) -> None:
    first = record(session, OFFICE, "test", 5, "create")
    hashes = record_many(session, OFFICE, "test", "note", [(5, {"n": 1}), (6, None), (5, {"n": 2})])
    five = stream(session, "test", 5)
    assert [(e.seq, e.prev_hash) for e in five] == [
        (1, GENESIS), (2, first.hash), (3, hashes[0])
    ]  # fmt: skip
    assert [e.hash for e in five[1:]] == [hashes[0], hashes[2]]
    assert [(e.seq, e.prev_hash) for e in stream(session, "test", 6)] == [(1, GENESIS)]
    assert verify_chain(session).intact


@pytest.mark.parametrize(
    ("column", "value"),
    [("opinion", "'forged'"), ("actor_org_name", "'别的单位'"), ("to_state", "'approved'"),
     ("key_id", "'sha256x'")],
)  # fmt: skip
def test_an_edited_row_is_flagged_alone(session: Session, column: str, value: str) -> None:
    rows = [record(session, OFFICE, "test", 1, "note", opinion=f"意见 {n}") for n in range(3)]
    with session.begin_nested() as tampering:
        with guard_lifted(session):
            session.execute(
                text(f"UPDATE history SET {column} = {value} WHERE id = :id"), {"id": rows[1].id}
            )
        expected = "unknown_key" if column == "key_id" else "edited"
        assert kinds(session) == [(expected, rows[1].id)]  # the links around it still hold
        tampering.rollback()
    assert kinds(session) == []


def test_a_row_edited_with_its_hash_recomputed_breaks_the_next_link(session: Session) -> None:
    rows = [record(session, OFFICE, "test", 1, "note", opinion=f"意见 {n}") for n in range(3)]
    forged = {k: getattr(rows[1], k) for k in audit.CHAINED} | {"opinion": "forged"}
    with guard_lifted(session):
        session.execute(
            text("UPDATE history SET opinion = 'forged', hash = :h WHERE id = :id"),
            {"h": audit.entry_digest(forged), "id": rows[1].id},
        )
    assert kinds(session) == [("broken_link", rows[2].id)]


def test_a_deleted_middle_row_is_flagged_at_the_row_after_it(session: Session) -> None:
    rows = [record(session, OFFICE, "test", 1, "note", opinion=f"意见 {n}") for n in range(4)]
    with guard_lifted(session):
        session.execute(text("DELETE FROM history WHERE id = :id"), {"id": rows[1].id})
    assert kinds(session) == [("missing_rows", rows[2].id)]
    (finding,) = verify_chain(session).findings
    assert (finding.object_type, finding.object_id, finding.seq) == ("test", 1, 3)
    assert "2–2" in finding.detail and "缺失" in finding.detail


def test_a_deleted_first_row_is_flagged(session: Session) -> None:
    rows = [record(session, OFFICE, "test", 1, "note") for _ in range(2)]
    with guard_lifted(session):
        session.execute(text("DELETE FROM history WHERE id = :id"), {"id": rows[0].id})
    assert kinds(session) == [("missing_rows", rows[1].id)]


def test_a_deleted_tail_row_is_flagged_through_the_checkpoint(session: Session) -> None:
    rows = [record(session, OFFICE, "test", 1, "note") for _ in range(3)]
    other = record(session, OFFICE, "test", 2, "note")
    cp = checkpoints.take(session)
    with guard_lifted(session):
        session.execute(text("DELETE FROM history WHERE id = :id"), {"id": rows[2].id})
    # Without the checkpoint the shorter chain would be a valid chain.
    report = verify_chain(session)
    assert report.checkpoint_id == cp.id
    assert [(f.kind, f.object_type, f.object_id, f.seq, f.entry_id) for f in report.findings] == [
        ("truncated", "test", 1, 3, None),
        ("fewer_rows", None, None, None, None),
    ]
    assert "3–3" in report.findings[0].detail
    # and no later checkpoint blesses the shorter stream
    with pytest.raises(checkpoints.HistoryRegressed), session.begin_nested():
        checkpoints.take(session)
    assert other.id not in report.tampered_ids


def test_a_whole_stream_deleted_after_a_checkpoint_is_flagged(session: Session) -> None:
    record(session, OFFICE, "test", 1, "note")
    gone = [record(session, OFFICE, "test", 2, "note") for _ in range(2)]
    checkpoints.take(session)
    with guard_lifted(session):
        session.execute(text("DELETE FROM history WHERE object_type = 'test' AND object_id = 2"))
    assert ("truncated", None) in kinds(session)
    (truncated,) = [f for f in verify_chain(session).findings if f.kind == "truncated"]
    assert (truncated.object_id, truncated.seq) == (
        2,
        1,
    ) and f"全部 {len(gone)} 条" in truncated.detail


def test_a_rewritten_tail_is_flagged_through_the_checkpoint(session: Session) -> None:
    rows = [record(session, OFFICE, "test", 1, "note", opinion="同意") for _ in range(2)]
    checkpoints.take(session)
    forged = {k: getattr(rows[1], k) for k in audit.CHAINED} | {"opinion": "不同意"}
    with guard_lifted(session):
        session.execute(
            text("UPDATE history SET opinion = '不同意', hash = :h WHERE id = :id"),
            {"h": audit.entry_digest(forged), "id": rows[1].id},
        )
    assert kinds(session) == [("checkpoint_changed", rows[1].id)]


def test_edited_checkpoint_heads_are_flagged(session: Session) -> None:
    record(session, OFFICE, "test", 1, "note")
    record(session, OFFICE, "test", 2, "note")
    cp = checkpoints.take(session)
    # Hide a stream from the checkpoint (to delete it unseen afterwards): the head no longer folds.
    with guard_lifted(session, "history_checkpoint_head"):
        session.execute(
            text(
                "DELETE FROM history_checkpoint_head WHERE checkpoint_id = :c "
                "AND object_type = 'test' AND object_id = 2"
            ),
            {"c": cp.id},
        )
    assert kinds(session) == [("checkpoint_forged", None)]
    with pytest.raises(checkpoints.HistoryRegressed), session.begin_nested():
        checkpoints.take(session)


def test_a_checkpoint_keeps_only_the_heads_that_moved_and_folds_them_all(session: Session) -> None:
    a = record(session, OFFICE, "test", 1, "note")
    b = record(session, OFFICE, "test", 2, "note")
    first = checkpoints.take(session)
    b2 = record(session, OFFICE, "test", 2, "note")
    c = record(session, OFFICE, "test", 3, "note")
    second = checkpoints.take(session)
    moved = session.exec(
        select(HistoryCheckpointHead).where(HistoryCheckpointHead.checkpoint_id == second.id)
    ).all()
    assert {(h.object_type, h.object_id, h.seq, h.hash) for h in moved} == {
        ("test", 2, 2, b2.hash), ("test", 3, 1, c.hash)
    }  # fmt: skip
    assert (second.total, second.streams) == (first.total + 2, first.streams + 1)
    state = checkpoints.state_at(session, second.id or 0)
    assert state[("test", 1)] == (1, a.hash) and state[("test", 2)] == (2, b2.hash)
    assert second.head == checkpoints.fold(state) != first.head
    assert b.hash != b2.hash
    assert verify_chain(session).intact
    # The text a later issue signs names everything the checkpoint claims.
    assert all(
        str(v) in checkpoints.statement(second).decode()
        for v in (second.id, second.total, second.streams, second.head, second.key_id)
    )


@pytest.mark.parametrize("table", ["history_checkpoint", "history_checkpoint_head"])
def test_the_database_refuses_to_change_a_checkpoint(session: Session, table: str) -> None:
    record(session, OFFICE, "test", 1, "note")
    checkpoints.take(session)
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.execute(text(f"DELETE FROM {table}"))
    assert "append-only" in str(refused.value)


def test_two_rows_at_one_place_of_a_stream_are_refused(session: Session) -> None:
    row = record(session, OFFICE, "test", 1, "note")
    twin = {k: getattr(row, k) for k in audit.CHAINED} | {"opinion": "另一条", "hash": "f" * 64}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(HistoryEntry), [twin])  # type: ignore[arg-type]


def test_an_append_that_keeps_losing_its_place_gives_up_and_writes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(session, OFFICE, "test", 1, "note")
    # As if other writers took the next place every time this one read the head.
    monkeypatch.setattr(audit, "_HEAD", audit._HEAD.where(false()))
    with pytest.raises(HistoryBusy) as busy:
        record(session, OFFICE, "test", 1, "note")
    assert (busy.value.status, busy.value.code, busy.value.headers) == (
        503, "retry_later", {"Retry-After": "1"}
    )  # fmt: skip
    assert "稍后重试" in busy.value.detail
    assert len(stream(session, "test", 1)) == 1


def test_two_writers_of_one_stream_without_a_row_lock_append_one_after_the_other(
    fresh_engine: Engine,
) -> None:
    """Security events have no object row to lock: two at once on one stream never fork it.
    The second waits for the first's commit (PostgreSQL: on the unique index; SQLite: for the
    write lock), reads the new head and appends after it."""
    first = Session(fresh_engine, expire_on_commit=False)
    first_row = record(first, SYSTEM, "security", 0, "login_failure")  # not committed yet
    second_done = threading.Event()
    result: dict[str, Any] = {}

    def second_writer() -> None:
        with Session(fresh_engine, expire_on_commit=False) as s:
            try:
                result["row"] = record(s, SYSTEM, "security", 0, "login_failure")
                s.commit()
            except Exception as exc:  # reported below with the test's own message
                result["error"] = exc
            finally:
                second_done.set()

    worker = threading.Thread(target=second_writer)
    worker.start()
    assert not second_done.wait(0.5), "the second writer must wait for the first one's commit"
    first.commit()
    first.close()
    assert second_done.wait(60), "the second writer did not finish within 60 s of the commit"
    worker.join()
    assert "error" not in result, result.get("error")
    with Session(fresh_engine) as s:
        rows = audit.history_of(s, "security", 0)
        assert [(r.seq, r.prev_hash) for r in rows] == [(1, GENESIS), (2, first_row.hash)]
        assert result["row"].id == rows[1].id
        assert verify_chain(s).intact


def test_the_checkpoint_and_verify_commands(fresh_engine: Engine) -> None:
    with Session(fresh_engine, expire_on_commit=False) as s:
        rows = [record(s, OFFICE, "test", 1, "note") for _ in range(2)]
        s.commit()
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["checkpoint-history"]) == 0
        assert cli.main(["verify-history"]) == 0
    assert "intact" in out.getvalue() and "checkpoint 1" in out.getvalue()
    with Session(fresh_engine) as s:
        cp = s.exec(select(HistoryCheckpoint).order_by(col(HistoryCheckpoint.id).desc())).first()
        assert cp is not None and cp.total >= 2
        with guard_lifted(s):
            s.execute(text("DELETE FROM history WHERE id = :id"), {"id": rows[1].id})
        s.commit()
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["verify-history"]) == 1
        assert cli.main(["checkpoint-history"]) == 1  # refuses to bless the shorter stream
    assert "truncated" in out.getvalue()

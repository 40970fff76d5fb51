"""history in streams: one hash chain per object with a sequence number, instead of one chain for
the whole province (which needed a lock every writer passed through); checkpoints of all heads

Existing rows are first checked against the old single chain: an upgrade never re-chains (and so
blesses) rows that were already tampered with. It refuses with the ids found; after looking into
them, `alembic -x accept_tampered_history=yes upgrade heads` re-chains anyway. Then every row gets
its stream's next `seq` (in the order of ids) and is re-chained within its stream under key id
"sha256", covering the new fields (seq, key id, actor_org_name).

Revision ID: 0930
Revises: 0920
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import context, op

import demosites.core.types
from demosites.audit.triggers import drop_append_only, make_append_only

revision: str = "0930"
down_revision: str | Sequence[str] | None = "0920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
PAGE = 2000

history = sa.table(
    "history",
    sa.column("id", sa.Integer()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()),
    sa.column("actor_user_id", sa.Integer()),
    sa.column("actor_name", sa.String()),
    sa.column("actor_role", sa.String()),
    sa.column("actor_org_id", sa.Integer()),
    sa.column("actor_org_name", sa.String()),
    sa.column("at", demosites.core.types.UTCDateTime()),
    sa.column("opinion", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("key_id", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)

# The digests as they were and as they are at this revision (frozen here: the application's own
# may move on, e.g. to an HMAC, without changing what this migration wrote).
_OLD_CHAINED = (
    "prev_hash", "object_type", "object_id", "action", "from_state", "to_state", "actor_user_id",
    "actor_name", "actor_role", "actor_org_id", "at", "opinion", "data",
)  # fmt: skip
_CHAINED = (
    "key_id", "object_type", "object_id", "seq", "prev_hash", "action", "from_state", "to_state",
    "actor_user_id", "actor_name", "actor_role", "actor_org_id", "actor_org_name", "at", "opinion",
    "data",
)  # fmt: skip


def _old_digest(v: Any) -> str:
    at = v["at"]
    payload = json.dumps(
        [
            *(v[k] for k in _OLD_CHAINED[:10]),
            at.isoformat(timespec="microseconds") if at else None,
            v["opinion"],
            v["data"],
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _digest(v: Any) -> str:
    at = v["at"]
    payload = json.dumps(
        [
            (at.astimezone(UTC).isoformat(timespec="microseconds") if at else None)
            if k == "at"
            else v[k]
            for k in _CHAINED
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# The columns before this revision (and after its downgrade).
_BEFORE = [c for c in history.c if c.name not in ("seq", "key_id")]


def _pages(conn: sa.Connection, order: Sequence[str], streams: bool) -> Iterator[list[Any]]:
    """All rows in `order` (ending with id), a page at a time (no cursor open across updates);
    with `streams`, the columns of this revision, else those of the one before."""
    cols = [history.c[name] for name in order]
    after: tuple[Any, ...] | None = None
    while True:
        stmt = sa.select(*(history.c if streams else _BEFORE)).order_by(*cols).limit(PAGE)
        if after is not None:
            stmt = stmt.where(sa.tuple_(*cols) > sa.tuple_(*after))
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][name] for name in order)


_SET = (
    sa.update(history)
    .where(history.c.id == sa.bindparam("b_id"))
    .values(
        seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")
    )
)


def _old_chain_breaks(conn: sa.Connection) -> list[int]:
    bad: list[int] = []
    prev = GENESIS
    for rows in _pages(conn, ("id",), streams=False):
        for r in rows:
            if r["prev_hash"] != prev or _old_digest(r) != r["hash"]:
                bad.append(r["id"])
            prev = r["hash"]
    return bad


def upgrade() -> None:
    conn = op.get_bind()
    bad = _old_chain_breaks(conn)
    if bad and context.get_x_argument(as_dictionary=True).get("accept_tampered_history") != "yes":
        raise RuntimeError(
            f"The history's hash chain is broken at rows {bad[:20]}{' …' if len(bad) > 20 else ''}: "
            "re-chaining it into streams would hide that. Look into these rows first, then run "
            "`alembic -x accept_tampered_history=yes upgrade heads` to upgrade anyway. / "
            f"履历哈希链在记录 {bad[:20]} 处断裂；升级会掩盖篡改，请先核查，"
            "确认后以 -x accept_tampered_history=yes 升级"
        )

    drop_append_only("history")
    with op.batch_alter_table("history") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "key_id",
                sqlmodel.sql.sqltypes.AutoString(length=32),
                nullable=False,
                server_default="sha256",
            )
        )

    stream: tuple[str, int] | None = None
    seq, prev = 0, GENESIS
    for rows in _pages(conn, ("object_type", "object_id", "id"), streams=True):
        updates = []
        for r in rows:
            if (r["object_type"], r["object_id"]) != stream:
                stream, seq, prev = (r["object_type"], r["object_id"]), 0, GENESIS
            seq += 1
            r.update(seq=seq, prev_hash=prev, key_id="sha256")
            prev = _digest(r)
            updates.append(
                {"b_id": r["id"], "b_seq": seq, "b_prev": r["prev_hash"], "b_hash": prev}
            )
        conn.execute(_SET, updates)

    with op.batch_alter_table("history") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "key_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            server_default=None,
        )
        batch_op.drop_index("ix_history_object")
        batch_op.create_unique_constraint(
            batch_op.f("uq_history_object_type_object_id_seq"), ["object_type", "object_id", "seq"]
        )
    make_append_only("history")

    op.create_table(
        "history_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", demosites.core.types.UTCDateTime(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_checkpoint")),
    )
    op.create_table(
        "history_checkpoint_head",
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["history_checkpoint.id"],
            name=op.f("fk_history_checkpoint_head_checkpoint_id_history_checkpoint"),
        ),
        sa.PrimaryKeyConstraint(
            "checkpoint_id", "object_type", "object_id", name=op.f("pk_history_checkpoint_head")
        ),
    )
    make_append_only("history_checkpoint")
    make_append_only("history_checkpoint_head")


def downgrade() -> None:
    drop_append_only("history_checkpoint_head")
    drop_append_only("history_checkpoint")
    op.drop_table("history_checkpoint_head")
    op.drop_table("history_checkpoint")

    # Back to one chain in the order of ids, under the old digest (the old code verifies it).
    conn = op.get_bind()
    drop_append_only("history")
    with op.batch_alter_table("history") as batch_op:
        batch_op.drop_constraint("uq_history_object_type_object_id_seq", type_="unique")
    prev = GENESIS
    for rows in _pages(conn, ("id",), streams=True):
        updates = []
        for r in rows:
            r["prev_hash"] = prev
            prev = _old_digest(r)
            updates.append(
                {"b_id": r["id"], "b_seq": r["seq"], "b_prev": r["prev_hash"], "b_hash": prev}
            )
        conn.execute(_SET, updates)
    with op.batch_alter_table("history") as batch_op:
        batch_op.drop_column("key_id")
        batch_op.drop_column("seq")
        batch_op.create_index("ix_history_object", ["object_type", "object_id", "id"], unique=False)
    make_append_only("history")

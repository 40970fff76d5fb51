"""drop the application list's change stamps: the triggers of 0910 updated one shared row in
every writer's transaction (a lock every write of seven tables passed through, and half of a
lock-order inversion with the history's advisory lock); the list is made anew on each request

Revision ID: 0920
Revises: 0910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0920"
down_revision: str | Sequence[str] | None = "0910"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0910 created them.
STAMPED = {
    "applications": (
        "application",
        "applicant_unit",
        "organization",
        "user",
        "assessment_assignment",
        "round",
        "phase_exception",
    ),
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, tables in STAMPED.items():
        for table in tables:
            if postgresql:
                op.execute(f'DROP TRIGGER IF EXISTS {table}_bumps_{name} ON "{table}"')
            else:
                for event in ("insert", "update", "delete"):
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_bumps_{name}_{event}")
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS bump_{name}_stamp()")
    op.drop_table("change_stamp")


def downgrade() -> None:
    # 0910's upgrade, as it was.
    op.create_table(
        "change_stamp",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_stamp")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, tables in STAMPED.items():
        op.execute(
            sa.text("INSERT INTO change_stamp (name, n) VALUES (:name, 0)").bindparams(name=name)
        )
        bump = f"UPDATE change_stamp SET n = n + 1 WHERE name = '{name}'"
        if postgresql:
            op.execute(
                f"CREATE OR REPLACE FUNCTION bump_{name}_stamp() RETURNS trigger AS $$ "
                f"BEGIN {bump}; RETURN NULL; END $$ LANGUAGE plpgsql"
            )
        for table in tables:
            if postgresql:
                op.execute(
                    f"CREATE TRIGGER {table}_bumps_{name} AFTER INSERT OR UPDATE OR DELETE "
                    f'OR TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION bump_{name}_stamp()'
                )
            else:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    op.execute(
                        f"CREATE TRIGGER {table}_bumps_{name}_{event.lower()} AFTER {event} "
                        f'ON "{table}" BEGIN {bump}; END'
                    )

"""change stamps for cached lists: a trigger on every table the application list is made
from bumps the stamp in the writer's transaction

Revision ID: 0910
Revises: 0900
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0910"
down_revision: str | Sequence[str] | None = "0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0100",)

# As in demosites.core.pagecache.STAMPED_TABLES when this migration was written.
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
                # Once per statement (a 5,000-row import bumps once).
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


def downgrade() -> None:
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

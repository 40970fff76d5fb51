"""application list order index: lists sort by priority, then id, within a round

Revision ID: 0900
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0900'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = ('perf',)
depends_on: str | Sequence[str] | None = '0100'


def upgrade() -> None:
    op.create_index(
        'ix_application_round_priority_id',
        'application',
        ['round_id', sa.literal_column('priority DESC'), 'id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_application_round_priority_id', table_name='application')

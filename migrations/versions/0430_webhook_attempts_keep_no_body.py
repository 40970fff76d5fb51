"""webhook attempts keep no body: earlier attempts' response excerpts become status lines

The worker used to keep 500 characters of whatever answered a delivery, which made a webhook a
non-blind probe of the receiver's network for the service account that reads its attempts
(issue 19). It now keeps "HTTP <code> <reason>"; this turns the excerpts already stored into
"HTTP <code>" (or nothing where no answer came). Not reversible: the bodies are gone.

Revision ID: 0430
Revises: 0400
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0430"
down_revision: str | Sequence[str] | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE webhook_attempt SET response_excerpt = CASE WHEN status_code IS NULL THEN NULL "
        "ELSE 'HTTP ' || CAST(status_code AS VARCHAR(8)) END "
        "WHERE response_excerpt IS NOT NULL"
    )


def downgrade() -> None:
    pass  # the bodies are not kept anywhere to put back

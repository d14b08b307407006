"""Administration: a principal can be disabled (``disabled_at``), which refuses its token and
its web login and ends its sessions, without deleting the principal (the disclosure log and
the case history keep naming it).

Revision ID: 0009_principal_admin
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_principal_admin"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: a plain ALTER TABLE ADD COLUMN on SQLite and PostgreSQL alike.
    op.add_column("principals", sa.Column("disabled_at", sa.DateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    # The column goes, and with it every "disabled": revoke such a principal's token and
    # password first if it must stay out.
    with op.batch_alter_table("principals") as batch:  # SQLite rebuilds the table
        batch.drop_column("disabled_at")

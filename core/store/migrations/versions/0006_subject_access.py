"""Subject access decisions and erasable disclosure-log bodies.

* ``access_decisions``: the security officer's decision on one log entry for subject access —
  ``withhold`` it from the citizen's copy (GDPR art. 15(4), databeskyttelseslovens § 22) or
  ``release`` its full content to a related person — with the stated reason. The latest
  decision per entry holds; every decision is also a disclosure-log entry of its own.
* ``disclosure_log.body``: a version 2 entry's body (the leaf commits to its SHA-256), which
  the officer can erase while the leaf, and so the tree, stays verifiable.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_decisions",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("disclosure_log") as batch:
        batch.add_column(sa.Column("body", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_log") as batch:
        batch.drop_column("body")
    op.drop_table("access_decisions")

"""Four-eyes re-identification: ``reidentification_requests``, one row per request that a
second consultant approves or refuses (hub/four_eyes.py). Nothing to backfill.

Revision ID: 0010_four_eyes
Revises: 0009_principal_admin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_four_eyes"
down_revision: str | None = "0009_principal_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reidentification_requests",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(32), nullable=False, unique=True),
        sa.Column("pseudonym", sa.String(100), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("queues", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_reidentification_requests_pseudonym", "reidentification_requests",
                    ["pseudonym"])
    op.create_index("ix_reidentification_requests_status", "reidentification_requests",
                    ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_reidentification_requests_status",
                  table_name="reidentification_requests")
    op.drop_index("ix_reidentification_requests_pseudonym",
                  table_name="reidentification_requests")
    op.drop_table("reidentification_requests")

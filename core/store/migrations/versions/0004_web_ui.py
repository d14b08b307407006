"""The web UI: login sessions and the consultants' case status per concern (with history).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("principal_id", sa.Integer, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "concern_status",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("queue", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "concern_status_history",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_concern_status_history_concern", "concern_status_history",
                    ["event_id", "queue"])


def downgrade() -> None:
    op.drop_index("ix_concern_status_history_concern", table_name="concern_status_history")
    op.drop_table("concern_status_history")
    op.drop_table("concern_status")
    op.drop_table("web_sessions")

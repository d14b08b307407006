"""``decision_inputs``: per decided event, the facts the policy decided it on (enumerated codes
and the age in whole years; no CPR, no name, no free text), so that a proposed policy can be
replayed against the decisions of the last days (``ssp-hub policy diff``). Not backfilled:
the facts of older events were never stored, and such events cannot be replayed.

Revision ID: 0009_decision_inputs
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_decision_inputs"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_inputs",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_decision_inputs_decided_at", "decision_inputs",
                    ["decided_at", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_decision_inputs_decided_at", table_name="decision_inputs")
    op.drop_table("decision_inputs")

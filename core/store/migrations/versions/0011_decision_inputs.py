"""``events.decision_inputs``: per decided event, the facts the policy decided it on (enumerated
codes and the age in whole years; no CPR, no name, no free text), so that a proposed policy can
be replayed against the decisions of the last days (``ssp-hub policy diff``). A column of the
row the projector updates anyway, so storing it costs no extra statement. Not backfilled: the
facts of older events were never stored, and such events cannot be replayed.

Revision ID: 0011_decision_inputs
Revises: 0010_four_eyes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_decision_inputs"
down_revision: str | None = "0010_four_eyes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("decision_inputs", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("decision_inputs")

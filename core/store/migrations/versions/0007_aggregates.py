"""Maintained aggregates for governance and metrics (issue 15 §4).

* ``aggregates``: counts per (kind, period, key) — routed events per local month and category
  or area, routed concerns per month and queue, concerns held per queue, events per status,
  the ingest→routed latency buckets and their sum (core/store/aggregates.py).
* ``aggregate_events``: per routed event, whether its first concern landed and whether its
  outcome said routed, so each is counted once.
* ``policy_decisions``: decided events per policy version and outcome, first and last.

All three are backfilled from the existing ``events`` and ``concerns``: the per-event marks
and the policy decisions by ``INSERT … SELECT … GROUP BY``; the counts in Python, streaming the
concerns in batches (the local month of ``occurred_at`` in Europe/Copenhagen cannot be
computed portably in SQL on SQLite and PostgreSQL alike).

Revision ID: 0007_aggregates
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.store.aggregates import backfill

revision = "0007_aggregates"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregates",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "aggregate_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("first_routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routed", sa.Boolean, nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "policy_decisions",
        sa.Column("policy_version", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("policy_decisions")
    op.drop_table("aggregate_events")
    op.drop_table("aggregates")

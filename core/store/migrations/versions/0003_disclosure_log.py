"""The tamper-evident disclosure log: entries, subjects, sequencer state, signed checkpoints,
legal holds. Replaces 0002's plain ``disclosures`` table, which held re-identifications only
and was never released.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_disclosures_pseudonym", table_name="disclosures")
    op.drop_table("disclosures")
    op.create_table(
        "disclosure_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(20), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("pseudonym", sa.String(100), nullable=True),
        sa.Column("event_id", sa.String(100), nullable=True),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_disclosure_log_pseudonym", "disclosure_log", ["pseudonym"])
    op.create_index("ix_disclosure_log_kind", "disclosure_log", ["kind"])
    op.create_index("ix_disclosure_log_at", "disclosure_log", ["at"])
    op.create_table(
        "disclosure_log_subjects",
        sa.Column("pseudonym", sa.String(100), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("lock", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_table(
        "legal_holds",
        sa.Column("pseudonym", sa.String(100), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("legal_holds", "checkpoints", "log_state", "disclosure_log_subjects"):
        op.drop_table(table)
    op.drop_index("ix_disclosure_log_at", table_name="disclosure_log")
    op.drop_index("ix_disclosure_log_kind", table_name="disclosure_log")
    op.drop_index("ix_disclosure_log_pseudonym", table_name="disclosure_log")
    op.drop_table("disclosure_log")
    op.create_table(
        "disclosures",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal", sa.String(200), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("pseudonym", sa.String(100), nullable=True),
        sa.Column("event_id", sa.String(100), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_disclosures_pseudonym", "disclosures", ["pseudonym"])

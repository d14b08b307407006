"""Stored Merkle subtree hashes and the last verified state of the disclosure log.

* ``log_tiles``: the hash of every complete, aligned perfect subtree of at least 2**6 leaves,
  so that inclusion and consistency proofs take O(log n) stored nodes plus at most two blocks
  of 64 leaf hashes instead of every leaf (core/ledger/tiles.py). Not backfilled here: a log
  written before this migration gets its nodes computed and stored by the first proof that
  needs them (one pass over the leaves, in blocks), so the migration stays quick.
* ``log_verified``: where incremental verification resumes (core/ledger/verify.py).
* an index on ``disclosure_log_subjects.seq``: verification streams the log in chunks of
  sequence numbers and reads the subject index for each chunk.

Revision ID: 0008
Revises: 0007_aggregates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007_aggregates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_tiles",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_verified",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
        sa.Column("erased", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_disclosure_log_subjects_seq", "disclosure_log_subjects", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_disclosure_log_subjects_seq", table_name="disclosure_log_subjects")
    op.drop_table("log_verified")
    op.drop_table("log_tiles")

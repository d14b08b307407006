"""The store's tables (SQLAlchemy Core). The schema is owned by Alembic (``migrations/``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


ACCEPTING = "accepting"  # claimed by the API, not yet acknowledged by the broker


principals = sa.Table(
    "principals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("queues", sa.Text, nullable=False, default="[]"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Set: the token and the web login are refused (``ssp-hub users disable``).
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
)


events = sa.Table(
    "events", metadata,
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("agency", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("queues", sa.Text, nullable=False, default="[]"),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("rule_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("policy_version", sa.String(80), nullable=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    # What the policy decided the event on (migration 0011): the facts of
    # core/policy/evaluator.py as JSON (enumerated codes and the age in whole years; never an
    # identifier or free text), for ``ssp-hub policy diff``. NULL for events decided before
    # the migration, and after retention (core/ledger/retention.py) has pruned it.
    sa.Column("decision_inputs", sa.Text, nullable=True),
    sa.Index("ix_events_status", "status"),
)


concerns = sa.Table(
    "concerns", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("pseudonym", sa.String(100), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("event_id", "queue", name="uq_concerns_event_queue"),
    sa.Index("ix_concerns_queue_seq", "queue", "seq"),
    sa.Index("ix_concerns_pseudonym", "pseudonym"),
)


# The worker's durable de-duplication ledger: an event id here has had its outputs
# acknowledged by the broker. A redelivered or re-sent event is skipped.
processed = sa.Table(
    "processed", metadata,
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


# The vault: one row per pseudonym. ``ciphertext`` is the identity under the entry's own data
# key (DEK); ``wrapped_dek`` is that DEK under the key ring's AES key ``key_version``. Erasing
# one person sets ``wrapped_dek`` to NULL: the ciphertext can never be opened again.
vault = sa.Table(
    "vault", metadata,
    sa.Column("pseudonym", sa.String(100), primary_key=True),
    sa.Column("key_version", sa.Integer, nullable=False),
    sa.Column("wrapped_dek", sa.LargeBinary, nullable=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
)


# Links between pseudonyms of the same person under different key versions, stored both ways.
pseudonym_aliases = sa.Table(
    "pseudonym_aliases", metadata,
    sa.Column("pseudonym", sa.String(100), primary_key=True),
    sa.Column("alias", sa.String(100), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


# The disclosure log (core/ledger/auditlog.py, format in schemas/disclosures.py). ``entry`` holds
# the
# leaf bytes exactly as hashed; the other columns are copies for filtering. No plaintext
# identity: pseudonyms, field names, rule ids, recipients.
disclosure_log = sa.Table(
    "disclosure_log", metadata,
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
    # A version 2 entry's body (its leaf commits to the body's SHA-256); NULL once erased.
    sa.Column("body", sa.LargeBinary, nullable=True),
    sa.Index("ix_disclosure_log_pseudonym", "pseudonym"),
    sa.Index("ix_disclosure_log_kind", "kind"),
    sa.Index("ix_disclosure_log_at", "at"),
)


# Every pseudonym an entry is about (subject and disclosed related persons), for subject
# access and the ``pseudonym`` filter.
disclosure_log_subjects = sa.Table(
    "disclosure_log_subjects", metadata,
    sa.Column("pseudonym", sa.String(100), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    # Verification reads the index by seq range, a chunk at a time (migration 0008).
    sa.Index("ix_disclosure_log_subjects_seq", "seq"),
)


# The sequencer's state: one row. ``frontier`` is the compact range of the Merkle tree (hex,
# comma-separated). ``lock`` is bumped first in every integration transaction, which takes
# the row's write lock on PostgreSQL and SQLite alike, so two sequencers never interleave.
log_state = sa.Table(
    "log_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.Text, nullable=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("lock", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# Stored Merkle subtree hashes ("tiles", core/ledger/tiles.py): the hash of every complete,
# aligned perfect subtree of 2**level leaves, level >= TILE_HEIGHT (6), covering leaves
# [index * 2**level, (index + 1) * 2**level). The sequencer writes them in the transaction that
# integrates the leaves; a node missing (a log written before migration 0008) is computed once
# from its children and stored by the first proof that needs it.
log_tiles = sa.Table(
    "log_tiles", metadata,
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)


# The last verified state of the log (one row): a signed checkpoint's size and root and the
# tree's frontier at that size, plus the entries found erased, tagged with a MAC keyed from
# the checkpoint signing key (core/ledger/verify.py). Incremental verification starts here.
log_verified = sa.Table(
    "log_verified", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("frontier", sa.Text, nullable=False),
    sa.Column("erased", sa.BigInteger, nullable=False),
    sa.Column("key_id", sa.String(40), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
    sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
)


# Signed checkpoints (tree size, root, time), in the order issued.
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("origin", sa.String(200), nullable=False),
    sa.Column("key_id", sa.String(40), nullable=False),
    sa.Column("signature", sa.String(200), nullable=False),
)


# Legal holds suspend retention for one person (all their pseudonyms).
legal_holds = sa.Table(
    "legal_holds", metadata,
    sa.Column("pseudonym", sa.String(100), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


# The security officer's subject-access decision per log entry (latest wins): ``withhold`` it
# from the citizen's copy, or ``release`` its full content to a related person. Each decision
# is also an entry of its own in the disclosure log.
access_decisions = sa.Table(
    "access_decisions", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("entry_id", sa.String(64), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)


web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("principal_id", sa.Integer, nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


# A consultant's case status per routed concern (event, queue); absent means "ny".
concern_status = sa.Table(
    "concern_status", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("queue", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


concern_status_history = sa.Table(
    "concern_status_history", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_concern_status_history_concern", "event_id", "queue"),
)


# Refusals on record (issue 13 item 5): every 401/403/404/409/413/429 the API answered —
# who (principal name, or "anonymous" with a keyed hash of the presented token's prefix,
# never the token), what (method + route template, never the raw path), when, the reason
# code and the status. Never a value.
refusals = sa.Table(
    "refusals", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(32), nullable=True),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Index("ix_refusals_at", "at"),
    sa.Index("ix_refusals_principal_at", "principal", "at"),
    sa.Index("ix_refusals_reason_at", "reason", "at"),
)


# Maintained aggregates (issue 15 §4, core/store/aggregates.py): the counts that governance,
# ``/metrics`` and the queue list read, kept up to date in the same transaction as the writes
# they count, so no reader scans ``concerns`` or ``events``. One row per (kind, period, key):
# ``period`` is a local month (YYYY-MM, Europe/Copenhagen) or "" where the kind has none.
aggregates = sa.Table(
    "aggregates", metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)


# Per routed event, what the aggregates have counted once: when its first concern landed
# (``first_routed_at``; then its category and area are counted) and whether its outcome says
# routed (with the API's ``accepted_at``). Whichever of the two comes second counts the
# ingest→routed latency. Both are upserts on this row, so concurrent writers serialise on it.
aggregate_events = sa.Table(
    "aggregate_events", metadata,
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("first_routed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("routed", sa.Boolean, nullable=False),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
)


# Decided events per policy version and outcome, with the first and last decision (the
# security officer's policy page), maintained with ``aggregates``. ``policy_version`` "" where
# the outcome named none.
policy_decisions = sa.Table(
    "policy_decisions", metadata,
    sa.Column("policy_version", sa.String(80), primary_key=True),
    sa.Column("status", sa.String(20), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
)


# Four-eyes re-identification (policy `reidentification`, hub/four_eyes.py): a consultant's
# request, which a second consultant of the queue approves or refuses with a reason; the
# requester sees the identity only once it is approved, until ``expires_at``. ``reason`` and
# ``decision_reason`` are scrubbed as the disclosure log holds them; ``queues`` (JSON) are the
# four-eyes queues where the requester saw a concern about the person.
reidentification_requests = sa.Table(
    "reidentification_requests", metadata,
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
    sa.Index("ix_reidentification_requests_pseudonym", "pseudonym"),
    sa.Index("ix_reidentification_requests_status", "status", "expires_at"),
)

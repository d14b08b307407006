"""The queryable store: principals, event outcomes, routed concerns, the worker's ledger,
the re-identification vault (ciphertext only, see :mod:`core.privacy.vault`), pseudonym aliases
across
key rotations, the disclosure log (rows only; its logic is :mod:`core.ledger.auditlog`), legal
holds,
and for the web UI (:mod:`hub.web`) login sessions (token hashes only) and each concern's case
status with its history.

SQLAlchemy Core against SQLite (embedded default, WAL so that the CLI can add users while the
hub runs) or PostgreSQL (``SSP_HUB_DATABASE_URL``). The schema is owned by Alembic
(``hub/migrations``); :func:`migrate` brings a database to head.

Every write here is idempotent: the projector and the worker may see a message twice.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

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


def hash_token(token: str) -> str:
    """Tokens are ≥256-bit random, so one SHA-256 is enough (no stretching needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _private_file(Path(path))
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), or make it so: it holds
    pseudonyms, concerns and the vault's ciphertext. SQLite gives its WAL and shared-memory
    files the database file's mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(side.stat().st_mode) & 0o077:
                side.chmod(0o600)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class VaultRow:
    """One sealed vault entry as stored. Holds ciphertext only."""

    pseudonym: str
    key_version: int
    wrapped_dek: bytes | None
    ciphertext: bytes


@dataclass(frozen=True)
class ConcernRow:
    """A concern as retention sees it: where it is, whom it is about, when it was routed.
    ``payload`` only where it names related persons (else None)."""

    seq: int
    event_id: str
    queue: str
    pseudonym: str
    routed_at: dt.datetime
    payload: str | None


@dataclass(frozen=True)
class Retirement:
    """What retention does to one person (see :meth:`Store.retire`)."""

    pseudonyms: frozenset[str]  # all of the person's pseudonyms (their alias group)
    expired: Mapping[str, Sequence[int]]  # queue -> seqs of the concerns to delete
    erase: bool  # destroy the identity too


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s:{seq}".encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, value = text.partition(":")
        if kind != "s":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("cursor is not one this API issued") from exc


def encode_time_cursor(occurred_at: dt.datetime, seq: int) -> str:
    text = f"t:{_utc(occurred_at).isoformat()}|{seq}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_time_cursor(cursor: str) -> tuple[dt.datetime, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, value = text.partition(":")
        stamp, _, seq = value.partition("|")
        if kind != "t":
            raise ValueError
        return _utc(dt.datetime.fromisoformat(stamp)), int(seq)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("cursor is not one this API issued") from exc


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC. SQLite stores datetimes without their offset, so every stored time must be
    UTC already, or ordering by time goes wrong across offsets."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Store:
        engine = make_engine(url)
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- principals ---------------------------------------------------------------------
    def add_principal(self, name: str, role: str, queues: Sequence[str], token: str,
                      password_hash: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(principals.insert().values(
                name=name, role=role, queues=json.dumps(list(queues)),
                token_hash=hash_token(token), password_hash=password_hash, created_at=_now(),
            ))

    def replace_token(self, name: str, token: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(principals.update().where(principals.c.name == name)
                                  .values(token_hash=hash_token(token)))
            return bool(result.rowcount)

    def principal_by_token(self, token: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(principals.c.id, principals.c.name, principals.c.role,
                          principals.c.queues)
                .where(principals.c.token_hash == hash_token(token))
            ).first()
        if row is None:
            return None
        return Principal(row.id, row.name, row.role, tuple(json.loads(row.queues)))

    def login_record(self, name: str) -> tuple[Principal, str | None] | None:
        """A principal by name with its argon2 password hash (None: no web login)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(principals.c.id, principals.c.name, principals.c.role,
                          principals.c.queues, principals.c.password_hash)
                .where(principals.c.name == name)).first()
        if row is None:
            return None
        return (Principal(row.id, row.name, row.role, tuple(json.loads(row.queues))),
                row.password_hash)

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(principals.update().where(principals.c.name == name)
                                     .values(password_hash=password_hash)).rowcount)

    # -- web sessions (the token itself is only in the browser's cookie) -----------------
    def create_session(self, token: str, principal_id: int, csrf: str,
                       now: dt.datetime, expires_at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < _utc(now)))
            conn.execute(web_sessions.insert().values(
                token_hash=hash_token(token), principal_id=principal_id, csrf=csrf,
                created_at=_utc(now), last_seen_at=_utc(now), expires_at=_utc(expires_at)))

    def session(self, token: str, now: dt.datetime, idle: dt.timedelta
                ) -> tuple[Principal, str] | None:
        """(principal, CSRF token) of a live session, touching it; None if unknown, past its
        absolute expiry or idle longer than ``idle``."""
        th = hash_token(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(web_sessions.c.csrf, web_sessions.c.last_seen_at,
                          web_sessions.c.expires_at, principals.c.id, principals.c.name,
                          principals.c.role, principals.c.queues)
                .join(principals, principals.c.id == web_sessions.c.principal_id)
                .where(web_sessions.c.token_hash == th)).first()
            if row is None:
                return None
            if _utc(row.expires_at) <= now or _utc(row.last_seen_at) + idle <= now:
                conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == th))
                return None
            conn.execute(web_sessions.update().where(web_sessions.c.token_hash == th)
                         .values(last_seen_at=_utc(now)))
        return Principal(row.id, row.name, row.role, tuple(json.loads(row.queues))), row.csrf

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(
                web_sessions.c.token_hash == hash_token(token)))

    # -- ingest -------------------------------------------------------------------------
    # Ingest is two-phase: a claim is ``accepting`` until the broker acknowledged the event,
    # then ``pending`` until the worker's outcome arrives. Readers see both as pending.
    def claim_event(self, event_id: str, agency: str, accepted_at: dt.datetime) -> bool:
        """Claim an event id before producing it. False if the id was seen before."""
        try:
            with self.engine.begin() as conn:
                conn.execute(events.insert().values(
                    event_id=event_id, agency=agency, status=ACCEPTING, queues="[]",
                    rule_ids="[]", accepted_at=accepted_at,
                ))
        except sa.exc.IntegrityError:
            return False
        return True

    def take_over_stale_claim(self, event_id: str, agency: str, now: dt.datetime,
                              older_than: dt.timedelta) -> bool:
        """True if an earlier claim by the same agency never got its acknowledgement (the API
        died in between) and this caller may produce the event again. The worker's ledger
        absorbs the copy if the first one did reach the broker after all."""
        with self.engine.begin() as conn:
            result = conn.execute(events.update().where(
                (events.c.event_id == event_id) & (events.c.agency == agency)
                & (events.c.status == ACCEPTING) & (events.c.accepted_at < now - older_than)
            ).values(accepted_at=now))
            return bool(result.rowcount)

    def mark_accepted(self, event_id: str) -> None:
        """The broker acknowledged the event: ``accepting`` → ``pending``."""
        with self.engine.begin() as conn:
            conn.execute(events.update().where(
                (events.c.event_id == event_id) & (events.c.status == ACCEPTING)
            ).values(status="pending"))

    def release_event(self, event_id: str) -> None:
        """Undo :meth:`claim_event` when the broker never acknowledged the event."""
        with self.engine.begin() as conn:
            conn.execute(events.delete().where(
                (events.c.event_id == event_id) & (events.c.status == ACCEPTING)))

    def event(self, event_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(events).where(events.c.event_id == event_id)).first()
        if row is None:
            return None
        return {
            "event_id": row.event_id, "agency": row.agency,
            "status": "pending" if row.status == ACCEPTING else row.status,
            "queues": json.loads(row.queues), "reason": row.reason,
            "rule_ids": json.loads(row.rule_ids), "policy_version": row.policy_version,
            "accepted_at": _aware(row.accepted_at), "decided_at": _aware(row.decided_at),
        }

    # -- worker ledger ------------------------------------------------------------------
    def already_processed(self, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(processed.c.event_id).where(processed.c.event_id.in_(ids))
            )
            return {r.event_id for r in rows}

    def mark_processed(self, outcomes: Sequence[tuple[str, str]]) -> None:
        if not outcomes:
            return
        now = _now()
        rows = [{"event_id": e, "status": s, "processed_at": now} for e, s in outcomes]
        with self.engine.begin() as conn:
            _insert_ignore(conn, processed, rows, ["event_id"])

    # -- projections --------------------------------------------------------------------
    def project_outcomes(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Upsert outcomes. A decided outcome never goes back to pending."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            _insert_ignore(conn, events, [
                {"event_id": o["event_id"], "agency": o["agency"], "status": "pending",
                 "queues": "[]", "rule_ids": "[]", "accepted_at": o["ingested_at"]}
                for o in outcomes
            ], ["event_id"])
            conn.execute(
                events.update().where(events.c.event_id == sa.bindparam("b_event_id")),
                [{"b_event_id": o["event_id"], "status": o["status"],
                  "queues": json.dumps(o["queues"]), "reason": o["reason"],
                  "rule_ids": json.dumps(o["rule_ids"]), "policy_version": o["policy_version"],
                  "decided_at": o["decided_at"]} for o in outcomes],
            )

    def project_concerns(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        now = _now()
        with self.engine.begin() as conn:
            _insert_ignore(conn, concerns, [
                {"event_id": r["event_id"], "queue": r["queue"], "pseudonym": r["pseudonym"],
                 "payload": r["payload"], "occurred_at": _utc(r["occurred_at"]),
                 "routed_at": now}
                for r in rows
            ], ["event_id", "queue"])

    def queue_counts(self, queues: Sequence[str] | None) -> dict[str, int]:
        stmt = sa.select(concerns.c.queue, sa.func.count()).group_by(concerns.c.queue)
        if queues is not None:
            stmt = stmt.where(concerns.c.queue.in_(list(queues)))
        with self.engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(stmt)}

    def concerns_page(self, *, queues: Sequence[str], pseudonym: str | None, limit: int,
                      cursor: str | None) -> Page:
        stmt = sa.select(concerns.c.seq, concerns.c.payload).where(
            concerns.c.queue.in_(list(queues)))
        if pseudonym is not None:
            stmt = stmt.where(concerns.c.pseudonym == pseudonym)
        if cursor is not None:
            stmt = stmt.where(concerns.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(concerns.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[json.loads(r.payload) for r in rows],
            next_cursor=encode_cursor(rows[-1].seq) if more and rows else None,
        )

    def subject_visible(self, *, queues: Sequence[str], pseudonyms: Iterable[str]) -> bool:
        """True if any concern about one of ``pseudonyms`` lies in one of ``queues``."""
        names, qs = list(pseudonyms), list(queues)
        if not names or not qs:
            return False
        stmt = sa.select(concerns.c.seq).where(
            concerns.c.pseudonym.in_(names) & concerns.c.queue.in_(qs)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

    def subject_concerns_page(self, *, queues: Sequence[str], pseudonyms: Iterable[str],
                              limit: int, cursor: str | None) -> Page:
        """The joint view: concerns about any of ``pseudonyms`` in ``queues``, oldest first
        (``occurred_at``, then arrival). Raises ValueError on a foreign cursor."""
        stmt = sa.select(concerns.c.seq, concerns.c.occurred_at, concerns.c.payload).where(
            concerns.c.queue.in_(list(queues)) & concerns.c.pseudonym.in_(list(pseudonyms)))
        if cursor is not None:
            after, seq = decode_time_cursor(cursor)
            stmt = stmt.where((concerns.c.occurred_at > after)
                              | ((concerns.c.occurred_at == after) & (concerns.c.seq > seq)))
        stmt = stmt.order_by(concerns.c.occurred_at.asc(), concerns.c.seq.asc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        return Page(
            items=[json.loads(r.payload) for r in rows],
            next_cursor=None if last is None else encode_time_cursor(last.occurred_at, last.seq),
        )

    def concern(self, event_id: str, queue: str) -> dict[str, Any] | None:
        """One routed concern as its queue received it."""
        with self.engine.connect() as conn:
            payload = conn.execute(sa.select(concerns.c.payload).where(
                (concerns.c.event_id == event_id) & (concerns.c.queue == queue))).scalar()
        return None if payload is None else dict(json.loads(payload))

    def inbox_page(self, *, queues: Sequence[str], status: str | None, limit: int,
                   cursor: str | None) -> Page:
        """Concerns in ``queues``, newest first, each with ``_status`` (its case status; "ny"
        when none was set); ``status`` keeps only those with that status."""
        current = sa.func.coalesce(concern_status.c.status, "ny")
        stmt = (sa.select(concerns.c.seq, concerns.c.payload, current.label("status"))
                .select_from(concerns.outerjoin(concern_status, sa.and_(
                    concern_status.c.event_id == concerns.c.event_id,
                    concern_status.c.queue == concerns.c.queue)))
                .where(concerns.c.queue.in_(list(queues))))
        if status is not None:
            stmt = stmt.where(current == status)
        if cursor is not None:
            stmt = stmt.where(concerns.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(concerns.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=[{**json.loads(r.payload), "_status": r.status} for r in rows],
                    next_cursor=encode_cursor(rows[-1].seq) if more and rows else None)

    def statuses(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The case status of each (event id, queue) that has one (no row: "ny")."""
        wanted = set(keys)
        if not wanted:
            return {}
        ids = sorted({e for e, _ in wanted})
        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(sa.select(concern_status).where(
                    concern_status.c.event_id.in_(ids[i:i + 500])))
                for r in rows:
                    if (r.event_id, r.queue) in wanted:
                        out[(r.event_id, r.queue)] = {
                            "status": r.status, "note": r.note, "principal": r.principal,
                            "updated_at": _utc(r.updated_at)}
        return out

    def set_status(self, event_id: str, queue: str, status: str, note: str | None,
                   principal: str, at: dt.datetime) -> None:
        """Set a concern's case status, keeping the change in its history."""
        values = {"status": status, "note": note, "principal": principal}
        with self.engine.begin() as conn:
            done = conn.execute(concern_status.update().where(
                (concern_status.c.event_id == event_id) & (concern_status.c.queue == queue))
                .values(**values, updated_at=_utc(at))).rowcount
            if not done:
                conn.execute(concern_status.insert().values(
                    event_id=event_id, queue=queue, **values, updated_at=_utc(at)))
            conn.execute(concern_status_history.insert().values(
                event_id=event_id, queue=queue, **values, at=_utc(at)))

    def status_history(self, event_id: str, queue: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(concern_status_history).where(
                (concern_status_history.c.event_id == event_id)
                & (concern_status_history.c.queue == queue))
                .order_by(concern_status_history.c.seq))
            return [{"status": r.status, "note": r.note, "principal": r.principal,
                     "at": _utc(r.at)} for r in rows]

    def governance_rows(self) -> list[tuple[str, str, str, str, dt.datetime]]:
        """(event id, queue, category, area, occurred_at) of every routed concern: the
        governance report counts these, never shows them."""
        out = []
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(concerns.c.event_id, concerns.c.queue,
                                            concerns.c.payload, concerns.c.occurred_at)):
                doc = json.loads(r.payload)
                out.append((r.event_id, r.queue, str(doc.get("category", "")),
                            str(doc.get("area", "")), _utc(r.occurred_at)))
        return out

    def policy_decisions(self) -> list[dict[str, Any]]:
        """Decided events per policy version and outcome, with the first and last decision."""
        stmt = (sa.select(events.c.policy_version, events.c.status, sa.func.count(),
                          sa.func.min(events.c.decided_at), sa.func.max(events.c.decided_at))
                .where(events.c.decided_at.is_not(None))
                .group_by(events.c.policy_version, events.c.status)
                .order_by(events.c.policy_version, events.c.status))
        with self.engine.connect() as conn:
            return [{"policy_version": r[0] or "", "status": r[1], "count": int(r[2]),
                     "first": _aware(r[3]), "last": _aware(r[4])} for r in conn.execute(stmt)]

    def log_rejections(self) -> list[tuple[str, str]]:
        """(agency, reason code) of every rejection in the disclosure log."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(disclosure_log.c.agency, disclosure_log.c.entry,
                                          disclosure_log.c.body)
                                .where(disclosure_log.c.kind == "rejection"))
            # Format 2 keeps the members in the body (gone once erased), format 1 in the leaf.
            return [(r.agency or "", str(json.loads(bytes(
                r.body if r.body is not None else r.entry)).get("reason_code") or ""))
                for r in rows]

    # -- vault and aliases --------------------------------------------------------------
    def vault_present(self, pseudonyms: Iterable[str]) -> set[str]:
        """Which of ``pseudonyms`` have a vault entry (erased ones included)."""
        names = list(set(pseudonyms))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(names), 500):
                rows = conn.execute(sa.select(vault.c.pseudonym)
                                    .where(vault.c.pseudonym.in_(names[i:i + 500])))
                found.update(r.pseudonym for r in rows)
        return found

    def put_vault_entries(self, rows: Sequence[VaultRow],
                          aliases: Sequence[tuple[str, str]] = ()) -> None:
        """Insert sealed entries and alias links (each pair stored both ways) in one
        transaction. An existing pseudonym or link is left alone."""
        if not rows and not aliases:
            return
        now = _now()
        links = {(a, b) for a, b in aliases if a != b} | {(b, a) for a, b in aliases if a != b}
        with self.engine.begin() as conn:
            _insert_ignore(conn, vault, [
                {"pseudonym": r.pseudonym, "key_version": r.key_version,
                 "wrapped_dek": r.wrapped_dek, "ciphertext": r.ciphertext, "created_at": now}
                for r in rows
            ], ["pseudonym"])
            _insert_ignore(conn, pseudonym_aliases, [
                {"pseudonym": a, "alias": b, "created_at": now} for a, b in sorted(links)
            ], ["pseudonym", "alias"])

    def vault_entry(self, pseudonym: str) -> VaultRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(vault).where(vault.c.pseudonym == pseudonym)).first()
        return None if row is None else _vault_row(row)

    def vault_entries(self, *, after: str | None = None, limit: int = 500) -> list[VaultRow]:
        """Entries in pseudonym order, for walking the whole vault in pages."""
        stmt = sa.select(vault).order_by(vault.c.pseudonym).limit(limit)
        if after is not None:
            stmt = stmt.where(vault.c.pseudonym > after)
        with self.engine.connect() as conn:
            return [_vault_row(r) for r in conn.execute(stmt)]

    def erase_vault_entry(self, pseudonym: str) -> bool:
        """Destroy the entry's wrapped data key. True if there was one to destroy."""
        with self.engine.begin() as conn:
            result = conn.execute(
                vault.update()
                .where((vault.c.pseudonym == pseudonym) & vault.c.wrapped_dek.is_not(None))
                .values(wrapped_dek=None, erased_at=_now()))
            return bool(result.rowcount)

    def aliases(self, pseudonym: str, *, max_hops: int = 8) -> set[str]:
        """Every pseudonym linked to ``pseudonym`` (transitively), itself included."""
        found = {pseudonym}
        frontier = {pseudonym}
        with self.engine.connect() as conn:
            for _ in range(max_hops):
                rows = conn.execute(sa.select(pseudonym_aliases.c.alias)
                                    .where(pseudonym_aliases.c.pseudonym.in_(list(frontier))))
                frontier = {r.alias for r in rows} - found
                if not frontier:
                    break
                found |= frontier
        return found

    def outcome_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(events.c.status, sa.func.count())
                                .group_by(events.c.status))
            counts: dict[str, int] = {}
            for status, n in rows:
                key = "pending" if status == ACCEPTING else status
                counts[key] = counts.get(key, 0) + int(n)
            return counts

    def routed_latency_histogram(self, bounds: Sequence[float]
                                 ) -> tuple[list[int], int, float]:
        """Ingest → routed: from the API's acknowledgement (``accepted_at``) until the event's
        first concern is readable in the store (``routed_at``). Cumulative counts per bound,
        the total and the sum of seconds — counted in SQL, not by loading rows."""
        first = (sa.select(concerns.c.event_id,
                           sa.func.min(concerns.c.routed_at).label("routed_at"))
                 .group_by(concerns.c.event_id).subquery())
        if self.engine.dialect.name == "sqlite":
            seconds = (sa.func.julianday(first.c.routed_at)
                       - sa.func.julianday(events.c.accepted_at)) * 86400.0
        else:
            seconds = sa.func.extract("epoch", first.c.routed_at - events.c.accepted_at)
        cols = [sa.func.coalesce(sa.func.sum(sa.case((seconds <= b, 1), else_=0)), 0)
                for b in bounds]
        stmt = (sa.select(*cols, sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0.0))
                .select_from(events.join(first, first.c.event_id == events.c.event_id))
                .where((events.c.status == "routed") & events.c.accepted_at.is_not(None)))
        with self.engine.connect() as conn:
            row = conn.execute(stmt).one()
        return [int(v) for v in row[:-2]], int(row[-2]), max(0.0, float(row[-1]))


    # -- subject-access decisions (hub/subject_access.py) --------------------------------
    def set_access_decision(self, seq: int, decision: str, reason: str, principal: str,
                            entry_id: str, at: dt.datetime) -> None:
        """Record the officer's decision on log entry ``seq`` (replaces an earlier one)."""
        row = {"decision": decision, "reason": reason, "principal": principal,
               "entry_id": entry_id, "decided_at": _utc(at)}
        with self.engine.begin() as conn:
            if not conn.execute(access_decisions.update()
                                .where(access_decisions.c.seq == seq).values(**row)).rowcount:
                conn.execute(access_decisions.insert().values(seq=seq, **row))

    def clear_access_decision(self, seq: int) -> None:
        """Back to the default view of log entry ``seq``."""
        with self.engine.begin() as conn:
            conn.execute(access_decisions.delete().where(access_decisions.c.seq == seq))

    def log_entry_has_subjects(self, seq: int) -> bool:
        """Whether disclosure-log entry ``seq`` exists and is about at least one person."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(disclosure_log_subjects.c.seq)
                                .where(disclosure_log_subjects.c.seq == seq).limit(1)
                                ).first() is not None

    def access_decisions(self, seqs: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        """The decisions on the given log entries (all, if None), by sequence number."""
        stmt = sa.select(access_decisions)
        wanted = None if seqs is None else sorted(set(seqs))
        out: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            chunks = [None] if wanted is None else \
                [wanted[i:i + 500] for i in range(0, len(wanted), 500)]
            for chunk in chunks:
                query = stmt if chunk is None else stmt.where(access_decisions.c.seq.in_(chunk))
                for r in conn.execute(query):
                    out[int(r.seq)] = {"seq": int(r.seq), "decision": r.decision,
                                       "reason": r.reason, "principal": r.principal,
                                       "entry_id": r.entry_id,
                                       "decided_at": _aware(r.decided_at)}
        return out

    # -- retention and legal holds ------------------------------------------------------
    # Used by core/ledger/retention.py. Reads walk whole tables in pages; the writes re-check their
    # preconditions inside the statement, so a hold placed or a concern projected since the
    # retention run read the store is respected.
    def place_legal_hold(self, pseudonym: str, reason: str, principal: str,
                         at: dt.datetime) -> bool:
        """Hold one pseudonym (retention treats the whole alias group as held). False if that
        pseudonym is held already (the first hold's reason stays)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(legal_holds.insert().values(
                    pseudonym=pseudonym, reason=reason, principal=principal,
                    created_at=_utc(at)))
        except sa.exc.IntegrityError:
            return False
        return True

    def release_legal_holds(self, pseudonyms: Iterable[str]) -> int:
        """Remove the holds on any of ``pseudonyms``; returns how many there were."""
        names = list(set(pseudonyms))
        if not names:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(
                legal_holds.delete().where(legal_holds.c.pseudonym.in_(names))).rowcount)

    def legal_holds(self) -> list[dict[str, Any]]:
        """Every hold, oldest first: pseudonym, reason, principal, created_at."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(legal_holds)
                                .order_by(legal_holds.c.created_at, legal_holds.c.pseudonym))
            return [{"pseudonym": r.pseudonym, "reason": r.reason, "principal": r.principal,
                     "created_at": _aware(r.created_at)} for r in rows]

    def alias_links(self) -> list[tuple[str, str]]:
        """Every alias link (each stored both ways, so each pair appears twice)."""
        with self.engine.connect() as conn:
            return [(r.pseudonym, r.alias) for r in conn.execute(sa.select(pseudonym_aliases))]

    def pseudonym_known(self, pseudonym: str) -> bool:
        """True if a vault entry, an alias link or a concern (as subject) has ``pseudonym``."""
        with self.engine.connect() as conn:
            for column in (vault.c.pseudonym, pseudonym_aliases.c.pseudonym,
                           concerns.c.pseudonym):
                if conn.execute(sa.select(column).where(column == pseudonym).limit(1)).first():
                    return True
        return False

    def concern_rows(self, *, after: int = 0, limit: int = 2000) -> list[ConcernRow]:
        """Concerns in ``seq`` order after ``after``, for walking the table in pages. The
        payload is only fetched where it names related persons."""
        has_related = concerns.c.payload.like("%related_persons%")
        stmt = (sa.select(concerns.c.seq, concerns.c.event_id, concerns.c.queue,
                          concerns.c.pseudonym, concerns.c.routed_at,
                          sa.case((has_related, concerns.c.payload), else_=None)
                          .label("payload"))
                .where(concerns.c.seq > after).order_by(concerns.c.seq).limit(limit))
        with self.engine.connect() as conn:
            return [ConcernRow(int(r.seq), r.event_id, r.queue, r.pseudonym,
                               _utc(r.routed_at), r.payload) for r in conn.execute(stmt)]

    def live_vault_entries(self) -> list[tuple[str, dt.datetime]]:
        """(pseudonym, created_at) of every vault entry not yet erased."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(vault.c.pseudonym, vault.c.created_at)
                                .where(vault.c.wrapped_dek.is_not(None)))
            return [(r.pseudonym, _utc(r.created_at)) for r in rows]

    def retire(self, persons: Sequence[Retirement], *, newer_than_seq: int,
               at: dt.datetime) -> list[tuple[dict[str, int], int]]:
        """Apply retention to persons, all in one transaction, so that each person's deletion
        and erasure happen together or not at all. Per person:

        * delete the concerns ``expired`` (queue → seqs) unless a legal hold names one of the
          person's ``pseudonyms`` — checked in the same statement;
        * if ``erase``: destroy the wrapped data key of each of their live vault entries
          unless — checked in the same statement — a hold names one of the pseudonyms, a
          concern has one as its subject, or a concern newer than ``newer_than_seq``
          (projected since the caller read the table) names one anywhere in its payload.

        Returns, per person, (concerns deleted per queue, vault entries erased)."""
        done: list[tuple[dict[str, int], int]] = []
        with self.engine.begin() as conn:
            for person in persons:
                names = sorted(person.pseudonyms)
                held = sa.exists().where(legal_holds.c.pseudonym.in_(names))
                deleted: dict[str, int] = {}
                for queue, seqs in person.expired.items():
                    ids = list(seqs)
                    n = 0
                    for i in range(0, len(ids), 500):
                        n += int(conn.execute(concerns.delete().where(
                            concerns.c.seq.in_(ids[i:i + 500]) & ~held)).rowcount)
                    deleted[queue] = n
                erased = 0
                if person.erase:
                    named = sa.or_(*[concerns.c.payload.contains(f'"{p}"', autoescape=True)
                                     for p in names])
                    erased = int(conn.execute(vault.update().where(
                        vault.c.pseudonym.in_(names) & vault.c.wrapped_dek.is_not(None)
                        & ~held
                        & ~sa.exists().where(concerns.c.pseudonym.in_(names))
                        & ~sa.exists().where((concerns.c.seq > newer_than_seq) & named)
                    ).values(wrapped_dek=None, erased_at=_utc(at))).rowcount)
                done.append((deleted, erased))
            # A case status and its notes go with the concern they were about.
            for table in (concern_status, concern_status_history):
                conn.execute(table.delete().where(~sa.exists().where(
                    (concerns.c.event_id == table.c.event_id)
                    & (concerns.c.queue == table.c.queue))))
        return done
    # -- refusals (issue 13 item 5) ------------------------------------------------------
    def record_refusals(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append refusals: dicts with at, principal, token_hash, method, route, status,
        reason."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(refusals.insert(), [
                {**r, "at": _utc(r["at"])} for r in rows])

    def delete_refusals_before(self, before: dt.datetime) -> int:
        """Delete refusals recorded before ``before``; the number deleted."""
        with self.engine.begin() as conn:
            return int(conn.execute(
                refusals.delete().where(refusals.c.at < _utc(before))).rowcount or 0)

    def refusals_page(self, *, principal: str | None = None, reason: str | None = None,
                      start: dt.datetime | None = None, end: dt.datetime | None = None,
                      limit: int = 50, cursor: str | None = None) -> Page:
        """Refusals newest first; filters combine with AND, ``end`` exclusive."""
        stmt = sa.select(refusals)
        if principal is not None:
            stmt = stmt.where(refusals.c.principal == principal)
        if reason is not None:
            stmt = stmt.where(refusals.c.reason == reason)
        if start is not None:
            stmt = stmt.where(refusals.c.at >= _utc(start))
        if end is not None:
            stmt = stmt.where(refusals.c.at < _utc(end))
        if cursor is not None:
            stmt = stmt.where(refusals.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(refusals.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[{"seq": r.seq, "at": _aware(r.at), "principal": r.principal,
                    "token_hash": r.token_hash, "method": r.method, "route": r.route,
                    "status": r.status, "reason": r.reason} for r in rows],
            next_cursor=encode_cursor(rows[-1].seq) if more and rows else None,
        )

    def refusal_times(self, since: dt.datetime, *, max_rows: int = 100_000
                      ) -> list[tuple[str, str | None, str, dt.datetime]]:
        """(principal, token_hash, reason, at) of refusals since ``since``, newest first,
        at most ``max_rows`` (the summary's input)."""
        stmt = sa.select(refusals.c.principal, refusals.c.token_hash, refusals.c.reason,
                         refusals.c.at).where(refusals.c.at >= _utc(since)) \
            .order_by(refusals.c.seq.desc()).limit(max_rows)
        with self.engine.connect() as conn:
            return [(r.principal, r.token_hash, r.reason, _utc(r.at))
                    for r in conn.execute(stmt)]


def _vault_row(row: Any) -> VaultRow:
    return VaultRow(row.pseudonym, int(row.key_version),
                    None if row.wrapped_dek is None else bytes(row.wrapped_dek),
                    bytes(row.ciphertext))


def _insert_ignore(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]],
                   keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        conn.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        conn.execute(pg_insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    else:  # pragma: no cover - only the two supported dialects are configured
        raise NotImplementedError(dialect)

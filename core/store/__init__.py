"""The queryable store: principals, event outcomes, routed concerns, the worker's ledger, the
re-identification vault (ciphertext only, see :mod:`core.privacy.vault`), pseudonym aliases
across key rotations, the disclosure log (rows only; its logic is :mod:`core.ledger.auditlog`),
legal holds, and for the web UI (:mod:`hub.web`) login sessions (token hashes only) and each
concern's case status with its history.

SQLAlchemy Core against SQLite (embedded default, WAL so that the CLI can add users while the
hub runs) or PostgreSQL (``SSP_HUB_DATABASE_URL``). The schema is owned by Alembic
(``core/store/migrations``); :func:`migrate` brings a database to head.

One repository per concern in ``repositories/`` (principals, events, concerns, vault, ledger,
retention, refusals), the tables in ``tables``, the rows they hand out in ``rows``; :class:`Store`
is the one object over one engine that has them all.

Every write here is idempotent: the projector and the worker may see a message twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.engine import make_engine, migrate
from core.store.repositories.concerns import ConcernRepository
from core.store.repositories.decisions import DecisionRepository
from core.store.repositories.events import EventRepository
from core.store.repositories.four_eyes import FourEyesRepository
from core.store.repositories.inbox import InboxRepository
from core.store.repositories.ledger import LedgerRepository
from core.store.repositories.principals import PrincipalRepository, hash_token
from core.store.repositories.refusals import RefusalRepository
from core.store.repositories.retention import RetentionRepository
from core.store.repositories.vault import VaultRepository
from core.store.rows import (
    Account,
    ConcernRow,
    Page,
    Principal,
    Retirement,
    VaultRow,
    aware,
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    encode_time_cursor,
    insert_ignore,
)
from core.store.tables import (
    ACCEPTING,
    checkpoints,
    concerns,
    disclosure_log,
    disclosure_log_subjects,
    events,
    log_state,
    log_tiles,
    log_verified,
    metadata,
    vault,
)

__all__ = [
    "ACCEPTING", "Account", "ConcernRow", "Page", "Principal", "Retirement", "Store", "VaultRow",
    "aware", "checkpoints", "concerns", "decode_cursor", "decode_time_cursor", "disclosure_log",
    "disclosure_log_subjects", "encode_cursor", "encode_time_cursor", "events", "hash_token",
    "insert_ignore", "log_state", "log_tiles", "log_verified", "make_engine", "metadata",
    "migrate", "vault",
]


class Store(PrincipalRepository, EventRepository, ConcernRepository, VaultRepository,
            LedgerRepository, RetentionRepository, RefusalRepository, InboxRepository,
            FourEyesRepository, DecisionRepository):
    """The facade: one object over one engine, with every repository's methods."""

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

"""The disclosure log: sequencing, signed checkpoints, proofs, and verification of the store.

:class:`AuditLog` is the one sequencer: :meth:`AuditLog.integrate` gives each new entry the
next sequence number, appends its leaf hash to the RFC 6962 tree (:mod:`core.ledger.merkle`), and
stores the entry, its subjects and the new tree state in **one transaction** that first takes
the ``log_state`` row's write lock. Entries whose ``entry_id`` is already in the log are
skipped, so a redelivered topic message is integrated once. Checkpoints (tree size, root,
time) are signed with the hub's Ed25519 key every ``checkpoint_every`` entries, or by
:meth:`AuditLog.checkpoint` once ``checkpoint_interval`` seconds have passed.

:func:`verify_store` re-derives everything from the stored entry bytes and reports, per entry
or checkpoint, what is wrong: modified, missing, reordered, inserted, bad signature.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from core.ledger import merkle, tiles
from core.privacy.crypto import PSEUDONYM_PATTERN
from core.privacy.keys import KeyRing, signing_publics
from core.store import (
    Page,
    Store,
    bulk,
    checkpoints,
    decode_cursor,
    disclosure_log,
    disclosure_log_subjects,
    encode_cursor,
    log_state,
    log_tiles,
)
from core.store import aware as _aware
from core.store import insert_ignore as _insert_ignore
from core.store.engine import reading
from schemas.disclosures import (
    Checkpoint,
    Decision,
    EntryKind,
    LogEntry,
    StoredEntry,
    cpr_like_fields,
    format_time,
    read_entry,
    sequence_entry,
)

DEFAULT_ORIGIN = "ssp-hub"
_SIZE = sa.select(log_state.c.size).where(log_state.c.id == 1)  # built once: proofs run it each
_T = TypeVar("_T")


def public_keys(ring: KeyRing) -> dict[str, Ed25519PublicKey]:
    """Every checkpoint key version in the ring, by key id (``ed25519:<version>``): the
    current one and the retired ones (whose seeds are gone), so old checkpoints verify."""
    return {f"ed25519:{v}": Ed25519PublicKey.from_public_bytes(raw)
            for v, raw in sorted(signing_publics(ring).items())}


def current_key_id(ring: KeyRing) -> str:
    return f"ed25519:{ring.current['ed25519']}"


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:<hex>`` of the raw 32-byte public key: what an auditor compares out of band."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return "SHA256:" + hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)
                                      ).hexdigest()


def public_key_pem(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_b64(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as base64 of the raw 32 bytes, or PEM (SubjectPublicKeyInfo)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    raw = base64.b64decode(text, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_checkpoint(cp: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """None if ``cp`` carries a valid signature by one of ``keys``; else why not."""
    key = keys.get(cp.key_id)
    if key is None:
        return f"signed with unknown key {cp.key_id}"
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), cp.note())
    except (InvalidSignature, ValueError):
        return "bad signature"
    return None


@dataclass(frozen=True)
class TreeState:
    size: int
    root_hash: bytes
    frontier: tuple[bytes, ...]


def _frontier_text(frontier: Sequence[bytes]) -> str:
    return ",".join(h.hex() for h in frontier)


def _frontier_of(text: str) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(h) for h in text.split(",") if h)


def _checkpoint_of(row: Any) -> Checkpoint:
    return Checkpoint(origin=row.origin, tree_size=int(row.tree_size), root_hash=row.root_hash,
                      issued_at=_aware(row.issued_at), key_id=row.key_id,
                      signature=row.signature)


class FilterError(ValueError):
    """A disclosure-log filter that names no kind, decision or pseudonym the log knows."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_filters(*, kind: str | None, decision: str | None, pseudonym: str | None) -> None:
    """The log reader's filters (API and web UI alike); :class:`FilterError` names the field."""
    if kind is not None and kind not in {k.value for k in EntryKind}:
        raise FilterError("kind", f"one of {', '.join(k.value for k in EntryKind)}")
    if decision is not None and decision not in {d.value for d in Decision}:
        raise FilterError("decision", f"one of {', '.join(d.value for d in Decision)}")
    if pseudonym is not None and PSEUDONYM_PATTERN.fullmatch(pseudonym) is None:
        raise FilterError("pseudonym", "not one the hub issued")


def _bump_lock() -> Any:
    return (log_state.update().where(log_state.c.id == 1)
            .values(lock=log_state.c.lock + 1)
            .returning(log_state.c.size, log_state.c.root_hash, log_state.c.frontier))


def _set_state() -> Any:
    # (typed as the columns: SQLite stores times in SQLAlchemy's own text form)
    return log_state.update().where(log_state.c.id == 1).values({
        c: sa.bindparam(c, type_=log_state.c[c].type)
        for c in ("size", "frontier", "root_hash", "updated_at")})


def _last_checkpoint_query() -> Any:
    return sa.select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)


class AuditLog:
    """The sequencer and the log's read side over one :class:`~core.store.Store`.

    ``ring`` is needed to sign checkpoints; without it (read-only users) nothing is signed.
    """

    def __init__(self, store: Store, ring: KeyRing | None = None, *,
                 origin: str = DEFAULT_ORIGIN, checkpoint_every: int = 1000,
                 checkpoint_interval: float = 10.0) -> None:
        self.store = store
        self.engine = store.engine
        self.ring = ring
        self.origin = origin
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval = dt.timedelta(seconds=checkpoint_interval)
        # Stored subtree hashes are immutable: a small LRU of them serves the top of the tree.
        self.nodes = tiles.NodeCache()

    # -- writing ------------------------------------------------------------------------
    def _lock_state(self, conn: sa.Connection) -> TreeState:
        """Take the log's write lock (bump ``lock``) and read the tree state, in one
        statement (``bulk``'s way, so that :meth:`integrate` can pipeline it)."""
        rows = bulk.statement(conn, "auditlog.lock_state", _bump_lock, fetch=True)
        if not rows:
            _insert_ignore(conn, log_state, [{
                "id": 1, "size": 0, "frontier": "", "root_hash": merkle.EMPTY_ROOT.hex(),
                "lock": 0, "updated_at": dt.datetime.now(dt.UTC)}], ["id"])
            rows = bulk.statement(conn, "auditlog.lock_state", _bump_lock, fetch=True)
        [row] = rows
        return TreeState(int(row.size), bytes.fromhex(row.root_hash), _frontier_of(row.frontier))

    def integrate(self, entries: Iterable[LogEntry], now: dt.datetime | None = None
                  ) -> list[int]:
        """Sequence the entries not yet in the log; returns their sequence numbers."""
        batch: dict[str, LogEntry] = {}
        for entry in entries:
            batch.setdefault(entry.entry_id, entry)
        if not batch:
            return []
        now = now or dt.datetime.now(dt.UTC)
        # In psycopg's pipeline mode on PostgreSQL: four round trips for the batch (lock and
        # state; the entries already in; the writes with the last checkpoint; COMMIT) where
        # there were eleven, most of a batch's time at a steady trickle.
        with self.engine.begin() as conn, bulk.pipelined(conn):
            state = self._lock_state(conn)
            known = set()
            ids = list(batch)
            for i in range(0, len(ids), 500):
                known |= {r.entry_id for r in bulk.select_in(
                    conn, [disclosure_log.c.entry_id], disclosure_log.c.entry_id,
                    ids[i:i + 500])}
            tree = merkle.MerkleLog.from_frontier(state.size, state.frontier)
            rows: list[dict[str, Any]] = []
            subjects: list[dict[str, Any]] = []
            completed: list[tuple[int, int, bytes]] = []
            # Each entry's salt: 16 bytes of one read from the system's CSPRNG per batch (a
            # read per entry was ~2.5 % of a busy worker's samples in py-spy).
            salts = secrets.token_bytes(16 * len(batch))
            for i, (entry_id, entry) in enumerate(batch.items()):
                if entry_id in known:
                    continue
                seq = tree.size
                salt = salts[16 * i:16 * i + 16].hex()
                data, body = sequence_entry(entry, seq, now, salt)
                leaf = merkle.leaf_hash(data)
                tree.append(leaf, completed)
                rows.append({
                    "seq": seq, "entry_id": entry_id, "kind": entry.kind.value,
                    "decision": entry.decision.value, "at": entry.at, "logged_at": now,
                    "agency": entry.agency, "recipient": entry.recipient,
                    "pseudonym": entry.pseudonym, "event_id": entry.event_id,
                    "entry": data, "leaf_hash": leaf.hex(), "body": body,
                })
                subjects += [{"pseudonym": p, "seq": seq} for p in entry.subjects()]
            if not rows:
                return []
            bulk.insert(conn, disclosure_log, rows)
            bulk.insert(conn, disclosure_log_subjects, subjects)
            bulk.insert(conn, log_tiles, tiles.tile_rows(completed))
            bulk.statement(conn, "auditlog.set_state", _set_state, {
                "size": tree.size, "frontier": _frontier_text(tree.frontier),
                "root_hash": tree.root().hex(), "updated_at": now})
            last = self._last_checkpoint(conn)
            if self.ring is not None and tree.size - (last.tree_size if last else 0) \
                    >= self.checkpoint_every:
                self._sign(conn, tree.size, tree.root(), now)
        return [r["seq"] for r in rows]

    def _last_checkpoint(self, conn: sa.Connection) -> Checkpoint | None:
        rows = bulk.statement(conn, "auditlog.last_checkpoint", _last_checkpoint_query,
                              fetch=True)
        return _checkpoint_of(rows[0]) if rows else None

    def _sign(self, conn: sa.Connection, size: int, root_hash: bytes, now: dt.datetime
              ) -> Checkpoint:
        assert self.ring is not None
        version = self.ring.current["ed25519"]
        key = Ed25519PrivateKey.from_private_bytes(self.ring.ed25519[version])
        unsigned = Checkpoint(origin=self.origin, tree_size=size, root_hash=root_hash.hex(),
                              issued_at=now, key_id=f"ed25519:{version}", signature="")
        cp = unsigned.model_copy(update={
            "signature": base64.b64encode(key.sign(unsigned.note())).decode("ascii")})
        _insert_ignore(conn, checkpoints, [{
            "tree_size": size, "root_hash": cp.root_hash, "issued_at": now,
            "origin": cp.origin, "key_id": cp.key_id, "signature": cp.signature}],
            ["tree_size"])
        return cp

    def checkpoint(self, now: dt.datetime | None = None, *, force: bool = False
                   ) -> Checkpoint | None:
        """Sign the current tree if it grew since the last checkpoint and either ``force`` or
        ``checkpoint_interval`` has passed. Returns the new checkpoint, if any."""
        if self.ring is None:
            raise ValueError("signing checkpoints needs the key ring")
        now = now or dt.datetime.now(dt.UTC)

        def due(state: TreeState, last: Checkpoint | None) -> bool:
            if state.size == (last.tree_size if last else 0):
                return False
            return force or last is None or now - last.issued_at >= self.checkpoint_interval

        # A read first (the sequencer asks up to once a second, and most answers are "not
        # yet"); only a due checkpoint takes the log's write lock (and is re-checked under it).
        if not due(self.state(), self.latest_checkpoint()):
            return None
        with self.engine.begin() as conn:
            state = self._lock_state(conn)
            last = self._last_checkpoint(conn)
            if not due(state, last):
                return None
            return self._sign(conn, state.size, state.root_hash, now)


    # -- reading ------------------------------------------------------------------------
    def state(self) -> TreeState:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(log_state).where(log_state.c.id == 1)).first()
        if row is None:
            return TreeState(0, merkle.EMPTY_ROOT, ())
        return TreeState(int(row.size), bytes.fromhex(row.root_hash), _frontier_of(row.frontier))

    def latest_checkpoint(self) -> Checkpoint | None:
        with reading(self.engine) as conn:
            return self._last_checkpoint(conn)

    def checkpoints(self) -> list[Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.tree_size))
            return [_checkpoint_of(r) for r in rows]

    def checkpoint_at(self, tree_size: int) -> Checkpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints)
                               .where(checkpoints.c.tree_size == tree_size)).first()
        return None if row is None else _checkpoint_of(row)

    def leaf_hashes(self, upto: int) -> list[bytes]:
        """The first ``upto`` leaf hashes (as stored), read now (nothing is cached: proofs do
        not need them, see :meth:`inclusion_proof`). Raises ValueError beyond the log or at a
        gap."""
        with self.engine.connect() as conn:
            size = self._size(conn)
            if upto > size:
                raise ValueError(f"the log has {size} entries, not {upto}")
            return tiles.read_leaves(conn, 0, upto)

    @staticmethod
    def _size(conn: sa.Connection) -> int:
        size = conn.execute(_SIZE).scalar()
        return int(size or 0)

    def _prove(self, tree_size: int, prove: Callable[[tiles.StoredTree], _T]) -> _T:
        """``prove`` over the stored tree (stored nodes, a few leaf blocks, one connection);
        nodes it had to compute (a log older than the tiles) are stored afterwards."""
        with self.engine.connect() as conn:
            size = self._size(conn)
            if tree_size > size:
                raise ValueError(f"the log has {size} entries, not {tree_size}")
            tree = tiles.StoredTree(conn, size, self.nodes)
            tree.prepare(prove)
            result = prove(tree)
        if tree.pending:
            tree.flush(self.engine)
        return result

    def leaf_and_inclusion_proof(self, seq: int, tree_size: int) -> tuple[bytes, list[bytes]]:
        """Entry ``seq``'s stored leaf hash and its audit path in the tree of ``tree_size``."""
        def prove(tree: tiles.StoredTree) -> tuple[bytes, list[bytes]]:
            path = tree.inclusion(seq, tree_size)  # checks seq first
            return tree.leaves[seq], path
        return self._prove(tree_size, prove)

    def inclusion_proof(self, seq: int, tree_size: int) -> list[bytes]:
        """RFC 6962 audit path of entry ``seq`` in the tree of ``tree_size`` (O(log n))."""
        return self._prove(tree_size, lambda t: t.inclusion(seq, tree_size))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 6962 proof that the tree of ``first`` is a prefix of ``second`` (O(log n))."""
        return self._prove(second, lambda t: t.consistency(first, second))

    def root_at(self, tree_size: int) -> bytes:
        """The Merkle Tree Hash of the first ``tree_size`` entries, from the stored tree."""
        return self._prove(tree_size, lambda t: t.root(tree_size))

    def entry_rows(self, first: int = 0, last: int | None = None) -> list[tuple[int, bytes]]:
        """(seq, leaf bytes) for ``first <= seq <= last``, in order."""
        return [(seq, leaf) for seq, leaf, _body in self.entry_rows_with_bodies(first, last)]

    def entry_rows_with_bodies(self, first: int = 0, last: int | None = None
                               ) -> list[tuple[int, bytes, bytes | None]]:
        """(seq, leaf bytes, body bytes or None) for ``first <= seq <= last``, in order."""
        stmt = sa.select(disclosure_log.c.seq, disclosure_log.c.entry, disclosure_log.c.body
                         ).where(disclosure_log.c.seq >= first).order_by(disclosure_log.c.seq)
        if last is not None:
            stmt = stmt.where(disclosure_log.c.seq <= last)
        with self.engine.connect() as conn:
            return [(int(r.seq), bytes(r.entry), None if r.body is None else bytes(r.body))
                    for r in conn.execute(stmt)]

    # -- erasure ------------------------------------------------------------------------
    def erase(self, seqs: Iterable[int]) -> EraseResult:
        """Erase the bodies of these entries (format version 2): the body and the copies in
        the filter columns and subject index go; the leaf stays, so the tree, its checkpoints
        and proofs still verify. Version 1 entries hold their body in the leaf and cannot be
        erased without breaking the tree: they are reported, not touched. On SQLite the
        freed pages are overwritten (``secure_delete``) and the WAL is checkpointed."""
        wanted = sorted(set(seqs))
        result = EraseResult()
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            rows = {int(r.seq): r for r in conn.execute(
                sa.select(disclosure_log.c.seq, disclosure_log.c.entry, disclosure_log.c.body)
                .where(disclosure_log.c.seq.in_(wanted)))} if wanted else {}
            for seq in wanted:
                row = rows.get(seq)
                if row is None:
                    result.missing.append(seq)
                elif row.body is None:
                    version = json.loads(bytes(row.entry)).get("v")
                    (result.already if version == 2 else result.version_1).append(seq)
                else:
                    result.erased.append(seq)
            if result.erased:
                conn.execute(disclosure_log.update()
                             .where(disclosure_log.c.seq.in_(result.erased))
                             .values(body=None, agency=None, recipient=None, pseudonym=None,
                                     event_id=None))
                conn.execute(disclosure_log_subjects.delete()
                             .where(disclosure_log_subjects.c.seq.in_(result.erased)))
        if result.erased and self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return result

    def seq_range(self, start: dt.datetime | None, end: dt.datetime | None
                  ) -> tuple[int, int] | None:
        """The first and last sequence numbers logged in ``[start, end)`` (by ``logged_at``,
        which grows with ``seq``, so the range is contiguous)."""
        stmt = sa.select(sa.func.min(disclosure_log.c.seq), sa.func.max(disclosure_log.c.seq))
        if start is not None:
            stmt = stmt.where(disclosure_log.c.logged_at >= start.astimezone(dt.UTC))
        if end is not None:
            stmt = stmt.where(disclosure_log.c.logged_at < end.astimezone(dt.UTC))
        with self.engine.connect() as conn:
            lo, hi = conn.execute(stmt).one()
        return None if lo is None else (int(lo), int(hi))

    def page_about(self, pseudonym: str | None, **filters: Any) -> Page:
        """:meth:`page`, with ``pseudonym`` widened to all of the person's pseudonyms across
        key rotations (the store's aliases)."""
        names = None if pseudonym is None else sorted(self.store.aliases(pseudonym))
        return self.page(pseudonyms=names, **filters)

    def page(self, *, pseudonyms: Sequence[str] | None = None, agency: str | None = None,
             recipient: str | None = None, kind: str | None = None,
             decision: str | None = None, start: dt.datetime | None = None,
             end: dt.datetime | None = None, limit: int = 50, cursor: str | None = None,
             newest_first: bool = True) -> Page:
        """Entries matching the filters, as documents with ``seq`` and ``leaf_hash``.
        ``start``/``end`` filter on the act's time ``at``. Raises ValueError on a foreign
        cursor."""
        t = disclosure_log
        stmt = sa.select(t.c.seq, t.c.entry, t.c.leaf_hash, t.c.body)
        if pseudonyms is not None:
            stmt = stmt.where(t.c.seq.in_(
                sa.select(disclosure_log_subjects.c.seq)
                .where(disclosure_log_subjects.c.pseudonym.in_(list(pseudonyms)))))
        for column, value in ((t.c.agency, agency), (t.c.recipient, recipient),
                              (t.c.kind, kind), (t.c.decision, decision)):
            if value is not None:
                stmt = stmt.where(column == value)
        if start is not None:
            stmt = stmt.where(t.c.at >= start.astimezone(dt.UTC))
        if end is not None:
            stmt = stmt.where(t.c.at < end.astimezone(dt.UTC))
        if cursor is not None:
            after = decode_cursor(cursor)
            stmt = stmt.where(t.c.seq < after if newest_first else t.c.seq > after)
        stmt = stmt.order_by(t.c.seq.desc() if newest_first else t.c.seq.asc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [entry_item(bytes(r.entry), r.leaf_hash,
                            None if r.body is None else bytes(r.body)) for r in rows]
        return Page(items, encode_cursor(int(rows[-1].seq)) if more and rows else None)


def entry_item(data: bytes, leaf_hash_hex: str | None = None, body: bytes | None = None
               ) -> dict[str, Any]:
    """An entry as the API shows it: its document (for format 2: the body's members with the
    leaf's; ``erased`` once the body is gone; never the salt) plus its leaf hash."""
    doc: dict[str, Any] = json.loads(data)  # format 1: the leaf is the document
    if isinstance(doc, dict) and doc.get("v") == 2:
        # Damaged: shown as stored (verification says what is wrong).
        with contextlib.suppress(ValueError, TypeError):
            doc = dict(read_entry(data, body, strict=False).document)
    doc["leaf_hash"] = leaf_hash_hex or merkle.leaf_hash(data).hex()
    return doc


ERASED_LOG_BODIES = "log_body_erased"


def erasure_entry(seqs: Sequence[int], reason: str, principal: str, role: str,
                  now: dt.datetime | None = None) -> LogEntry:
    """The log entry that records erasing these entries' bodies (written before erasing)."""
    from core.ledger.entries import random_entry_id

    return LogEntry(entry_id=random_entry_id(), kind=EntryKind.erasure,
                    at=now or dt.datetime.now(dt.UTC), reason_code=ERASED_LOG_BODIES,
                    principal=principal, role=role, reason=" ".join(reason.split()),
                    legal_basis="gdpr-art-17", details={"log_entries": [str(s) for s in seqs]})


def erased_by(entry: LogEntry) -> set[int]:
    """The log entries an erasure entry records erasing."""
    if entry.kind != EntryKind.erasure or entry.reason_code != ERASED_LOG_BODIES:
        return set()
    named = entry.details.get("log_entries", [])
    return {int(s) for s in named if isinstance(s, str) and s.isdigit()} \
        if isinstance(named, list) else set()


@dataclass
class EraseResult:
    erased: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)  # erased before
    version_1: list[int] = field(default_factory=list)  # format 1: cannot be erased
    missing: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- verification


@dataclass
class Problem:
    """One thing wrong with the log: ``where`` (``entry 17``, ``checkpoint 1000``) and
    ``what`` (modified, missing, reordered, inserted, bad_signature, …) and a sentence."""

    where: str
    what: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "what": self.what, "message": self.message}


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    tree_size: int = 0
    root_hash: str = merkle.EMPTY_ROOT.hex()
    latest_checkpoint: Checkpoint | None = None
    uncovered: int = 0  # entries after the latest checkpoint: intact so far, not yet signed
    erased: int = 0  # entries whose body was erased (their leaves still verify)
    problems: list[Problem] = field(default_factory=list)
    frontier: tuple[bytes, ...] | None = None  # at the size asked for (LogScan.keep_at)
    kept_erased: int = 0  # erased entries below that size, their erasure recorded below it
    mode: str = "full"  # or "incremental" (core.ledger.verify)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str, message: str) -> None:
        if len(self.problems) < 1000:
            self.problems.append(Problem(where, what, message))

    def as_dict(self) -> dict[str, Any]:
        cp = self.latest_checkpoint
        return {
            "ok": self.ok, "status": "intact" if self.ok else "tampered",
            "entries": self.entries, "checkpoints": self.checkpoints,
            "tree_size": self.tree_size, "root_hash": self.root_hash,
            "latest_checkpoint": None if cp is None else checkpoint_json(cp),
            "entries_after_latest_checkpoint": self.uncovered,
            "erased_entries": self.erased,
            "problems": [p.as_dict() for p in self.problems],
            "verification": self.mode,
        }

    def summary(self) -> str:
        if self.ok:
            return (f"intact: {self.entries} entries, {self.checkpoints} signed checkpoints, "
                    f"root {self.root_hash[:16]}… at size {self.tree_size}"
                    + (f"; {self.uncovered} newest entries not yet checkpointed"
                       if self.uncovered else "")
                    + (f"; {self.erased} entries erased (their leaves still verify)"
                       if self.erased else ""))
        lines = [f"TAMPERED: {len(self.problems)} problem(s)"]
        lines += [f"  {p.where}: {p.what}: {p.message}" for p in self.problems[:50]]
        return "\n".join(lines)


def _as_bytes(value: Any) -> bytes:
    # A hand-edited SQLite row may come back as text: still verify it, do not crash.
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def scan_for_cpr(report: VerifyReport, where: str, doc: Any) -> None:
    """The log must never hold a CPR number: name the entry and its fields, never the value."""
    fields = cpr_like_fields(doc)
    if fields:
        report.add(where, "personal_data",
                   f"field(s) {', '.join(fields)} hold a CPR-shaped number; the log must hold "
                   "none (erase the entry's body with `ssp-hub audit erase`)")


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {"origin": cp.origin, "tree_size": cp.tree_size, "root_hash": cp.root_hash,
            "issued_at": format_time(cp.issued_at), "key_id": cp.key_id,
            "signature": cp.signature, "note": cp.note().decode("utf-8")}


VERIFY_CHUNK = 10_000  # rows per query: verification holds one chunk, never the whole log


def _late_seqs(conn: sa.Connection, limit: int) -> set[int]:
    """Sequence numbers at or beyond ``limit`` in the log and in its subject index."""
    late = {int(s) for s in conn.execute(
        sa.select(disclosure_log.c.seq).where(disclosure_log.c.seq >= limit)).scalars()}
    late |= {int(s) for s in conn.execute(
        sa.select(disclosure_log_subjects.c.seq)
        .where(disclosure_log_subjects.c.seq >= limit)).scalars()}
    return late


@dataclass
class LogScan:
    """A streaming replay of the stored entries from ``tree`` on (empty: the start of the
    log; or a verified frontier), ``chunk`` rows per query, up to ``limit`` (the sequencer's
    size, read before the checkpoints' newest size can exceed it; ``1 << 62`` if there is no
    state). Every entry, its columns, subject index and leaf are checked, and every
    checkpoint's root as the tree reaches its size. Memory: one chunk, the checkpoints, and
    the sequence numbers of erased entries."""

    report: VerifyReport
    by_size: Mapping[int, Checkpoint]
    tree: merkle.MerkleLog
    limit: int
    chunk: int = VERIFY_CHUNK
    keep_at: int = -1  # capture the frontier when the tree reaches this size
    kept: tuple[bytes, ...] | None = None
    rows: int = 0
    erased_seqs: set[int] = field(default_factory=set)
    recorded_erasures: set[int] = field(default_factory=set)
    erasure_records: list[tuple[int, set[int]]] = field(default_factory=list)  # (seq, named)
    odd_ids: set[str] = field(default_factory=set)  # hashed ids whose column differs
    extra: int | None = None  # the first seq the subject index names but the log lacks
    _n_rows: int | None = None

    def run(self, conn: sa.Connection) -> None:
        lo = self.tree.size
        while lo < self.limit:
            rows = conn.execute(sa.select(disclosure_log).where(
                disclosure_log.c.seq >= lo, disclosure_log.c.seq < self.limit)
                .order_by(disclosure_log.c.seq).limit(self.chunk)).all()
            hi = int(rows[-1].seq) + 1 if len(rows) == self.chunk else self.limit
            indexed: dict[int, set[str]] = {}
            for r in conn.execute(sa.select(disclosure_log_subjects).where(
                    disclosure_log_subjects.c.seq >= lo, disclosure_log_subjects.c.seq < hi)):
                indexed.setdefault(int(r.seq), set()).add(r.pseudonym)
            for row in rows:
                self._entry(conn, row, indexed)
            extra = set(indexed) - {int(r.seq) for r in rows}
            if extra and (self.extra is None or min(extra) < self.extra):
                self.extra = min(extra)
            lo = hi

    def n_rows(self, conn: sa.Connection) -> int:
        """Rows below the limit (asked only when an entry names another position)."""
        if self._n_rows is None:
            self._n_rows = int(conn.execute(sa.select(sa.func.count()).select_from(
                disclosure_log).where(disclosure_log.c.seq < self.limit)).scalar() or 0)
        return self._n_rows

    def _entry(self, conn: sa.Connection, row: Any, indexed: dict[int, set[str]]) -> None:
        report, tree = self.report, self.tree
        seq = int(row.seq)
        where = f"entry {seq}"
        if seq > tree.size:
            report.add(f"entry {tree.size}", "missing",
                       f"entries {tree.size}..{seq - 1} are missing from the log")
            # Keep positions honest: leaves cannot be filled in, so every later root fails.
            while tree.size < seq:
                self._append(merkle.leaf_hash(b"missing"))
        data = _as_bytes(row.entry)
        leaf = merkle.leaf_hash(data)
        if leaf.hex() != row.leaf_hash:
            report.add(where, "modified", "the entry's bytes do not match its leaf hash")
        body = None if row.body is None else _as_bytes(row.body)
        try:
            stored = read_entry(data, body)
        except (ValueError, TypeError) as exc:  # TypeError: a non-JSON value where one belongs
            report.add(where, "modified", f"not a valid canonical entry ({exc})")
        else:
            if stored.erased:
                report.erased += 1
                self.erased_seqs.add(seq)
            elif stored.entry is not None:
                named = erased_by(stored.entry)
                if named:
                    self.recorded_erasures |= named
                    self.erasure_records.append((seq, named))
            self._check_stored(conn, row, seq, stored, indexed)
        self.rows += 1
        self._append(leaf)

    def _append(self, leaf: bytes) -> None:
        self.tree.append(leaf)
        if self.tree.size == self.keep_at:
            self.kept = self.tree.frontier
        at_size = self.by_size.get(self.tree.size)
        if at_size is not None and self.tree.root().hex() != at_size.root_hash:
            self.report.add(
                f"checkpoint {at_size.tree_size}", "modified",
                f"the entries up to {at_size.tree_size - 1} do not hash to the signed root: "
                "an entry at or before it was modified, removed, inserted or reordered")

    def _is_copy(self, conn: sa.Connection, row: Any, seq: int, entry_id: str) -> bool:
        """Whether an earlier entry has the same (hashed) entry id. The ``entry_id`` column is
        unique, so a copy either has its column changed (then the earlier entry is found by
        the column, an indexed lookup) or the earlier one does (then it is in ``odd_ids``)."""
        if entry_id in self.odd_ids:
            return True
        if row.entry_id == entry_id:
            return False
        self.odd_ids.add(entry_id)
        return conn.execute(sa.select(disclosure_log.c.seq).where(
            disclosure_log.c.entry_id == entry_id, disclosure_log.c.seq < seq).limit(1)
        ).first() is not None

    def _check_stored(self, conn: sa.Connection, row: Any, seq: int, stored: StoredEntry,
                      indexed: dict[int, set[str]]) -> None:
        """One readable entry: its position, uniqueness, filter columns, subject index, no
        CPR."""
        report, where = self.report, f"entry {seq}"
        inner_seq = stored.seq
        if inner_seq != seq:
            what = "reordered" if inner_seq < self.n_rows(conn) else "inserted"
            report.add(where, what, f"the entry at position {seq} says it is entry "
                                    f"{inner_seq}")
        if self._is_copy(conn, row, seq, stored.entry_id):
            report.add(where, "inserted", "a second copy of an earlier entry")
        entry = stored.entry
        columns = {"entry_id": stored.entry_id, "kind": stored.kind,
                   "decision": stored.decision,
                   "agency": entry.agency if entry else None,
                   "recipient": entry.recipient if entry else None,
                   "pseudonym": entry.pseudonym if entry else None,
                   "event_id": entry.event_id if entry else None}
        for name, value in columns.items():
            if getattr(row, name) != value:
                report.add(where, "modified",
                           f"column {name} differs from the hashed entry")
        if indexed.get(seq, set()) != set(entry.subjects() if entry else ()):
            report.add(where, "modified", "the subject index differs from the hashed entry")
        scan_for_cpr(report, where, stored.document)

    def recorded_at(self, upto: int) -> set[int]:
        """The entries that the erasure entries scanned below ``upto`` name."""
        return {s for seq, named in self.erasure_records if seq < upto for s in named}

    def kept_erased(self) -> int:
        """Erased entries scanned below ``keep_at`` whose erasure an entry below it records
        (what :mod:`core.ledger.verify` remembers, so that no erasure is counted twice)."""
        return len({s for s in self.erased_seqs if s < self.keep_at}
                   & self.recorded_at(self.keep_at))

    def unrecorded_erasures(self) -> None:
        for seq in sorted(self.erased_seqs - self.recorded_erasures)[:100]:
            self.report.add(f"entry {seq}", "modified",
                            "its body is gone, but no erasure entry in the log records erasing it")


def check_signatures(report: VerifyReport, cps: Iterable[Checkpoint],
                     keys: Mapping[str, Ed25519PublicKey]) -> None:
    for cp in cps:
        why = verify_checkpoint(cp, keys)
        if why:
            report.add(f"checkpoint {cp.tree_size}", "bad_signature",
                       f"checkpoint at tree size {cp.tree_size}: {why}")


def finish_scan(report: VerifyReport, conn: sa.Connection, scan: LogScan,
                cps: Sequence[Checkpoint], state_row: Any) -> None:
    """The checks after the replay: the tree against the checkpoints, the subject index and the
    sequencer's state; rows beyond the state put there by hand."""
    tree = scan.tree
    report.tree_size = tree.size
    report.root_hash = tree.root().hex()
    for cp in cps:
        if cp.tree_size > tree.size:
            report.add(f"checkpoint {cp.tree_size}", "missing",
                       f"the checkpoint covers {cp.tree_size} entries but the log holds "
                       f"{tree.size}: entries at the end were removed")
    if scan.extra is not None:
        report.add(f"entry {scan.extra}", "inserted",
                   "the subject index names entries that are not in the log")
    # Rows past the state's size are being integrated right now, or were never sequenced. Read
    # them, then the state again: a row the sequencer wrote was committed with a state that
    # covers it, so a row beyond the state read *after* it was put there by hand.
    late = _late_seqs(conn, scan.limit)
    size_now = conn.execute(sa.select(log_state.c.size).where(log_state.c.id == 1)).scalar()
    for seq in sorted(s for s in late if s >= int(size_now or 0))[:100]:
        report.add(f"entry {seq}", "inserted",
                   f"entry {seq} is beyond the sequencer's state ({size_now} entries): "
                   "it was not integrated by the hub")
    if state_row is not None and (int(state_row.size) != tree.size
                                  or state_row.root_hash != report.root_hash):
        report.add("log state", "modified",
                   f"the sequencer's state says size {state_row.size}, the entries give "
                   f"{tree.size} (or the roots differ)")
    last = cps[-1].tree_size if cps else 0
    report.uncovered = max(0, tree.size - last)


def read_head(conn: sa.Connection) -> tuple[list[Checkpoint], Any, int]:
    """The checkpoints, then the sequencer's state and the size to verify up to. Read in this
    order so that a sequencer integrating meanwhile cannot cause a false alarm: every
    checkpoint read is at most the state's size, and rows and index are read only up to that
    size (they are committed in the same transaction as the state)."""
    cps = [_checkpoint_of(r) for r in
           conn.execute(sa.select(checkpoints).order_by(checkpoints.c.tree_size))]
    state_row = conn.execute(sa.select(log_state).where(log_state.c.id == 1)).first()
    # No state: trust nothing, read everything there is.
    limit = int(state_row.size) if state_row is not None else 1 << 62
    return cps, state_row, limit


def verify_store(store: Store, keys: Mapping[str, Ed25519PublicKey], *,
                 chunk: int = VERIFY_CHUNK, keep_at: int = -1) -> VerifyReport:
    """Re-derive the tree from the stored entry bytes and check every entry, the filter
    columns and subject index against the hashed bytes, every checkpoint's signature and
    root, and that the checkpoints are consistent (all prefixes of one sequence of leaves).
    Streams the log ``chunk`` rows at a time. ``keep_at``: a tree size whose frontier to keep
    (``report.frontier``, for :mod:`core.ledger.verify`)."""
    report = VerifyReport()
    with store.engine.connect() as conn:
        cps, state_row, limit = read_head(conn)
        report.checkpoints = len(cps)
        report.latest_checkpoint = cps[-1] if cps else None
        check_signatures(report, cps, keys)
        scan = LogScan(report, {cp.tree_size: cp for cp in cps}, merkle.MerkleLog(), limit,
                       chunk=chunk, keep_at=keep_at)
        scan.run(conn)
        scan.unrecorded_erasures()
        report.entries = scan.rows
        finish_scan(report, conn, scan, cps, state_row)
    report.frontier, report.kept_erased = scan.kept, scan.kept_erased()
    return report

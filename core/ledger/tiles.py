"""Stored Merkle subtree hashes ("tiles"): RFC 6962 proofs in O(log n) without every leaf.

The sequencer (:meth:`core.ledger.auditlog.AuditLog.integrate`) stores, in the transaction
that integrates the leaves, the hash of every complete, aligned perfect subtree of at least
``2**TILE_HEIGHT`` leaves that the new leaves complete (:func:`tile_rows`, reported by
:meth:`core.ledger.merkle.MerkleLog.append`). Table ``log_tiles``: ``(level, idx, hash)`` is the
subtree of ``2**level`` leaves covering ``[idx * 2**level, (idx + 1) * 2**level)``.

:class:`StoredTree` is :class:`~core.ledger.merkle.ProofTree` (the same RFC 6962 proof
algorithms) whose ``MTH(lo, hi)`` takes a stored node for every aligned perfect subtree of
``2**TILE_HEIGHT`` leaves or more, and hashes up the rest from leaf hashes read one block of
``2**TILE_HEIGHT`` leaves at a time by an indexed ``disclosure_log.seq`` range query. A proof
reads at most ``log2(n) - TILE_HEIGHT`` nodes and two leaf blocks (the entry's own block and
the tree's last, incomplete one). A node that is not stored (a log written before migration
0007) is computed from its children, down to the leaves, and stored by :meth:`flush`, so an
old log pays one pass over its leaves once.

Nothing here is trusted by a verifier: a proof is checked against a signed checkpoint's root,
so a wrong stored node gives a proof that fails, never a false one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.ledger import merkle
from core.store import disclosure_log, insert_ignore, log_tiles

# 2**6 = 64 leaves per block. The table holds ~n/32 rows (~31,000 for a million entries,
# ~2 MB), and the sequencer writes one row per 32 entries on average. A smaller height means
# more rows and writes for little gain; a larger one means more leaf rows per proof, and each
# disclosure_log row carries its entry bytes (~1 KB), so reading leaves is page-bound: 64
# leaves are ~64 KB of pages, 256 would be ~256 KB, per block.
TILE_HEIGHT = 6
NODE_CACHE_SIZE = 4096  # ~0.5 MB: every node of the top of a million-leaf tree, many times over


def tile_rows(completed: Iterable[tuple[int, int, bytes]],
              height: int = TILE_HEIGHT) -> list[dict[str, Any]]:
    """The ``log_tiles`` rows among the subtrees :meth:`MerkleLog.append` reported."""
    return [{"level": level, "idx": idx, "hash": h} for level, idx, h in completed
            if level >= height]


class NodeCache:
    """A small, thread-safe LRU of stored nodes ``(level, idx) -> hash`` (immutable once the
    leaves under them are integrated, so they can be kept across requests)."""

    def __init__(self, size: int = NODE_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[int, int], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def read_leaves(conn: sa.Connection, lo: int, hi: int) -> list[bytes]:
    """The stored leaf hashes of entries ``lo..hi-1`` (one indexed range query); ValueError
    names the first missing entry if the log has a gap there."""
    rows = conn.execute(sa.select(disclosure_log.c.seq, disclosure_log.c.leaf_hash)
                        .where(disclosure_log.c.seq >= lo, disclosure_log.c.seq < hi)
                        .order_by(disclosure_log.c.seq)).all()
    out: list[bytes] = []
    for row in rows:
        if int(row.seq) != lo + len(out):
            break
        out.append(bytes.fromhex(row.leaf_hash))
    if len(out) != hi - lo:
        raise ValueError(f"entry {lo + len(out)} is missing from the log")
    return out


_DUMMY = bytes(merkle.HASH_SIZE)  # what a dry run (StoredTree.prepare) computes with


class _StoredLeaves(Sequence[bytes]):
    """The first ``size`` leaf hashes of the stored log, read lazily in blocks."""

    def __init__(self, conn: sa.Connection, size: int, height: int) -> None:
        self.conn = conn
        self.size = size
        self.height = height
        self._blocks: OrderedDict[int, list[bytes]] = OrderedDict()
        self.dry = False
        self.wanted: set[int] = set()

    def __len__(self) -> int:
        return self.size

    def _bounds(self, b: int) -> tuple[int, int]:
        lo = b << self.height
        return lo, min(lo + (1 << self.height), self.size)

    def load(self, blocks: Iterable[int]) -> None:
        """Read these blocks in one query (a block with a gap is left to :meth:`block`,
        which names the missing entry)."""
        ranges = [self._bounds(b) for b in sorted(set(blocks)) if b not in self._blocks]
        if not ranges:
            return
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        rows = self.conn.exec_driver_sql(
            "SELECT seq, leaf_hash FROM disclosure_log WHERE "  # noqa: S608 (placeholders only)
            + " OR ".join([f"(seq >= {mark} AND seq < {mark})"] * len(ranges)),
            tuple(v for bounds in ranges for v in bounds))
        found = {int(seq): leaf for seq, leaf in rows}
        for lo, hi in ranges:
            if all(i in found for i in range(lo, hi)):
                self._blocks[lo >> self.height] = [bytes.fromhex(found[i])
                                                   for i in range(lo, hi)]

    def block(self, b: int) -> list[bytes]:
        if self.dry:
            self.wanted.add(b)
            return [_DUMMY] * (self._bounds(b)[1] - self._bounds(b)[0])
        leaves = self._blocks.get(b)
        if leaves is None:
            lo = b << self.height
            leaves = read_leaves(self.conn, lo, min(lo + (1 << self.height), self.size))
            self._blocks[b] = leaves
            while len(self._blocks) > 4:
                self._blocks.popitem(last=False)
        return leaves

    @overload
    def __getitem__(self, i: int) -> bytes: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[bytes]: ...

    def __getitem__(self, i: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.size))]
        if not 0 <= i < self.size:
            raise IndexError(i)
        return self.block(i >> self.height)[i & ((1 << self.height) - 1)]


def _hash_range(leaves: list[bytes], lo: int, hi: int) -> bytes:
    """RFC 6962 MTH of ``leaves[lo:hi]`` (a few dozen leaves of one block: no memo)."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = 1 << ((n - 1).bit_length() - 1)
    return merkle.node_hash(_hash_range(leaves, lo, lo + k), _hash_range(leaves, lo + k, hi))


class StoredTree(merkle.ProofTree):
    """RFC 6962 tree hashes and proofs over the stored log of ``size`` entries, read through
    ``conn`` (one connection: one consistent view)."""

    __slots__ = ("_cache", "_conn", "_dry", "_fetched", "_height", "_stored", "_wanted",
                 "pending")

    def __init__(self, conn: sa.Connection, size: int, cache: NodeCache | None = None,
                 height: int = TILE_HEIGHT) -> None:
        super().__init__(_StoredLeaves(conn, size, height))
        self._conn = conn
        self._cache = cache if cache is not None else NodeCache()
        self._height = height
        self._stored: _StoredLeaves = self.leaves  # type: ignore[assignment]
        self.pending: list[dict[str, Any]] = []  # computed nodes that were not stored
        self._dry = False
        self._wanted: set[tuple[int, int]] = set()
        self._fetched: dict[tuple[int, int], bytes] = {}

    def prepare(self, run: Callable[[StoredTree], object]) -> None:
        """Read what ``run`` (a proof over this tree) will need in two queries: the stored
        nodes, and the leaf blocks. A dry run finds them (which nodes a proof reads depends
        only on the sizes and indexes, never on hash values); the real run then finds them
        read, and falls back to reading or computing one by one what was not there."""
        self._dry = self._stored.dry = True
        try:
            run(self)
        except (ValueError, IndexError):
            pass  # bad arguments: the real run raises the same
        finally:
            self._dry = self._stored.dry = False
            self._memo.clear()  # it holds hashes of dummies
        wanted = sorted(self._wanted)
        mark = "?" if self._conn.dialect.paramstyle == "qmark" else "%s"
        for i in range(0, len(wanted), 100):
            part = wanted[i:i + 100]
            # An OR of (level, idx) pairs: a primary-key search each on SQLite and PostgreSQL
            # (SQLite scans the table for a row-value IN list). Plain SQL: building the same
            # statement with SQLAlchemy's expression objects cost more than running it.
            rows = self._conn.exec_driver_sql(
                "SELECT level, idx, hash FROM log_tiles WHERE "  # noqa: S608 (placeholders only)
                + " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(part)),
                tuple(v for key in part for v in key))
            self._fetched.update(((int(lv), int(ix)), bytes(h)) for lv, ix, h in rows)
        self._stored.load(self._stored.wanted)

    def mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n >= 1 << self._height and n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            return self.node(level, lo >> level)
        block = lo >> self._height
        if block == (hi - 1) >> self._height:  # inside one block: hash up from its leaves
            if self._dry:
                self._stored.wanted.add(block)
                return _DUMMY
            base = block << self._height
            return _hash_range(self._stored.block(block), lo - base, hi - base)
        return super().mth(lo, hi)

    def node(self, level: int, idx: int) -> bytes:
        """The stored subtree hash ``(level, idx)``; computed (and queued for :meth:`flush`)
        if it is missing. The subtree must lie inside the tree."""
        key = (level, idx)
        value = self._fetched.get(key) or self._cache.get(key)
        if value is not None:
            self._cache.put(key, value)
            return value
        if self._dry:
            self._wanted.add(key)
            return _DUMMY
        value = self._conn.execute(sa.select(log_tiles.c.hash).where(
            log_tiles.c.level == level, log_tiles.c.idx == idx)).scalar()
        if value is None:
            value = self._compute(level, idx)
            self.pending.append({"level": level, "idx": idx, "hash": value})
        value = bytes(value)
        self._cache.put(key, value)
        return value

    def _compute(self, level: int, idx: int) -> bytes:
        if level == self._height:  # from one block of leaves, without memoising its insides
            return merkle.ProofTree(self._stored.block(idx)).root(1 << level)
        return merkle.node_hash(self.node(level - 1, 2 * idx), self.node(level - 1, 2 * idx + 1))

    def flush(self, engine: Engine) -> int:
        """Store the nodes this tree had to compute; returns how many."""
        rows, self.pending = self.pending, []
        for i in range(0, len(rows), 1000):
            with engine.begin() as conn:
                insert_ignore(conn, log_tiles, rows[i:i + 1000], ["level", "idx"])
        return len(rows)

"""Stored subtree hashes (core.ledger.tiles): proofs from stored nodes and a few leaf blocks equal
the proofs over every leaf (merkle.ProofTree), also for a log written before the tiles existed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ledger import merkle, tiles
from core.ledger.auditlog import AuditLog, public_keys, verify_store
from core.privacy.keys import KeyRing
from core.store import Store, disclosure_log, log_tiles
from tests.unit.test_auditlog import T0, fill, make_entry, make_log

pytestmark = pytest.mark.timeout(300)

N = 3000  # leaves in the shared synthetic log


def synthetic_log(store: Store, n: int, height: int, *, keep_tile: int = 1) -> list[bytes]:
    """A log of ``n`` synthetic entries inserted as the sequencer stores them, with the tiles
    of ``height`` (every ``keep_tile``-th one: the others are missing, as in an old log)."""
    tree = merkle.MerkleLog()
    leaves: list[bytes] = []
    completed: list[tuple[int, int, bytes]] = []
    rows = []
    for i in range(n):
        data = f'{{"seq":{i}}}'.encode()
        leaf = merkle.leaf_hash(data)
        leaves.append(leaf)
        tree.append(leaf, completed)
        rows.append({"seq": i, "entry_id": f"e{i}", "kind": "disclosure",
                     "decision": "disclosed", "at": T0, "logged_at": T0, "entry": data,
                     "leaf_hash": leaf.hex()})
    kept = [r for k, r in enumerate(tiles.tile_rows(completed, height)) if k % keep_tile == 0]
    with store.engine.begin() as conn:
        conn.execute(disclosure_log.insert(), rows)
        if kept:
            conn.execute(log_tiles.insert(), kept)
    return leaves


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[bytes]]]:
    path: Path = tmp_path_factory.mktemp("tiles") / "hub.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        yield store, synthetic_log(store, N, 2, keep_tile=3)  # two thirds of the nodes missing
    finally:
        store.close()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), height=st.sampled_from([2, 3, 4, 6]))
def test_stored_proofs_equal_the_proofs_over_every_leaf(
        shared: tuple[Store, list[bytes]], data: st.DataObject, height: int) -> None:
    store, leaves = shared
    size = data.draw(st.integers(1, N), label="tree size")
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(0, size), label="first size")
    full = merkle.ProofTree(leaves)
    root, first_root = full.root(size), full.root(first)
    with store.engine.connect() as conn:
        stored = tiles.StoredTree(conn, N, height=height)
        path = stored.inclusion(index, size)
        proof = stored.consistency(first, size)
        assert stored.root(size) == root
        proofs: list[Callable[[tiles.StoredTree], list[bytes]]] = [
            lambda t: t.inclusion(index, size), lambda t: t.consistency(first, size)]
        for prove in proofs:
            prepared = tiles.StoredTree(conn, N, height=height)  # nodes read up front
            prepared.prepare(prove)
            assert prove(prepared) == prove(stored)
    assert path == full.inclusion(index, size)
    assert proof == full.consistency(first, size)
    merkle.verify_inclusion(leaves[index], index, size, path, root)
    merkle.verify_consistency(first, size, first_root, root, proof)


def test_a_proof_reads_its_nodes_in_one_query_and_two_leaf_blocks_in_another(
        tmp_path: Path) -> None:
    """No list of all leaves: a proof in a tree of 3000 reads its stored nodes with one query
    and at most two blocks of 64 leaf hashes with another."""
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        leaves = synthetic_log(store, N, tiles.TILE_HEIGHT)
        seen: list[tuple[str, Any]] = []
        sa.event.listen(store.engine, "before_cursor_execute",
                        lambda _c, _cur, statement, params, *_: seen.append((statement, params)))
        with store.engine.connect() as conn:
            tree = tiles.StoredTree(conn, N)
            tree.prepare(lambda t: t.inclusion(1234, 2999))
            path = tree.inclusion(1234, 2999)
        assert path == merkle.ProofTree(leaves).inclusion(1234, 2999)
        nodes, blocks = [p for s, p in seen if "log_tiles" in s], \
            [p for s, p in seen if "disclosure_log" in s]
        assert (len(nodes), len(blocks)) == (1, 1)
        bounds = list(blocks[0])[:4]  # (lo, hi) of each block read
        assert bounds == [1216, 1280, 2944, 3000]  # the entry's block and the last, partial
        assert tree.pending == []  # every node it needed was stored
    finally:
        store.close()


def test_the_sequencer_stores_every_aligned_subtree_of_64_leaves_or_more(
        store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=100)
    fill(log, 130)  # one entry per transaction
    log.integrate([make_entry(i) for i in range(130, 300)], now=T0)  # and a batch
    leaves = log.leaf_hashes(300)
    full = merkle.ProofTree(leaves)
    with store.engine.connect() as conn:
        stored = {(r.level, r.idx): bytes(r.hash) for r in conn.execute(sa.select(log_tiles))}
    expected = {(level, idx): full.mth(idx << level, (idx + 1) << level)
                for level in range(tiles.TILE_HEIGHT, 9)
                for idx in range(300 >> level)}
    assert stored == expected
    assert len(stored) == 4 + 2 + 1  # 64-blocks 0..3, 128-blocks 0..1, the 256-block


def test_a_log_written_before_the_tiles_proves_verifies_and_gets_its_nodes(
        store: Store, keyring: KeyRing) -> None:
    make_log(store, keyring, count=300, every=50)
    with store.engine.begin() as conn:
        before = {(r.level, r.idx): bytes(r.hash) for r in conn.execute(sa.select(log_tiles))}
        conn.execute(log_tiles.delete())  # as a log written before migration 0008
    assert len(before) == 7

    old = AuditLog(store)  # a fresh process: nothing cached
    cps = old.checkpoints()
    leaves = old.leaf_hashes(300)
    for cp in cps:
        root = bytes.fromhex(cp.root_hash)
        for seq in (0, 63, 64, 200, cp.tree_size - 1):
            if seq < cp.tree_size:
                merkle.verify_inclusion(leaves[seq], seq, cp.tree_size,
                                        old.inclusion_proof(seq, cp.tree_size), root)
        merkle.verify_consistency(50, cp.tree_size, bytes.fromhex(cps[0].root_hash), root,
                                  old.consistency_proof(50, cp.tree_size))
    with store.engine.connect() as conn:
        after = {(r.level, r.idx): bytes(r.hash) for r in conn.execute(sa.select(log_tiles))}
    assert after == before  # the proofs stored the nodes they computed, as the sequencer would
    assert verify_store(store, public_keys(keyring)).ok


def test_a_tampered_stored_node_gives_a_proof_that_fails_never_a_false_one(
        store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=200, every=200)
    cp = log.checkpoints()[-1]
    with store.engine.begin() as conn:
        conn.execute(log_tiles.update().where(log_tiles.c.level == 6, log_tiles.c.idx == 2)
                     .values(hash=bytes(32)))
    leaf = AuditLog(store).leaf_hashes(200)[5]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaf, 5, 200, AuditLog(store).inclusion_proof(5, 200),
                                bytes.fromhex(cp.root_hash))


def test_proofs_beyond_the_log_are_refused(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=10, every=5)
    with pytest.raises(ValueError, match="10 entries"):
        log.inclusion_proof(3, 11)
    with pytest.raises(ValueError, match="10 entries"):
        log.consistency_proof(5, 11)
    with pytest.raises(ValueError, match="out of range"):
        log.inclusion_proof(10, 10)
    with store.engine.begin() as conn:
        conn.execute(disclosure_log.delete().where(disclosure_log.c.seq == 4))
    with pytest.raises(ValueError, match="entry 4 is missing"):
        AuditLog(store).inclusion_proof(3, 10)


def test_the_node_cache_stays_bounded() -> None:
    cache = tiles.NodeCache(size=3)
    for i in range(10):
        cache.put((6, i), bytes([i]) * 32)
    assert len(cache) == 3
    assert cache.get((6, 0)) is None
    assert cache.get((6, 9)) == bytes([9]) * 32


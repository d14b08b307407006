"""RFC 6962 Merkle tree maths (core.ledger.merkle): published vectors, tampering, properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ledger.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --------------------------------------------------------------------------- published vectors
#
# The standard RFC 6962 test tree used by Certificate Transparency. Copied (not derived) from
#   transparency-dev/merkle  testonly/constants.go   (LeafInputs, NodeHashes, RootHashes)
#   transparency-dev/merkle  proof/verify_test.go    (inclusionProofs, consistencyProofs, roots)
# and identical to google/certificate-transparency-go merkletree/merkle_verifier_test.go
# (getInputs, getRoots, getInclusionTestVector, getConsistencyProofs).
# Upstream indexes inclusion leaves from 1; the tables below are converted to 0-based indices.


def _h(s: str) -> bytes:
    return bytes.fromhex(s)


LEAF_INPUTS: list[bytes] = [
    _h(""),
    _h("00"),
    _h("10"),
    _h("2021"),
    _h("3031"),
    _h("40414243"),
    _h("5051525354555657"),
    _h("606162636465666768696a6b6c6d6e6f"),
]

# Level 0 of NodeHashes(): the leaf hashes of LEAF_INPUTS.
LEAF_HASHES: list[bytes] = [
    _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    _h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    _h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    _h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    _h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    _h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
]

# RootHashes(): index = tree size, 0..8.
ROOTS: list[bytes] = [
    _h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    _h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    _h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    _h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    _h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    _h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# NodeHashes() levels 1..3 (interior nodes of the complete 8-leaf tree).
LEVEL1: list[bytes] = [
    _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
]
LEVEL2: list[bytes] = [
    _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
]

# (0-based leaf index, tree size, audit path) — inclusionProofs {1,8}, {6,8}, {3,3}, {2,5}.
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (
        0,
        8,
        [
            _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        3,
        [_h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
    ),
    (
        1,
        5,
        [
            _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# (first size, second size, proof) — consistencyProofs {1,1}, {1,8}, {6,8}, {2,5}, {6,7}.
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            _h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

SOME_HASH = _h("abacaba000000000000000000000000000000000000000000060061e00123456")


def _flip(data: bytes, byte: int = 0, mask: int = 0x08) -> bytes:
    out = bytearray(data)
    out[byte] ^= mask
    return bytes(out)


# --------------------------------------------------------------------------- hashing & roots


def test_empty_root_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == ROOTS[0]


@pytest.mark.parametrize("i", range(8))
def test_leaf_hash_matches_published(i: int) -> None:
    assert leaf_hash(LEAF_INPUTS[i]) == LEAF_HASHES[i]


def test_node_hash_matches_published_interior_nodes() -> None:
    for i in range(4):
        assert node_hash(LEAF_HASHES[2 * i], LEAF_HASHES[2 * i + 1]) == LEVEL1[i]
    for i in range(2):
        assert node_hash(LEVEL1[2 * i], LEVEL1[2 * i + 1]) == LEVEL2[i]
    assert node_hash(LEVEL2[0], LEVEL2[1]) == ROOTS[8]


@pytest.mark.parametrize("size", range(9))
def test_root_matches_published(size: int) -> None:
    hashes = [leaf_hash(d) for d in LEAF_INPUTS[:size]]
    assert root(hashes) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_merkle_log_matches_published(size: int) -> None:
    log = MerkleLog()
    for d in LEAF_INPUTS[:size]:
        log.append(leaf_hash(d))
    assert log.size == size
    assert log.root() == ROOTS[size]


def test_no_odd_node_duplication() -> None:
    # A Bitcoin-style tree would hash (c, c) for 3 leaves; RFC 6962 promotes c unchanged.
    a, b, c = LEAF_HASHES[:3]
    assert root([a, b, c]) == node_hash(node_hash(a, b), c) == ROOTS[3]
    assert root([a, b, c]) != node_hash(node_hash(a, b), node_hash(c, c))


def test_root_rejects_malformed_leaf_hashes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root([b"short"])


# --------------------------------------------------------------------------- inclusion vectors


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_matches_published(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(LEAF_HASHES[:size], index) == proof


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_published_inclusion_proof_verifies(index: int, size: int, proof: list[bytes]) -> None:
    verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])


def _inclusion_mutations(
    index: int, size: int, proof: list[bytes], root_: bytes, leaf: bytes
) -> list[tuple[str, tuple[bytes, int, int, list[bytes], bytes]]]:
    """Every way upstream (and we) corrupt an inclusion proof; each must be rejected."""
    cases: list[tuple[str, tuple[bytes, int, int, list[bytes], bytes]]] = [
        ("index - 1", (leaf, index - 1, size, proof, root_)),
        ("index + 1", (leaf, index + 1, size, proof, root_)),
        ("index ^ 2", (leaf, index ^ 2, size, proof, root_)),
        ("index = size", (leaf, size, size, proof, root_)),
        ("size * 2", (leaf, index, size * 2, proof, root_)),
        ("size / 2", (leaf, index, size // 2, proof, root_)),
        ("size 0", (leaf, index, 0, proof, root_)),
        ("wrong leaf", (leaf_hash(b"WrongLeaf"), index, size, proof, root_)),
        ("short leaf", (b"WrongLeaf", index, size, proof, root_)),
        ("empty root", (leaf, index, size, proof, EMPTY_ROOT)),
        ("random root", (leaf, index, size, proof, SOME_HASH)),
        ("flipped root", (leaf, index, size, proof, _flip(root_))),
        ("trailing garbage", (leaf, index, size, [*proof, b""], root_)),
        ("trailing root", (leaf, index, size, [*proof, root_], root_)),
        ("trailing hash", (leaf, index, size, [*proof, SOME_HASH], root_)),
        ("preceding garbage", (leaf, index, size, [b"", *proof], root_)),
        ("preceding root", (leaf, index, size, [root_, *proof], root_)),
    ]
    for i in range(len(proof)):
        for byte in (0, 15, 31):
            wrong = list(proof)
            wrong[i] = _flip(wrong[i], byte, 0x08)
            cases.append((f"proof[{i}] byte {byte} flipped", (leaf, index, size, wrong, root_)))
        short = list(proof)
        short[i] = proof[i][:-1]
        cases.append((f"proof[{i}] truncated to 31 bytes", (leaf, index, size, short, root_)))
    if proof:
        cases.append(("removed last", (leaf, index, size, proof[:-1], root_)))
        cases.append(("removed first", (leaf, index, size, proof[1:], root_)))
    if len(proof) > 1:
        cases.append(("inserted", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root_)))
        swapped = [proof[1], proof[0], *proof[2:]]
        cases.append(("swapped siblings", (leaf, index, size, swapped, root_)))
        cases.append(("reversed", (leaf, index, size, proof[::-1], root_)))
    return cases


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_corrupted_inclusion_proofs_rejected(index: int, size: int, proof: list[bytes]) -> None:
    accepted = []
    for desc, args in _inclusion_mutations(index, size, proof, ROOTS[size], LEAF_HASHES[index]):
        try:
            verify_inclusion(*args)
        except ProofError:
            continue
        accepted.append(desc)
    assert accepted == []


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (8, 8), (-1, 8), (0, -1)]
)
def test_inclusion_bad_index_or_size_rejected(index: int, size: int) -> None:
    for root_ in (EMPTY_ROOT, SOME_HASH, ROOTS[1]):
        with pytest.raises(ProofError):
            verify_inclusion(LEAF_HASHES[0], index, size, [], root_)


def test_single_leaf_tree_has_empty_proof() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)
    with pytest.raises(ProofError, match=r"fewer|more|root"):
        verify_inclusion(h, 0, 1, [h], h)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(b"", 0, 1, [], h)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(h, 0, 1, [], b"")


def test_inclusion_proof_rejects_non_sequence_proof() -> None:
    with pytest.raises(ProofError, match="sequence"):
        verify_inclusion(LEAF_HASHES[0], 0, 2, LEAF_HASHES[1], ROOTS[2])  # type: ignore[arg-type]


def test_inclusion_proof_generation_rejects_bad_index() -> None:
    for index in (-1, 8, 9):
        with pytest.raises(ValueError, match="out of range"):
            inclusion_proof(LEAF_HASHES, index)
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof([], 0)


def test_inclusion_proof_for_other_tree_size_rejected() -> None:
    # The audit path of leaf 1 in the 5-leaf tree does not prove it in any other genuine tree.
    proof5 = inclusion_proof(LEAF_HASHES[:5], 1)
    verify_inclusion(LEAF_HASHES[1], 1, 5, proof5, ROOTS[5])
    for size in (2, 3, 4, 6, 7, 8):
        with pytest.raises(ProofError):
            verify_inclusion(LEAF_HASHES[1], 1, size, proof5, ROOTS[size])
    # ... nor does the 8-leaf path prove it in the 5-leaf tree.
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[1], 1, 5, inclusion_proof(LEAF_HASHES, 1), ROOTS[5])


def test_tree_size_is_bound_by_the_checkpoint_not_the_proof() -> None:
    """Documented limit (inherent to RFC 6962, same in transparency-dev/merkle).

    A proof only fixes the *shape* of the path. Leaf 1 has the same path shape in trees of
    sizes 5 to 8, so the size-5 proof also "verifies" against e.g. (6, ROOTS[5]) — a pair no
    honest log ever publishes. Callers must take (tree_size, root) together from one signed
    checkpoint; the sizes that change the shape are rejected regardless.
    """
    proof5 = inclusion_proof(LEAF_HASHES[:5], 1)
    for size in (6, 7, 8):
        verify_inclusion(LEAF_HASHES[1], 1, size, proof5, ROOTS[5])
    for size in (2, 3, 4, 9, 10, 16):
        with pytest.raises(ProofError):
            verify_inclusion(LEAF_HASHES[1], 1, size, proof5, ROOTS[5])


# --------------------------------------------------------------------------- consistency vectors


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_matches_published(first: int, second: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAF_HASHES, first, second) == proof


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_proof_verifies(first: int, second: int, proof: list[bytes]) -> None:
    verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


def _consistency_mutations(
    first: int, second: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> list[tuple[str, tuple[int, int, bytes, bytes, list[bytes]]]]:
    cases: list[tuple[str, tuple[int, int, bytes, bytes, list[bytes]]]] = [
        ("first - 1", (first - 1, second, r1, r2, proof)),
        ("first + 1", (first + 1, second, r1, r2, proof)),
        ("first ^ 2", (first ^ 2, second, r1, r2, proof)),
        ("second * 2", (first, second * 2, r1, r2, proof)),
        ("second / 2", (first, second // 2, r1, r2, proof)),
        ("first > second", (second, first, r2, r1, proof)),
        ("wrong root1", (first, second, SOME_HASH, r2, proof)),
        ("wrong root2", (first, second, r1, SOME_HASH, proof)),
        ("short root1", (first, second, b"WrongRoot", r2, proof)),
        ("flipped root1", (first, second, _flip(r1, 31), r2, proof)),
        ("flipped root2", (first, second, r1, _flip(r2, 31), proof)),
        ("swapped roots", (first, second, r2, r1, proof)),
        ("empty proof", (first, second, r1, r2, [])),
        ("trailing garbage", (first, second, r1, r2, [*proof, b""])),
        ("trailing root1", (first, second, r1, r2, [*proof, r1])),
        ("trailing root2", (first, second, r1, r2, [*proof, r2])),
        ("preceding garbage", (first, second, r1, r2, [b"", *proof])),
        ("preceding root1", (first, second, r1, r2, [r1, *proof])),
        ("preceding root2", (first, second, r1, r2, [r2, *proof])),
        ("preceding proof[0]", (first, second, r1, r2, [proof[0], *proof])),
        ("truncated", (first, second, r1, r2, proof[:-1])),
        ("removed first", (first, second, r1, r2, proof[1:])),
    ]
    for i in range(len(proof)):
        for byte in (0, 15, 31):
            wrong = list(proof)
            wrong[i] = _flip(wrong[i], byte, 0x10)
            cases.append((f"proof[{i}] byte {byte} flipped", (first, second, r1, r2, wrong)))
    if len(proof) > 1:
        swapped = [proof[1], proof[0], *proof[2:]]
        cases.append(("swapped elements", (first, second, r1, r2, swapped)))
        cases.append(("reversed", (first, second, r1, r2, proof[::-1])))
    return cases


@pytest.mark.parametrize(("first", "second", "proof"), [v for v in CONSISTENCY_VECTORS if v[2]])
def test_corrupted_consistency_proofs_rejected(first: int, second: int, proof: list[bytes]) -> None:
    accepted = []
    for desc, args in _consistency_mutations(first, second, ROOTS[first], ROOTS[second], proof):
        try:
            verify_consistency(*args)
        except ProofError:
            continue
        accepted.append(desc)
    assert accepted == []


def test_consistency_edge_cases() -> None:
    # Equal sizes: empty proof, equal roots.
    for size in range(1, 9):
        verify_consistency(size, size, ROOTS[size], ROOTS[size], [])
        with pytest.raises(ProofError, match="roots differ"):
            verify_consistency(size, size, ROOTS[size], SOME_HASH, [])
        with pytest.raises(ProofError, match="must be empty"):
            verify_consistency(size, size, ROOTS[size], ROOTS[size], [EMPTY_ROOT])
    # The empty tree is a prefix of every tree, with an empty proof and the empty root.
    for size in range(9):
        verify_consistency(0, size, EMPTY_ROOT, ROOTS[size], [])
        with pytest.raises(ProofError, match="empty-tree root"):
            verify_consistency(0, size, SOME_HASH, ROOTS[size], [])
        with pytest.raises(ProofError, match="must be empty"):
            verify_consistency(0, size, EMPTY_ROOT, ROOTS[size], [EMPTY_ROOT])
    # Time travel.
    for first, second in ((1, 0), (2, 1), (8, 5)):
        with pytest.raises(ProofError, match="larger"):
            verify_consistency(first, second, ROOTS[first], ROOTS[second], [])
    # A non-trivial pair with no proof.
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])
    with pytest.raises(ProofError):
        verify_consistency(-1, 2, ROOTS[1], ROOTS[2], [])


def test_consistency_proof_for_other_sizes_rejected() -> None:
    proof = consistency_proof(LEAF_HASHES, 3, 7)
    verify_consistency(3, 7, ROOTS[3], ROOTS[7], proof)
    for first, second in ((3, 6), (3, 8), (2, 7), (4, 7), (5, 7)):
        with pytest.raises(ProofError):
            verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


def test_consistency_proof_generation_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="larger"):
        consistency_proof(LEAF_HASHES, 5, 4)
    with pytest.raises(ValueError, match="exceeds"):
        consistency_proof(LEAF_HASHES, 5, 9)
    with pytest.raises(ValueError, match="non-negative"):
        consistency_proof(LEAF_HASHES, -1, 4)
    assert consistency_proof(LEAF_HASHES, 0, 8) == []
    assert consistency_proof(LEAF_HASHES, 8, 8) == []


# --------------------------------------------------------------------------- MerkleLog


def test_merkle_log_frontier_round_trip() -> None:
    log = MerkleLog()
    assert log.root() == EMPTY_ROOT
    for i, h in enumerate(LEAF_HASHES[:7]):
        assert log.append(h) == i
    assert log.frontier == (LEVEL2[0], LEVEL1[2], LEAF_HASHES[6])  # CompactTrees()[7]
    copy = MerkleLog.from_frontier(log.size, log.frontier)
    copy.append(LEAF_HASHES[7])
    assert copy.root() == ROOTS[8]
    assert copy.frontier == (ROOTS[8],)


def test_merkle_log_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="frontier hashes"):
        MerkleLog.from_frontier(7, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleLog().append(b"entry")


# --------------------------------------------------------------------------- properties


def _tree(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


def _reference_root(hashes: list[bytes]) -> bytes:
    """Independent bottom-up MTH: pair left to right, carry an odd last node up unchanged."""
    if not hashes:
        return EMPTY_ROOT
    level = hashes
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def test_exhaustive_small_trees() -> None:
    # Every inclusion proof and every consistency proof of every tree up to 20 leaves.
    hashes = _tree(20)
    roots = [root(hashes[:n]) for n in range(21)]
    for n in range(1, 21):
        assert roots[n] == _reference_root(hashes[:n])
        for i in range(n):
            verify_inclusion(hashes[i], i, n, inclusion_proof(hashes[:n], i), roots[n])
        for m in range(n + 1):
            verify_consistency(m, n, roots[m], roots[n], consistency_proof(hashes, m, n))


sizes = st.integers(min_value=1, max_value=200)


@settings(max_examples=25, deadline=None)
@given(n=sizes, salt=st.integers(0, 2**16))
def test_every_inclusion_proof_verifies(n: int, salt: int) -> None:
    hashes = _tree(n, salt)
    r = root(hashes)
    assert r == _reference_root(hashes)
    for i in range(n):
        verify_inclusion(hashes[i], i, n, inclusion_proof(hashes, i), r)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes, salt=st.integers(0, 2**16))
def test_consistency_proofs_verify(data: st.DataObject, n: int, salt: int) -> None:
    hashes = _tree(n, salt)
    m = data.draw(st.integers(0, n), label="m")
    proof = consistency_proof(hashes, m, n)
    verify_consistency(m, n, root(hashes[:m]), root(hashes), proof)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(2, 200))
def test_tampered_proofs_rejected(data: st.DataObject, n: int) -> None:
    hashes = _tree(n)
    r = root(hashes)
    i = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(hashes, i)
    j = data.draw(st.integers(0, len(proof) - 1), label="element")
    byte = data.draw(st.integers(0, 31), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    tampered = list(proof)
    tampered[j] = _flip(proof[j], byte, 1 << bit)
    mutations: list[Callable[[], None]] = [
        lambda: verify_inclusion(hashes[i], i, n, tampered, r),
        lambda: verify_inclusion(hashes[i], i, n, proof[:-1], r),
        lambda: verify_inclusion(hashes[i], i, n, [*proof, proof[-1]], r),
        lambda: verify_inclusion(hashes[i], (i + 1) % n, n, proof, r),
        lambda: verify_inclusion(hashes[(i + 1) % n], i, n, proof, r),
    ]
    m = data.draw(st.integers(1, n - 1), label="m")
    cproof = consistency_proof(hashes, m, n)
    rm = root(hashes[:m])
    if cproof:
        k = data.draw(st.integers(0, len(cproof) - 1), label="celement")
        ctampered = list(cproof)
        ctampered[k] = _flip(cproof[k], byte, 1 << bit)
        mutations += [
            lambda: verify_consistency(m, n, rm, r, ctampered),
            lambda: verify_consistency(m, n, rm, r, cproof[:-1]),
            lambda: verify_consistency(m, n, rm, r, [*cproof, cproof[-1]]),
            lambda: verify_consistency(m, n, _flip(rm, byte, 1 << bit), r, cproof),
            lambda: verify_consistency(m, n, rm, _flip(r, byte, 1 << bit), cproof),
        ]
    for check in mutations:
        with pytest.raises(ProofError):
            check()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 200), salt=st.integers(0, 2**16))
def test_merkle_log_matches_root(n: int, salt: int) -> None:
    hashes = _tree(n, salt)
    log = MerkleLog()
    for k, h in enumerate(hashes):
        log.append(h)
        if k % 17 == 0:
            assert log.root() == root(hashes[: k + 1])
    assert log.size == n
    assert len(log.frontier) == n.bit_count()
    assert log.root() == root(hashes)

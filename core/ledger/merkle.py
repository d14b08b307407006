"""RFC 6962 (Certificate Transparency) Merkle tree maths for the disclosure log.

Pure functions, no I/O and no state beyond :class:`MerkleLog`:

* :func:`leaf_hash` / :func:`node_hash` — the domain-separated hashes of RFC 6962 §2.1
  (``SHA-256(0x00 || entry)`` and ``SHA-256(0x01 || left || right)``).
* :func:`root` — the Merkle Tree Hash (MTH) of a list of leaf hashes (RFC 6962 §2.1).
* :func:`inclusion_proof` / :func:`verify_inclusion` — audit paths (RFC 6962 §2.1.1,
  verification per RFC 9162 §2.1.3.2).
* :func:`consistency_proof` / :func:`verify_consistency` — consistency proofs
  (RFC 6962 §2.1.2, verification per RFC 9162 §2.1.4.2).
* :class:`MerkleLog` — an append-only compact range ("frontier") giving the root in
  O(log n) memory and O(log n) work per append.

All functions take *leaf hashes*, not raw entries: the caller hashes each canonical entry
with :func:`leaf_hash` once and stores the result.

Verification functions never trust the proof: sizes, index, every hash length and the
exact number of proof elements are all checked. On any failure they raise
:class:`ProofError` with a human-readable reason; they return ``None`` on success, so a
forgotten return value can never turn a failed check into a pass.

What a proof does *not* bind: the tree size only fixes the shape of the hash path, so a
proof for size ``n`` can also verify against the pair ``(n', root_n)`` when ``n'`` gives the
same shape (e.g. leaf 1 in sizes 5..8). No honest log publishes such a pair; callers must
always take ``(tree_size, root)`` together from one signed checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleLog",
    "ProofError",
    "ProofTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH of the empty tree: ``SHA-256("")`` (RFC 6962 §2.1)."""


class ProofError(ValueError):
    """An inclusion or consistency proof did not verify; ``str(err)`` says why."""


# --------------------------------------------------------------------------- hashing


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (requires ``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(leaf_hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(leaf_hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash {i} is not {HASH_SIZE} bytes")


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --------------------------------------------------------------------------- tree hash


class ProofTree:
    """RFC 6962 tree hashes and proofs over a fixed list of leaf hashes, for any prefix size.

    Subtree hashes of 8 leaves or more are memoised, so that many proofs over one list (an
    export proves every entry) cost O(n) hashes in total instead of O(n) each. The module
    functions below are this class applied once.
    """

    __slots__ = ("_memo", "leaves")

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH of ``leaves[lo:hi]`` for ``hi - lo >= 1``, without copying slices."""
        n = hi - lo
        if n == 1:
            return self.leaves[lo]
        if n < 8:  # at most 6 hashes: cheaper to redo than to keep (memory stays ~n/4)
            k = _split(n)
            return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))
        key = (lo, hi)
        value = self._memo.get(key)
        if value is None:
            k = _split(n)
            value = node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))
            self._memo[key] = value
        return value

    def root(self, size: int) -> bytes:
        """MTH of the first ``size`` leaves (``EMPTY_ROOT`` for 0)."""
        return EMPTY_ROOT if size == 0 else self.mth(0, size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """RFC 6962 §2.1.1 PATH(index, D[0:size]), leaf-to-root order."""
        if not (_is_size(index) and _is_size(size)) or not index < size <= len(self.leaves):
            raise ValueError(f"leaf index {index!r} out of range for tree size {size!r}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self.mth(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.mth(lo, lo + k))
                lo = lo + k
        path.reverse()
        return path

    def consistency(self, first: int, second: int) -> list[bytes]:
        """RFC 6962 §2.1.2 PROOF(first, D[0:second]); empty when ``first`` is 0 or equal."""
        if not (_is_size(first) and _is_size(second)):
            raise ValueError("tree sizes must be non-negative integers")
        if first > second:
            raise ValueError(f"first size {first} is larger than second size {second}")
        if second > len(self.leaves):
            raise ValueError(f"second size {second} exceeds the {len(self.leaves)} leaves given")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        """RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], complete)."""
        n = hi - lo
        if m == n:
            return [] if complete else [self.mth(lo, hi)]
        k = _split(n)
        if m <= k:
            proof = self._subproof(m, lo, lo + k, complete)
            proof.append(self.mth(lo + k, hi))
        else:
            proof = self._subproof(m - k, lo + k, hi, False)
            proof.append(self.mth(lo, lo + k))
        return proof


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of ``leaf_hashes`` (RFC 6962 §2.1).

    ``MTH({}) = SHA-256("")``; ``MTH({d}) = d`` (``d`` is already a leaf hash);
    otherwise split at the largest power of two ``k < n`` and hash
    ``MTH(D[0:k])`` with ``MTH(D[k:n])``. Odd nodes are never duplicated.
    """
    _check_hashes(leaf_hashes)
    return ProofTree(leaf_hashes).root(len(leaf_hashes))


# --------------------------------------------------------------------------- proofs


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the audit path for leaf ``index`` in the tree of ``leaf_hashes``.

    The path is ordered from the leaf's sibling up to the child of the root, as in
    RFC 6962 §2.1.1. Raises ``ValueError`` if ``index`` is not in ``[0, len)``.
    """
    _check_hashes(leaf_hashes)
    return ProofTree(leaf_hashes).inclusion(index, len(leaf_hashes))


def consistency_proof(
    leaf_hashes: Sequence[bytes], first_size: int, second_size: int
) -> list[bytes]:
    """Return the proof that the tree of size ``first_size`` is a prefix of ``second_size``.

    ``leaf_hashes`` must hold at least ``second_size`` leaves (only the first
    ``second_size`` are used). Per RFC 6962 §2.1.2 the proof is empty when
    ``first_size == second_size``; it is also empty when ``first_size == 0`` (every tree
    extends the empty tree). Raises ``ValueError`` unless
    ``0 <= first_size <= second_size <= len(leaf_hashes)``.
    """
    _check_hashes(leaf_hashes)
    return ProofTree(leaf_hashes).consistency(first_size, second_size)


# --------------------------------------------------------------------------- verification


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")
    return value


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    if isinstance(proof, bytes | str):
        raise ProofError("proof must be a sequence of hashes, not a single byte string")
    return [_check_hash(p, f"proof element {i}") for i, p in enumerate(proof)]


def _eq(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Implements RFC 9162 §2.1.3.2. Returns ``None`` on success and raises
    :class:`ProofError` otherwise (index outside ``[0, tree_size)``, empty tree, malformed
    hashes, too few or too many proof elements, or a root mismatch).
    """
    if not (_is_size(index) and _is_size(tree_size)):
        raise ProofError("index and tree size must be non-negative integers")
    if tree_size == 0:
        raise ProofError("the empty tree has no leaves")
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is not below tree size {tree_size}")
    r = _check_hash(leaf_hash, "leaf hash")
    expected = _check_hash(root, "root")
    path = _check_proof(proof)

    fn, sn = index, tree_size - 1
    for p in path:
        if sn == 0:
            raise ProofError("proof has more elements than the tree size allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof has fewer elements than the tree size requires")
    if not _eq(r, expected):
        raise ProofError("computed root does not match the expected root")


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree (``first_size``, ``first_root``) is a prefix of the second tree.

    Implements RFC 9162 §2.1.4.2 for ``0 < first_size < second_size``. The edge cases are
    fixed as follows: ``first_size == second_size`` needs an empty proof and equal roots;
    ``first_size == 0`` needs an empty proof and ``first_root == EMPTY_ROOT`` (the empty
    tree is a prefix of every tree). Returns ``None`` on success, raises
    :class:`ProofError` otherwise.
    """
    if not (_is_size(first_size) and _is_size(second_size)):
        raise ProofError("tree sizes must be non-negative integers")
    if first_size > second_size:
        raise ProofError(f"first size {first_size} is larger than second size {second_size}")
    first = _check_hash(first_root, "first root")
    second = _check_hash(second_root, "second root")
    path = _check_proof(proof)

    if first_size == 0:
        if path:
            raise ProofError("a proof from the empty tree must be empty")
        if not _eq(first, EMPTY_ROOT):
            raise ProofError("first root is not the empty-tree root")
        return
    if first_size == second_size:
        if path:
            raise ProofError("a proof between equal tree sizes must be empty")
        if not _eq(first, second):
            raise ProofError("roots differ for equal tree sizes")
        return
    if not path:
        raise ProofError("proof is empty")

    if first_size & (first_size - 1) == 0:  # power of two: the first root is a proof node
        path.insert(0, first)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof has more elements than the tree sizes allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof has fewer elements than the tree sizes require")
    if not _eq(fr, first):
        raise ProofError("proof does not reproduce the first root")
    if not _eq(sr, second):
        raise ProofError("proof does not reproduce the second root")


# --------------------------------------------------------------------------- incremental


class MerkleLog:
    """Append-only Merkle tree state kept as a compact range (the "frontier").

    Only the roots of the perfect subtrees that make up the tree are held — one per set
    bit of :attr:`size`, largest (leftmost) first — so memory is O(log n), :meth:`append`
    is amortised O(1) and at worst O(log n) hashes, and :meth:`root` is O(log n).
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        """Create an empty log."""
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> MerkleLog:
        """Rebuild a log from a persisted :attr:`size` and :attr:`frontier`."""
        if not _is_size(size):
            raise ValueError("size must be a non-negative integer")
        _check_hashes(frontier)
        if len(frontier) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier hashes")
        log = cls()
        log._size = size
        log._frontier = list(frontier)
        return log

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees covering the tree, left to right."""
        return tuple(self._frontier)

    def append(self, leaf_hash: bytes,
               completed: list[tuple[int, int, bytes]] | None = None) -> int:
        """Append a leaf hash and return its index.

        With ``completed``, every perfect subtree this leaf completes is appended to it as
        ``(level, index, hash)``: the subtree of ``2**level`` leaves covering
        ``[index * 2**level, (index + 1) * 2**level)`` (level 1 and up; the leaf itself is not
        reported). These are the nodes :mod:`core.ledger.tiles` stores."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash is not {HASH_SIZE} bytes")
        index = self._size
        h = leaf_hash
        s = index
        level = 0
        while s & 1:  # every trailing 1-bit is a perfect subtree that now gets a sibling
            h = node_hash(self._frontier.pop(), h)
            s >>= 1
            level += 1
            if completed is not None:
                completed.append((level, ((index + 1) >> level) - 1, h))
        self._frontier.append(h)
        self._size = index + 1
        return index

    def root(self) -> bytes:
        """Return the current Merkle Tree Hash (equal to :func:`root` over all leaves)."""
        if not self._frontier:
            return EMPTY_ROOT
        r = self._frontier[-1]
        for h in reversed(self._frontier[:-1]):
            r = node_hash(h, r)
        return r

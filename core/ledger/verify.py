"""Incremental verification of the disclosure log, from the last verified checkpoint.

:func:`verify_log` is what the API (``GET /api/v1/disclosures/verify``) and the security
officer's integrity page run: a full pass by default (every entry, as
:func:`~core.ledger.auditlog.verify_store`, which ``ssp-hub audit verify`` runs), or, asked
for (``?incremental=true``, the page's ``?trinvis=1``), an incremental one. After an intact
pass it remembers (table ``log_verified``) the newest signed checkpoint it verified: its size
and root, the tree's frontier at that size and the number of erased entries below it. The
incremental pass starts from that frontier and reads only the entries appended since: each is
checked as in the full pass (bytes against leaf hash, position, columns, subject index, no
CPR), the tree is extended leaf by leaf, every new checkpoint's signature is checked and its
root must be the extended tree's root at its size. Since the extension starts from the
remembered frontier, a new root that matches also proves the new checkpoint consistent with
the remembered one (the log only grew since).

The remembered state lives in the same database an attacker might write, so it is trusted
only when (1) its MAC verifies under a key derived (HKDF) from the checkpoint signing key's
seed, which the database does not hold; (2) a checkpoint of that size exists, its signature
verifies and its root is the remembered root; (3) the remembered frontier hashes to that
root. A state that fails (1)-(3) is reported as a problem (``verified state``, ``modified``)
and a full pass runs instead. Deleting the state, or putting back an older genuine one, only
makes the next pass longer. Without the signing seed (a process that does not hold it),
nothing is remembered and every pass is full.

What an incremental pass does **not** prove: that entries below the remembered checkpoint are
unchanged since they were verified. Their leaves are bound by the signed roots, so a changed
leaf shows in the next full pass, but the incremental pass does not re-read them, nor their
filter columns, subject index rows or bodies (an erasure of an old entry is counted from the
erasure entries appended since). That is why the full pass stays the default, and why it
should run regularly where the incremental one is used for speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.ledger import merkle
from core.ledger.auditlog import (
    VERIFY_CHUNK,
    LogScan,
    Problem,
    VerifyReport,
    check_signatures,
    erased_by,
    finish_scan,
    read_head,
    verify_checkpoint,
    verify_store,
)
from core.privacy.keys import KeyRing
from core.store import Store, disclosure_log, insert_ignore, log_verified
from schemas.disclosures import Checkpoint, EntryKind, read_entry

_MAC_INFO = b"ssp-hub disclosure-log verified-state v1"


@dataclass(frozen=True)
class VerifiedState:
    """The last verified checkpoint: where an incremental pass resumes."""

    tree_size: int
    root_hash: str
    frontier: tuple[bytes, ...]
    erased: int  # erased entries below tree_size whose erasure an entry below it records
    key_id: str
    mac: str = ""

    def message(self) -> bytes:
        return b"\n".join([_MAC_INFO, str(self.tree_size).encode(), self.root_hash.encode(),
                           b",".join(h.hex().encode() for h in self.frontier),
                           str(self.erased).encode()])


def _mac_key(ring: KeyRing | None, key_id: str) -> bytes | None:
    """The MAC key for ``key_id`` (``ed25519:<version>``), if the ring holds that seed."""
    if ring is None or not key_id.startswith("ed25519:"):
        return None
    version = key_id.removeprefix("ed25519:")
    seed = ring.ed25519.get(int(version)) if version.isdigit() else None
    if seed is None:
        return None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MAC_INFO).derive(seed)


def _mac(key: bytes, state: VerifiedState) -> str:
    return hmac.new(key, state.message(), hashlib.sha256).hexdigest()


def read_state(store: Store) -> VerifiedState | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(log_verified).where(log_verified.c.id == 1)).first()
    if row is None:
        return None
    try:
        frontier = tuple(bytes.fromhex(h) for h in row.frontier.split(",") if h)
    except ValueError:
        frontier = ()
    return VerifiedState(int(row.tree_size), row.root_hash, frontier, int(row.erased),
                         row.key_id, row.mac)


def remember(store: Store, ring: KeyRing | None, state: VerifiedState,
             now: dt.datetime | None = None) -> bool:
    """Store ``state`` with its MAC under the current signing key; False without a seed."""
    key_id = f"ed25519:{ring.current.get('ed25519')}" if ring is not None else ""
    key = _mac_key(ring, key_id)
    if key is None:
        return False
    state = VerifiedState(state.tree_size, state.root_hash, state.frontier, state.erased,
                          key_id)
    values = {"tree_size": state.tree_size, "root_hash": state.root_hash,
              "frontier": ",".join(h.hex() for h in state.frontier), "erased": state.erased,
              "key_id": key_id, "mac": _mac(key, state),
              "verified_at": now or dt.datetime.now(dt.UTC)}
    with store.engine.begin() as conn:
        if not conn.execute(log_verified.update().where(log_verified.c.id == 1)
                            .values(**values)).rowcount:
            insert_ignore(conn, log_verified, [{"id": 1, **values}], ["id"])
    return True


def state_problem(state: VerifiedState, anchor: Checkpoint | None,
                  keys: Mapping[str, Ed25519PublicKey], ring: KeyRing | None) -> str | None:
    """Why the remembered state cannot be trusted (None: it can). Raises LookupError when its
    MAC key is not in the ring (rotated away): then it is neither trusted nor suspect."""
    key = _mac_key(ring, state.key_id)
    if key is None:
        raise LookupError(state.key_id)
    if not hmac.compare_digest(_mac(key, state), state.mac):
        return "its MAC does not verify: it was not written by a verification with the hub's key"
    if anchor is None:
        return f"there is no signed checkpoint at its size {state.tree_size}"
    if verify_checkpoint(anchor, keys) is not None:
        return f"the checkpoint at its size {state.tree_size} does not verify"
    if anchor.root_hash != state.root_hash:
        return f"its root differs from the signed checkpoint at size {state.tree_size}"
    try:
        root = merkle.MerkleLog.from_frontier(state.tree_size, state.frontier).root()
    except ValueError:
        return "its frontier does not fit its size"
    if root.hex() != state.root_hash:
        return "its frontier does not hash to its root"
    return None


def _old_erasures(conn: sa.Connection, scan: LogScan, below: int, upto: int) -> int:
    """Entries below ``below`` whose bodies are gone and that an erasure entry between
    ``below`` and ``upto`` (scanned now) names for the first time."""
    named = {s for s in scan.recorded_at(upto) if s < below}
    if not named:
        return 0
    earlier: set[int] = set()
    for r in conn.execute(sa.select(disclosure_log.c.entry, disclosure_log.c.body).where(
            disclosure_log.c.kind == EntryKind.erasure.value, disclosure_log.c.seq < below)):
        try:
            stored = read_entry(bytes(r.entry), None if r.body is None else bytes(r.body))
        except (ValueError, TypeError):
            continue
        if stored.entry is not None:
            earlier |= erased_by(stored.entry)
    fresh = sorted(named - earlier)
    count = 0
    for i in range(0, len(fresh), 500):
        for r in conn.execute(sa.select(disclosure_log.c.entry, disclosure_log.c.body)
                              .where(disclosure_log.c.seq.in_(fresh[i:i + 500]))):
            try:
                count += read_entry(bytes(r.entry), None if r.body is None
                                    else bytes(r.body), strict=False).erased
            except (ValueError, TypeError):
                continue
    return count


def verify_incremental(store: Store, keys: Mapping[str, Ed25519PublicKey],
                       state: VerifiedState, *, chunk: int = VERIFY_CHUNK
                       ) -> tuple[VerifyReport, VerifiedState | None]:
    """Verify the entries after ``state`` (already found trustworthy, see
    :func:`state_problem`); returns the report and the state to remember (the newest
    checkpoint the pass covered), or None if there is nothing new to remember."""
    report = VerifyReport(mode="incremental")
    with store.engine.connect() as conn:
        cps, state_row, limit = read_head(conn)
        report.checkpoints = len(cps)
        report.latest_checkpoint = cps[-1] if cps else None
        newer = [cp for cp in cps if cp.tree_size > state.tree_size]
        check_signatures(report, newer, keys)
        keep_at = newer[-1].tree_size if newer else -1
        scan = LogScan(report, {cp.tree_size: cp for cp in newer},
                       merkle.MerkleLog.from_frontier(state.tree_size, state.frontier), limit,
                       chunk=chunk, keep_at=keep_at)
        scan.run(conn)
        scan.unrecorded_erasures()
        report.entries = state.tree_size + scan.rows
        old_all = _old_erasures(conn, scan, state.tree_size, limit)
        old_kept = _old_erasures(conn, scan, state.tree_size, keep_at) if newer else 0
        report.erased += state.erased + old_all
        finish_scan(report, conn, scan, cps, state_row)
    if scan.kept is None:
        return report, None
    return report, VerifiedState(keep_at, newer[-1].root_hash, scan.kept,
                                 state.erased + old_kept + scan.kept_erased(), state.key_id)


def _full(store: Store, keys: Mapping[str, Ed25519PublicKey], chunk: int
          ) -> tuple[VerifyReport, VerifiedState | None]:
    with store.engine.connect() as conn:
        cps = read_head(conn)[0]
    keep_at = cps[-1].tree_size if cps else -1
    report = verify_store(store, keys, chunk=chunk, keep_at=keep_at)
    if report.frontier is None or not cps or cps[-1].tree_size != keep_at:
        return report, None
    return report, VerifiedState(keep_at, cps[-1].root_hash, report.frontier,
                                 report.kept_erased, "")


def verify_log(store: Store, keys: Mapping[str, Ed25519PublicKey], ring: KeyRing | None, *,
               full: bool = True, chunk: int = VERIFY_CHUNK) -> VerifyReport:
    """Verify the live log: incrementally from the remembered state when there is a
    trustworthy one (and not ``full``), else in full. An intact pass is remembered."""
    state = None if full else read_state(store)
    problem = None
    if state is not None:
        with store.engine.connect() as conn:
            anchor = next((cp for cp in read_head(conn)[0]
                           if cp.tree_size == state.tree_size), None)
        try:
            problem = state_problem(state, anchor, keys, ring)
        except LookupError:
            state = None  # written under a signing key since rotated away: start afresh
    if state is not None and problem is None:
        report, new_state = verify_incremental(store, keys, state, chunk=chunk)
    else:
        report, new_state = _full(store, keys, chunk)
        if problem is not None:
            report.problems.insert(0, Problem(
                "verified state", "modified",
                f"the remembered state of the last verification cannot be trusted: {problem}; "
                "the whole log was verified instead"))
    if report.ok and new_state is not None:
        remember(store, ring, new_state)
    return report


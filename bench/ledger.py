"""Benchmark of the disclosure log at scale (issue 15, part 4): proofs, RSS, verification.

``python -m bench.ledger --entries 1000000`` builds a log of N entries in a fresh SQLite store
through the sequencer's own code path (:meth:`AuditLog.integrate`, batches of 1000: real
canonical entries, their leaf hashes, the stored subtree hashes, a signed checkpoint every
1000 entries), then measures, each phase in a fresh child process so that its RSS is its own:

* **proofs**: 1000 random (seq, checkpoint size) inclusion proofs and 1000 consistency proofs
  between random checkpoints, through the functions the API calls
  (``AuditLog.leaf_and_inclusion_proof``, ``AuditLog.consistency_proof``), in a process that
  has imported the API (``hub.api``); every proof is checked against its signed root outside
  the timing. RSS of that process after the proofs.
* **full**: the full verification (``verify_log(full=True)``, the API's default, which streams
  10,000 rows per query and remembers the newest verified checkpoint): time, peak RSS.
* **incremental**: 10,000 more entries are appended (through ``integrate`` again), then the
  incremental verification (``verify_log(full=False)``): time, peak RSS.

Prints a table, or with ``--json`` one JSON line. Not a test: it takes minutes at 1M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

QUEUES = ("infohus", "beredskab", "omraade-stege", "omraade-praestoe", "omraade-vordingborg")
NECESSITIES = (
    "Fælles indsats med skole og forvaltning kan forebygge kriminalitet.",
    "Bekymring for unge på havnen i Præstø; gruppen søger væk fra skolen.",
    "Økonomisk udnyttelse og trusler mod en yngre elev i Stege.",
)
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
BATCH = 1000


def _rss_mb() -> float:
    """Resident set size now (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KB on Linux


def entries(start: int, count: int) -> Iterator[Any]:
    """Realistic log entries: disclosures to the queues, a rejection every tenth."""
    from core.ledger.entries import derived_entry_id
    from schemas.disclosures import EntryKind, LogEntry

    for i in range(start, start + count):
        at = T0 + dt.timedelta(seconds=i)
        event = hashlib.sha256(f"bench-{i}".encode()).hexdigest()[:32]
        if i % 10 == 9:
            yield LogEntry(entry_id=derived_entry_id("rejection", event),
                           kind=EntryKind.rejection, at=at, event_id=event, agency="police",
                           unit="Vordingborg Politi", collaboration="SSP",
                           purpose="investigation", reason_code="purpose_not_permitted",
                           rule_ids=["purpose"], policy_version="a" * 64)
            continue
        queue = QUEUES[i % len(QUEUES)]
        yield LogEntry(
            entry_id=derived_entry_id("disclosure", event, queue), kind=EntryKind.disclosure,
            at=at, event_id=event, agency=("school", "social", "police")[i % 3],
            unit="Stege Skole", recipient=queue, recipient_type="queue", collaboration="SSP",
            legal_basis="rpl-115-stk2", purpose="crime_prevention",
            necessity=NECESSITIES[i % len(NECESSITIES)], fields=["category", "area", "severity"],
            rule_ids=["target-group", "area-group"], policy_version="a" * 64,
            pseudonym=f"ssp1:s{i % 5000:05d}",
            related_pseudonyms=[f"ssp1:g{i % 5000:05d}"] if i % 2 else [])


def build(db: Path, ring_file: Path, start: int, count: int) -> float:
    """Append ``count`` entries through the sequencer; returns the seconds taken."""
    from core.ledger.auditlog import AuditLog
    from core.store import Store

    store = Store.open(f"sqlite:///{db}")
    log = AuditLog(store, _ring(ring_file), checkpoint_every=BATCH)
    began = time.perf_counter()
    done = 0
    gen = entries(start, count)
    while done < count:
        batch = [next(gen) for _ in range(min(BATCH, count - done))]
        log.integrate(batch, now=T0 + dt.timedelta(seconds=start + done))
        done += len(batch)
        if done % 100_000 == 0:
            print(f"  built {start + done} entries, {time.perf_counter() - began:.0f} s",
                  file=sys.stderr, flush=True)
    store.close()
    return time.perf_counter() - began


def _ring(ring_file: Path) -> Any:
    from core.privacy.keys import KeyRing, new_keyring

    if ring_file.exists():
        raw = json.loads(ring_file.read_text())
        return KeyRing(hmac={d: {int(v): bytes.fromhex(k) for v, k in ks.items()}
                             for d, ks in raw["hmac"].items()},
                       aes={int(v): bytes.fromhex(k) for v, k in raw["aes"].items()},
                       ed25519={int(v): bytes.fromhex(k) for v, k in raw["ed25519"].items()},
                       current=raw["current"])
    ring = new_keyring()
    ring_file.write_text(json.dumps({
        "hmac": {d: {str(v): k.hex() for v, k in ks.items()} for d, ks in ring.hmac.items()},
        "aes": {str(v): k.hex() for v, k in ring.aes.items()},
        "ed25519": {str(v): k.hex() for v, k in ring.ed25519.items()},
        "current": ring.current}))
    ring_file.chmod(0o600)
    return ring


def _percentiles(samples: Sequence[float], cpu: Sequence[float]) -> dict[str, float]:
    """Wall-clock p50/p99/max, and the CPU time's p50/p99 (on a loaded 2-core machine the
    wall clock's tail is mostly waiting for a core)."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    c = statistics.quantiles(sorted(cpu), n=100, method="inclusive")
    return {"p50_ms": round(q[49] * 1e3, 3), "p99_ms": round(q[98] * 1e3, 3),
            "max_ms": round(ordered[-1] * 1e3, 3), "cpu_p50_ms": round(c[49] * 1e3, 3),
            "cpu_p99_ms": round(c[98] * 1e3, 3)}


def phase_proofs(db: Path, ring_file: Path, count: int, seed: int) -> dict[str, Any]:
    """Inclusion and consistency proofs as the API makes them, each checked (untimed)."""
    import hub.api  # noqa: F401  (the API's libraries in this process, for an honest RSS)
    from core.ledger import merkle
    from core.ledger.auditlog import AuditLog
    from core.store import Store

    store = Store.open(f"sqlite:///{db}", migrate_schema=False)
    log = AuditLog(store)
    roots = {cp.tree_size: bytes.fromhex(cp.root_hash) for cp in log.checkpoints()}
    sizes = sorted(roots)
    rng = random.Random(seed)
    rss_before = _rss_mb()
    inclusion: list[float] = []
    inclusion_cpu: list[float] = []
    for _ in range(count):
        size = rng.choice(sizes)
        seq = rng.randrange(size)
        began, cpu = time.perf_counter(), time.process_time()
        leaf, path = log.leaf_and_inclusion_proof(seq, size)
        inclusion.append(time.perf_counter() - began)
        inclusion_cpu.append(time.process_time() - cpu)
        merkle.verify_inclusion(leaf, seq, size, path, roots[size])
    consistency: list[float] = []
    consistency_cpu: list[float] = []
    for _ in range(count):
        first, second = sorted(rng.sample(sizes, 2))
        began, cpu = time.perf_counter(), time.process_time()
        proof = log.consistency_proof(first, second)
        consistency.append(time.perf_counter() - began)
        consistency_cpu.append(time.process_time() - cpu)
        merkle.verify_consistency(first, second, roots[first], roots[second], proof)
    store.close()
    return {"inclusion": _percentiles(inclusion, inclusion_cpu),
            "consistency": _percentiles(consistency, consistency_cpu),
            "proofs_each": count, "rss_before_mb": round(rss_before, 1),
            "rss_after_mb": round(_rss_mb(), 1), "peak_rss_mb": round(_peak_rss_mb(), 1),
            "node_cache_entries": len(log.nodes)}


def phase_verify(db: Path, ring_file: Path, full: bool) -> dict[str, Any]:
    from core.ledger.auditlog import public_keys
    from core.ledger.verify import verify_log
    from core.store import Store

    ring = _ring(ring_file)
    store = Store.open(f"sqlite:///{db}", migrate_schema=False)
    began, cpu = time.perf_counter(), time.process_time()
    report = verify_log(store, public_keys(ring), ring, full=full)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    store.close()
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "ok": report.ok,
            "mode": report.mode,
            "entries": report.entries, "tree_size": report.tree_size,
            "problems": len(report.problems), "peak_rss_mb": round(_peak_rss_mb(), 1)}


def _child(args: argparse.Namespace, phase: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.ledger", "--phase", phase, "--db", str(args.db),
           "--proofs", str(args.proofs), "--seed", str(args.seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    ring_file = args.db.with_suffix(".ring.json")
    result: dict[str, Any] = {"entries": args.entries, "incremental_entries": args.incremental,
                              "machine": {"cpus": os.cpu_count(),
                                          "load_avg": os.getloadavg()[0]}}
    print(f"building {args.entries} entries in {args.db} …", file=sys.stderr, flush=True)
    seconds = build(args.db, ring_file, 0, args.entries)
    result["build"] = {"seconds": round(seconds, 1),
                       "entries_per_s": round(args.entries / seconds),
                       "db_mb": round(args.db.stat().st_size / 1e6)}
    print("proofs …", file=sys.stderr, flush=True)
    result["proofs"] = _child(args, "proofs")
    print("full verification …", file=sys.stderr, flush=True)
    result["full_verification"] = _child(args, "full")
    print(f"appending {args.incremental} entries, incremental verification …",
          file=sys.stderr, flush=True)
    build(args.db, ring_file, args.entries, args.incremental)
    result["incremental_verification"] = _child(args, "incremental")
    result["machine"]["load_avg_end"] = os.getloadavg()[0]
    return result


def table(r: dict[str, Any]) -> str:
    p, f, i = r["proofs"], r["full_verification"], r["incremental_verification"]
    rows = [
        ("log entries", f"{r['entries']:,}", ""),
        ("build (integrate, batches of 1000)",
         f"{r['build']['seconds']} s", f"{r['build']['entries_per_s']:,}/s, "
                                       f"{r['build']['db_mb']} MB"),
        ("inclusion proof p50 / p99 / max",
         f"{p['inclusion']['p50_ms']} / {p['inclusion']['p99_ms']} / "
         f"{p['inclusion']['max_ms']} ms", f"CPU p50/p99 {p['inclusion']['cpu_p50_ms']} / "
                                           f"{p['inclusion']['cpu_p99_ms']} ms; "
                                           "target p99 <= 20 ms"),
        ("consistency proof p50 / p99 / max",
         f"{p['consistency']['p50_ms']} / {p['consistency']['p99_ms']} / "
         f"{p['consistency']['max_ms']} ms", f"CPU p50/p99 {p['consistency']['cpu_p50_ms']} / "
                                             f"{p['consistency']['cpu_p99_ms']} ms"),
        ("API-path process RSS after proofs", f"{p['rss_after_mb']} MB",
         f"before {p['rss_before_mb']} MB; target <= 300 MB"),
        (f"incremental verification ({r['incremental_entries']:,} new)",
         f"{i['seconds']} s", f"CPU {i['cpu_seconds']} s, {i['mode']}, ok={i['ok']}, "
                              f"peak RSS {i['peak_rss_mb']} MB; target <= 2 s"),
        ("full verification", f"{f['seconds']} s",
         f"CPU {f['cpu_seconds']} s, {f['mode']}, ok={f['ok']}, "
         f"peak RSS {f['peak_rss_mb']} MB"),
        ("load average start / end", f"{r['machine']['load_avg']:.1f} / "
                                     f"{r['machine']['load_avg_end']:.1f}", "2 vCPUs"),
    ]
    width = max(len(a) for a, _, _ in rows)
    return "\n".join(f"{a:<{width}}  {b:>28}  {c}" for a, b, c in rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--incremental", type=int, default=10_000,
                        help="entries appended before the incremental verification")
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--db", type=Path, default=None,
                        help="the SQLite file to build (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="one JSON line")
    parser.add_argument("--phase", choices=["proofs", "full", "incremental"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.entries < 2 * BATCH:
        parser.error(f"--entries must be at least {2 * BATCH}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.phase is not None:
        ring_file = args.db.with_suffix(".ring.json")
        out = (phase_proofs(args.db, ring_file, args.proofs, args.seed)
               if args.phase == "proofs"
               else phase_verify(args.db, ring_file, full=args.phase == "full"))
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        if args.db is None:
            args.db = Path(tmp) / "hub.db"
        result = run(args)
    print(json.dumps(result, separators=(",", ":")) if args.json else table(result))


if __name__ == "__main__":
    main()

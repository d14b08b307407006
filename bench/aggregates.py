"""Aggregates benchmark (not a test): the governance page and a ``/metrics`` scrape with N
routed concerns, from full scans (before) and from the maintained aggregates (after).

    python -m bench.aggregates [--concerns 200000] [--database URL] [--rounds 5] [--json]

One run, one fresh store (SQLite in a temporary directory unless ``--database`` names an
empty PostgreSQL database): N concerns of ~N/1.6 events (1–3 queues each, payloads of ~600 B
like the router's) over 18 months, plus 5 % rejected events, bulk-inserted; the aggregates
are then built by the migration's backfill (timed too). Each measurement is the median of
``--rounds``:

* **governance**: the three suppressed tables of ``/ui/styring`` (and its CSV).
  Before = ``governance_rows`` as it was (every concern loaded, its JSON parsed);
  after = ``Store.governance_counts`` (the aggregates). The two tables must be equal.
* **metrics**: ``prometheus_client.generate_latest`` over :class:`hub.metrics.StoreCollector`.
  Before = the collector on a store whose ``outcome_counts``, ``routed_latency_histogram``
  and ``queue_counts`` are the old GROUP BY / join queries (kept here for comparison only);
  after = the store as it is. The two expositions must be equal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest

from core.policy.evaluator import Policy, load_policy
from core.store import Store
from core.store import aggregates as agg
from core.store.rows import as_utc
from core.store.tables import ACCEPTING, concerns, events
from hub.metrics import StoreCollector
from hub.web.steering import tables_from_counts

POLICY = Path(__file__).resolve().parents[1] / "core" / "policy" / "policies" / "vordingborg.yaml"
CATEGORIES = ("crime", "substance_abuse", "school_absence", "group_conflict", "insecurity",
              "wellbeing")
AREAS = ("praestoe", "stege", "vordingborg", "other")
START = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def build(store: Store, n_concerns: int, queues: Sequence[str], seed: int = 1) -> int:
    """Bulk-insert ``n_concerns`` concerns and their events; returns the number of events."""
    rnd = random.Random(seed)
    made, i = 0, 0
    ev_rows: list[dict[str, Any]] = []
    c_rows: list[dict[str, Any]] = []
    with store.engine.begin() as conn:
        while made < n_concerns:
            eid = f"bench-{i:08d}"
            i += 1
            accepted = START + dt.timedelta(seconds=rnd.randrange(0, 540 * 86400))
            if rnd.random() < 0.05:
                ev_rows.append(_event(eid, "rejected", accepted))
                continue
            qs = rnd.sample(list(queues), min(len(queues), rnd.choice((1, 1, 2, 3))))
            qs = qs[:n_concerns - made]
            ev_rows.append(_event(eid, "routed", accepted))
            payload = json.dumps({
                "event_id": eid, "occurred_at": accepted.isoformat(),
                "category": rnd.choice(CATEGORIES), "area": rnd.choice(AREAS),
                "severity": "medium", "pseudonym": f"ssp1:{rnd.getrandbits(128):032x}",
                "source": {"agency": "school", "system": "elevadministration", "unit": "x"},
                "description": "b" * 380})
            routed = accepted + dt.timedelta(microseconds=_latency_us(rnd))
            c_rows += [{"event_id": eid, "queue": q, "pseudonym": f"ssp1:{i}",
                        "payload": payload, "occurred_at": accepted, "routed_at": routed}
                       for q in qs]
            made += len(qs)
            if len(c_rows) >= 20000:
                _flush(conn, ev_rows, c_rows)
        _flush(conn, ev_rows, c_rows)
    return i


def _latency_us(rnd: random.Random) -> int:
    """Up to 2 s, whole milliseconds + 300 µs and never a bucket bound's millisecond: the old
    SQLite query (``julianday``) kept milliseconds only, with float noise, so a latency within
    a millisecond of a bound could land in the other bucket there."""
    ms = rnd.randrange(0, 2000)
    while any(ms == round(b * 1000) for b in agg.LATENCY_BOUNDS):
        ms += 1
    return ms * 1000 + 300


def _event(eid: str, status: str, accepted: dt.datetime) -> dict[str, Any]:
    return {"event_id": eid, "agency": "school", "status": status, "queues": "[]",
            "rule_ids": "[]", "policy_version": "bench", "accepted_at": accepted,
            "decided_at": accepted}


def _flush(conn: sa.Connection, ev_rows: list[dict[str, Any]],
           c_rows: list[dict[str, Any]]) -> None:
    if ev_rows:
        conn.execute(events.insert(), ev_rows)
    if c_rows:
        conn.execute(concerns.insert(), c_rows)
    ev_rows.clear()
    c_rows.clear()


# --- before: the full-scan readers as they were (for comparison only) -------------------------

def old_governance_counts(store: Store) -> dict[str, dict[tuple[str, str], int]]:
    rows = []
    with store.engine.connect() as conn:
        for r in conn.execute(sa.select(concerns.c.event_id, concerns.c.queue,
                                        concerns.c.payload, concerns.c.occurred_at)):
            doc = json.loads(r.payload)
            rows.append((r.event_id, r.queue, str(doc.get("category", "")),
                         str(doc.get("area", "")), as_utc(r.occurred_at)))
    per_event = {eid: (cat, area, agg.local_month(at)) for eid, _q, cat, area, at in rows}
    return {"category": dict(Counter((c, m) for c, _a, m in per_event.values())),
            "area": dict(Counter((a, m) for _c, a, m in per_event.values())),
            "queue": dict(Counter((q, agg.local_month(at)) for _e, q, _c, _a, at in rows))}


class FullScanStore(Store):
    """The store with the old per-scrape queries."""

    def outcome_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(events.c.status, sa.func.count())
                                .group_by(events.c.status))
            counts: dict[str, int] = {}
            for status, n in rows:
                key = "pending" if status == ACCEPTING else status
                counts[key] = counts.get(key, 0) + int(n)
            return counts

    def queue_counts(self, queues: Sequence[str] | None) -> dict[str, int]:
        stmt = sa.select(concerns.c.queue, sa.func.count()).group_by(concerns.c.queue)
        with self.engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(stmt)}

    def routed_latency_histogram(self, bounds: Sequence[float]
                                 ) -> tuple[list[int], int, float]:
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


# --- measuring -------------------------------------------------------------------------------

def median_ms(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def scrape(store: Store) -> bytes:
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    return generate_latest(registry)


def without_float_noise(text: bytes) -> list[str]:
    """The exposition minus the latency sum (float rounding differs) and the checkpoint age."""
    return [line for line in text.decode().splitlines()
            if "_sum" not in line and "checkpoint_age" not in line]


def run(url: str, n: int, rounds: int, policy: Policy) -> dict[str, Any]:
    store = Store.open(url)
    t0 = time.perf_counter()
    n_events = build(store, n, list(policy.queues))
    built_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        agg.backfill(conn)
    backfill_s = time.perf_counter() - t0
    old = FullScanStore(store.engine)
    gov_before, old_tables = median_ms(
        lambda: tables_from_counts(old_governance_counts(store), policy), rounds)
    gov_after, new_tables = median_ms(
        lambda: tables_from_counts(store.governance_counts(), policy), rounds)
    assert old_tables == new_tables, "governance tables differ"
    met_before, old_text = median_ms(lambda: scrape(old), rounds)
    met_after, new_text = median_ms(lambda: scrape(store), rounds)
    assert without_float_noise(old_text) == without_float_noise(new_text), "metrics differ"
    store.close()
    return {"concerns": n, "events": n_events, "dialect": store.engine.dialect.name,
            "build_s": round(built_s, 1), "backfill_s": round(backfill_s, 2),
            "governance_ms": {"before": round(gov_before, 1), "after": round(gov_after, 2),
                              "ratio": round(gov_before / gov_after, 1)},
            "metrics_ms": {"before": round(met_before, 1), "after": round(met_after, 2),
                           "ratio": round(met_before / met_after, 1)}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.aggregates")
    parser.add_argument("--concerns", type=int, default=200_000)
    parser.add_argument("--database", default=None, help="an empty database URL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON line only")
    args = parser.parse_args(argv)
    policy = load_policy(POLICY)
    with tempfile.TemporaryDirectory(prefix="bench-agg-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'hub.db'}"
        result = run(url, args.concerns, args.rounds, policy)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['concerns']} concerns, {result['events']} events on {result['dialect']} "
          f"(bulk insert {result['build_s']} s, backfill {result['backfill_s']} s)")
    for name in ("governance_ms", "metrics_ms"):
        r = result[name]
        print(f"{name[:-3]:>10}: before {r['before']} ms, after {r['after']} ms, "
              f"ratio {r['ratio']}x")


if __name__ == "__main__":
    main()

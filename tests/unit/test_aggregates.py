"""Maintained aggregates (core/store/aggregates.py) equal a full recount of events and concerns
after any mix of writes: redelivered batches, concerns re-projected, an event's queues
projected in several batches, outcomes before and after their concerns, claims released,
writers in parallel. Runs on SQLite, and on PostgreSQL too with ``--database postgres``."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from core.store import Retirement, Store, aware
from core.store import aggregates as agg
from core.store.tables import aggregate_events, aggregates, events, policy_decisions

QUEUES = ("infohus", "ssp_team", "politi")
CATEGORIES = ("crime", "insecurity", "wellbeing")
AREAS = ("stege", "praestoe")
BASE = dt.datetime(2026, 1, 31, 22, 30, tzinfo=dt.UTC)  # 23.30 in Copenhagen: still January


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    if request.config.getoption("--database") == "postgres":
        from tests.support.external import start_postgres

        pg = start_postgres()
        opened = Store.open(pg.url)
        try:
            yield opened
        finally:
            opened.close()
            pg.stop()
    else:
        opened = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
        try:
            yield opened
        finally:
            opened.close()


def maintained(store: Store) -> dict[agg.Key, int]:
    with store.engine.connect() as conn:
        return agg.current(conn)


def recounted(store: Store) -> dict[agg.Key, int]:
    with store.engine.connect() as conn:
        return dict(agg.recount(conn))


def scanned_policy_decisions(store: Store) -> list[dict[str, Any]]:
    """The policy page's numbers by a GROUP BY over every event (as it was read before)."""
    stmt = (sa.select(events.c.policy_version, events.c.status, sa.func.count(),
                      sa.func.min(events.c.decided_at), sa.func.max(events.c.decided_at))
            .where(events.c.decided_at.is_not(None))
            .group_by(events.c.policy_version, events.c.status)
            .order_by(events.c.policy_version, events.c.status))
    with store.engine.connect() as conn:
        return [{"policy_version": r[0] or "", "status": r[1], "count": int(r[2]),
                 "first": aware(r[3]), "last": aware(r[4])} for r in conn.execute(stmt)]


class Workload:
    """Events with one to three queues; each produces concern rows and an outcome."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.concerns: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        for i in range(n):
            eid = f"e-{i:04d}"
            occurred = BASE + dt.timedelta(hours=rnd.randrange(0, 24 * 70))
            status = rnd.choice(("routed", "routed", "routed", "rejected", "quarantined"))
            queues = sorted(rnd.sample(QUEUES, rnd.randint(1, 3))) if status == "routed" else []
            payload = json.dumps({"event_id": eid, "category": rnd.choice(CATEGORIES),
                                  "area": rnd.choice(AREAS)})
            self.concerns += [{"event_id": eid, "queue": q, "pseudonym": f"ssp1:p{i % 9}",
                               "payload": payload, "occurred_at": occurred} for q in queues]
            self.outcomes.append({
                "event_id": eid, "agency": "school", "status": status, "queues": queues,
                "reason": None, "rule_ids": [], "policy_version": "v1",
                "ingested_at": BASE - dt.timedelta(seconds=rnd.random() * 3),
                "decided_at": BASE + dt.timedelta(minutes=i)})


def test_aggregates_equal_a_full_recount_after_a_mixed_workload(store: Store) -> None:
    work = Workload(120)
    # The API claims most events first; two claims are released (never acknowledged).
    for o in work.outcomes[:100]:
        assert store.claim_event(o["event_id"], "school", o["ingested_at"])
    for o in work.outcomes[:90]:
        store.mark_accepted(o["event_id"])
    store.release_event(work.outcomes[95]["event_id"])
    store.release_event(work.outcomes[96]["event_id"])
    store.release_event(work.outcomes[3]["event_id"])  # acknowledged already: stays
    assert recounted(store) == maintained(store)

    # Concerns before outcomes for the first half, after them for the second; every batch
    # is delivered twice, and an event's queues arrive in separate batches.
    half = len(work.outcomes) // 2
    first = {o["event_id"] for o in work.outcomes[:half]}
    early = [c for c in work.concerns if c["event_id"] in first]
    late = [c for c in work.concerns if c["event_id"] not in first]
    for batch in (early[0::2], early[1::2], early[0::2]):
        store.project_concerns(batch)
    for batch in (work.outcomes[:70], work.outcomes[40:], work.outcomes[:70]):
        store.project_outcomes(batch)
    for batch in (late[1::2], late, late[0::2]):
        store.project_concerns(batch)
    store.project_concerns(work.concerns)  # a replay from the start
    store.project_outcomes(work.outcomes + work.outcomes[:5])  # one batch, duplicates in it

    counts = maintained(store)
    assert counts == recounted(store)
    routed = sum(o["status"] == "routed" for o in work.outcomes)
    assert counts[(agg.LATENCY, "", agg.INF)] + sum(
        n for (k, _p, _key), n in counts.items() if k == agg.LATENCY and _key != agg.INF
    ) == routed
    assert sum(n for (k, _p, _k2), n in counts.items() if k == agg.CATEGORY) == routed
    assert store.outcome_counts() == dict(Counter(o["status"] for o in work.outcomes))
    assert store.policy_decisions() == scanned_policy_decisions(store)
    assert [d["count"] for d in store.policy_decisions()] == [
        n for _s, n in sorted(Counter(o["status"] for o in work.outcomes).items())]


def test_writers_in_parallel_count_each_transition_once(store: Store) -> None:
    work = Workload(200, seed=11)
    for o in work.outcomes[::2]:
        store.claim_event(o["event_id"], "school", o["ingested_at"])
    jobs: list[tuple[str, list[dict[str, Any]]]] = []
    for i in range(0, len(work.outcomes), 25):
        ids = {o["event_id"] for o in work.outcomes[i:i + 25]}
        rows = [c for c in work.concerns if c["event_id"] in ids]
        jobs += [("outcomes", work.outcomes[i:i + 25]), ("concerns", rows[0::2]),
                 ("concerns", rows[1::2]), ("concerns", rows), ("outcomes",
                                                               work.outcomes[i:i + 25])]
    random.Random(3).shuffle(jobs)

    def run(job: tuple[str, list[dict[str, Any]]]) -> None:
        kind, rows = job
        (store.project_outcomes if kind == "outcomes" else store.project_concerns)(rows)

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(run, jobs))
    took = time.monotonic() - started
    counts, recount = maintained(store), recounted(store)
    # An event's latency runs to the stamp of the transaction whose concern landed first;
    # the recount takes the earliest stamp, which can belong to a transaction that stamped
    # earlier but waited for the lock and committed later. Only the sum can tell (these
    # latencies are all far in the +Inf bucket), by less than the run per event.
    sum_key = (agg.LATENCY_SUM, "", "sum")
    assert abs(counts.pop(sum_key) - recount.pop(sum_key)) <= took * 1e6 * len(work.outcomes)
    assert counts == recount
    assert store.policy_decisions() == scanned_policy_decisions(store)


def test_retention_lowers_the_held_gauge_and_keeps_the_governance_counts(store: Store) -> None:
    work = Workload(40, seed=5)
    store.project_concerns(work.concerns)
    store.project_outcomes(work.outcomes)
    before = store.governance_counts()
    victim = work.concerns[0]
    mine = [r for r in store.concern_rows() if r.pseudonym == victim["pseudonym"]]
    expired: dict[str, list[int]] = {}
    for r in mine:
        expired.setdefault(r.queue, []).append(r.seq)
    store.retire([Retirement(frozenset({victim["pseudonym"]}), expired, erase=False)],
                 newer_than_seq=10**9, at=BASE)

    held = Counter(c["queue"] for c in work.concerns if c["pseudonym"] != victim["pseudonym"])
    assert store.queue_counts(None) == {q: n for q, n in held.items() if n}
    assert store.queue_counts(["politi"]) == {q: n for q, n in held.items()
                                              if n and q == "politi"}
    assert store.governance_counts() == before  # what happened is still counted
    assert sum(before["queue"].values()) == len(work.concerns)
    # A recount of the base tables would have lost them: only the held gauge follows it.
    recount = recounted(store)
    assert sum(n for (k, _p, _q), n in recount.items() if k == agg.QUEUE) == sum(held.values())
    assert {key: n for key, n in recount.items() if key[0] == agg.HELD} == {
        key: n for key, n in maintained(store).items() if key[0] == agg.HELD}


def test_governance_months_are_local_months(store: Store) -> None:
    at = dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)  # 1 March 00.30 in Copenhagen
    store.project_concerns([{"event_id": "e-1", "queue": "infohus", "pseudonym": "",
                             "payload": json.dumps({"category": "crime", "area": "stege"}),
                             "occurred_at": at}])
    assert store.governance_counts() == {
        "category": {("crime", "2026-03"): 1}, "area": {("stege", "2026-03"): 1},
        "queue": {("infohus", "2026-03"): 1}}


def test_the_backfill_rebuilds_what_maintenance_kept(store: Store) -> None:
    work = Workload(60, seed=9)
    for o in work.outcomes[:50]:
        store.claim_event(o["event_id"], "school", o["ingested_at"])
    store.project_concerns(work.concerns[:40])
    store.project_outcomes(work.outcomes[:30])
    kept = maintained(store)
    with store.engine.begin() as conn:
        conn.execute(aggregates.delete())
        conn.execute(aggregate_events.delete())
        conn.execute(policy_decisions.delete())
        agg.backfill(conn)
    assert maintained(store) == kept
    assert store.policy_decisions() == scanned_policy_decisions(store)
    # Writes after the backfill go on counting each event once.
    store.project_concerns(work.concerns)
    store.project_outcomes(work.outcomes)
    assert maintained(store) == recounted(store)


def test_latency_bounds_must_be_maintained_ones(store: Store) -> None:
    with pytest.raises(ValueError, match="latency bucket"):
        store.routed_latency_histogram([0.3])
    assert store.routed_latency_histogram([0.5, 60.0]) == ([0, 0], 0, 0.0)

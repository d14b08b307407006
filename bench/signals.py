"""Signals benchmark: signals/s through the aggregation path, against the passthrough baseline.

    python -m bench.signals [--n 20000] [--json out.json] [--broker embedded|HOST:PORT]
                            [--profile FILE]

One run, one broker (by default an embedded tansu started here on a free loopback port):

(a) **baseline** — the aiokafka consume→produce passthrough of :mod:`bench.throughput`
    (``run_baseline``: N pre-produced 1 KB messages, ``--baseline-rounds`` rounds, median).

(b) **signals** — ONE worker (``python -m hub.cli worker``) on a fresh data dir is started and
    waited for (consumer group Stable, then ``--settle`` seconds); only then N *signal* events
    are produced as fast as possible (``send_all``: batches of 4000 un-awaited sends, acks=all),
    encrypted as ``POST /api/v1/ingest/{agency}`` encrypts them (``bench.throughput``'s
    ``IngestMessage`` sealed by :func:`core.bus.envelope.seal`, padded to 1 KB of JSON like the
    throughput bench). The mix (seeded, ``--seed``):

    * ~80 % ``school_absence`` with ``absence {date, lessons, excused}`` for N/10 pupils aged
      12–17 at four schools, on the school days of eight weeks; how often a pupil is absent
      is heavy-tailed (most pupils a few days, a few pupils many) and ~3/4 of the absence is
      excused (pupils are "mostly ill" or "mostly truant");
    * ~20 % ``police_registration`` with ``registration {place}`` in the four areas (evenings
      and nights of the same eight weeks), of young people drawn from the same pupils.

    Produced in time order (what daily deliveries give), keyed by event id like the API.

Two rates, both clocked from the **first produce** (worker start-up excluded, reported apart):

* **route stage**: until all N outcomes are ``aggregated`` in the store
  (``Store.outcome_counts``, polled every 100 ms; includes the projector's lag);
* **aggregation path** (the headline): until the worker's ``aggregate`` agent has consumed *and
  committed* every record on the internal ``signals`` topic: the committed offsets of the
  worker's consumer group (group id = worker id) on the ``signals`` partitions, polled every
  100 ms with ``AIOKafkaConsumer.committed`` (tansu does not answer OffsetFetch through the
  admin client), reach N records past the start. faust commits once a second
  (``broker_commit_interval``), so this end time is up to ~1 s late; the last write to the
  window table's changelog (its record timestamp) is reported as a finer end time.

Concerns: the thresholds' concerns are counted in the store (distinct concern event ids on the
case topics, by signal rule) and compared with two in-process expectations computed with
:func:`streams.aggregation.observe`: over the generated signals in generation order, and over
the ``signals`` topic as the aggregator read it (partition by partition, in offset order, after
the run). Both count distinct (rule, key, last day counted), the concern's identity
(``concern_event_id``): a second crossing with the same last day is the same concern. The
second must equal the store exactly. The first can differ, because the route stage reads four
ingest partitions and so does not keep each key's signals in time order: a later day that
arrives first moves the window, earlier days that arrive after it are dropped if they fall
before its start, and a key can re-arm and cross again. How much it differs is a property of
the hub under a backlog, reported, not corrected.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.profile_summary import render as render_profile
from bench.profile_summary import summarise as summarise_profile
from bench.throughput import (
    EVENT_BYTES,
    PRODUCER_KW,
    IngestMessage,
    Profiler,
    Worker,
    _pad_to,
    end_run,
    group_join_time,
    ingest_tuples,
    log,
    measure_baseline,
    now_utc,
    proc_cpu_seconds,
    route_stage_rate,
    run_on_broker,
    send_all,
    start_worker,
    terminate,
    topics_from_the_end,
    wait_for_outcomes,
)
from connectors.base import collaboration_for, copenhagen
from connectors.police import REGISTRATION_NECESSITY
from connectors.school import ABSENCE_NECESSITY, SCHOOL_AREAS
from core.bus.envelope import OrderKey, PayloadCipher, seal
from core.policy.evaluator import Policy, load_policy
from core.privacy.keys import FileKeyProvider, KeyRing
from core.settings import Settings
from core.store import Store, concerns, disclosure_log, events
from schemas.cpr import age_at
from schemas.events import Area, CanonicalEvent
from schemas.signals import SignalRecord
from schemas.wire import (
    SIGNALS_TOPIC,
)
from streams.aggregation import WindowState, local_day, observe
from streams.pipeline import facts_of

FIRST_DAY = dt.date(2026, 2, 2)  # a Monday
WEEKS = 8  # 56 calendar days: inside the aggregator's sweep horizon (2 × 31 days), see below
ABSENCE_SHARE = 0.8
# The connector's schools, and one it does not list (its pupils are in area `other`).
SCHOOLS: dict[str, Area] = {**SCHOOL_AREAS, "Kalvehave Skole": Area.other}
PLACES = {
    Area.vordingborg: ("Vordingborg Station", "Algade, Vordingborg", "Ungdomsskolen Vordingborg"),
    Area.stege: ("Stege Havn", "Storegade, Stege"),
    Area.praestoe: ("Præstø Torv", "Præstø Havn"),
    Area.other: ("Kalvehave Havn", "Nyråd Centret"),
}
AREA_WEIGHTS = {Area.vordingborg: 0.4, Area.stege: 0.25, Area.praestoe: 0.2, Area.other: 0.15}
POLICE_UNIT = "Sydsjællands og Lolland-Falsters Politi, Vordingborg"
GIVEN = ("Mikkel", "Oliver", "Freja", "Jonas", "Emma", "Noah", "Ida", "Lucas", "Clara",
         "William", "Alma", "Victor", "Sofie", "Malthe", "Laura", "Elias")
FAMILY = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
          "Sørensen", "Rasmussen", "Holm", "Madsen", "Kristensen")


# -- the generated signals ---------------------------------------------------------------------

@dataclass(frozen=True)
class Pupil:
    cpr: str
    name: str
    school: str
    klass: str
    area: Area
    excuse_rate: float


@dataclass(frozen=True)
class Planned:
    """One generated signal, before it becomes an event: what the expectation needs."""

    kind: str  # school_absence | police_registration
    pupil: Pupil
    occurred_at: dt.datetime
    day: dt.date  # the day it counts on (absence date, or the local day of the registration)
    counts: bool
    area: Area
    lessons: int = 0
    place: str = ""


def _cpr(born: dt.date, serial: int) -> str:
    # 7th digit 4 with a year 00–36: born 2000–2036 (the CPR office's century table).
    return f"{born:%d%m%y}4{serial % 1000:03d}"


def make_pupils(count: int, rng: random.Random) -> list[Pupil]:
    """Pupils aged 12–17 over the whole period (so SSP, inside the target group)."""
    last_day = FIRST_DAY + dt.timedelta(weeks=WEEKS)
    oldest = dt.date(last_day.year - 18, last_day.month, last_day.day) + dt.timedelta(days=1)
    youngest = dt.date(FIRST_DAY.year - 12, FIRST_DAY.month, FIRST_DAY.day)
    span = (youngest - oldest).days
    schools = list(SCHOOLS)
    pupils: list[Pupil] = []
    seen: set[str] = set()
    while len(pupils) < count:
        born = oldest + dt.timedelta(days=rng.randrange(span + 1))
        cpr = _cpr(born, rng.randrange(1000))
        if cpr in seen:
            continue
        seen.add(cpr)
        school = rng.choice(schools)
        grade = min(9, max(6, age_at(cpr, FIRST_DAY) - 6))
        pupils.append(Pupil(cpr, f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", school,
                            f"{grade}.{rng.choice('abc')}", SCHOOLS[school],
                            # "mostly ill" (excused) or "mostly truant" pupils
                            0.9 if rng.random() < 0.75 else 0.3))
    return pupils


def school_days() -> list[dt.date]:
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(7 * WEEKS)]
    return [d for d in days if d.weekday() < 5]


def plan_signals(n: int, rng: random.Random) -> tuple[list[Pupil], list[Planned]]:
    """N signals in time order: ~80 % absence over N/10 pupils, ~20 % police registrations."""
    pupils = make_pupils(max(10, n // 10), rng)
    days = school_days()
    n_absence = round(n * ABSENCE_SHARE)
    # Heavy-tailed absence per pupil: most pupils a few days, a few pupils many (at most one
    # registration per pupil and school day).
    weights = [rng.paretovariate(1.6) for _ in pupils]
    per_pupil = Counter(rng.choices(range(len(pupils)), weights=weights, k=n_absence))
    overflow = sum(max(0, c - len(days)) for c in per_pupil.values())
    for i in list(per_pupil):
        per_pupil[i] = min(per_pupil[i], len(days))
    while overflow:
        i = rng.randrange(len(pupils))
        if per_pupil[i] < len(days):
            per_pupil[i] += 1
            overflow -= 1
    planned: list[Planned] = []
    for i, count in per_pupil.items():
        pupil = pupils[i]
        for day in rng.sample(days, count):
            excused = rng.random() < pupil.excuse_rate
            planned.append(Planned("school_absence", pupil, copenhagen(day, dt.time(8, 0)),
                                   day, not excused, pupil.area, lessons=rng.randint(1, 7)))
    # Police registrations: young people more often the "truant" pupils, evenings and nights.
    truant = [p for p in pupils if p.excuse_rate < 0.5] or pupils
    young = rng.sample(truant, max(1, len(truant) // 2))
    young += rng.sample(pupils, max(1, len(pupils) // 20))
    areas = list(AREA_WEIGHTS)
    for _ in range(n - n_absence):
        pupil = rng.choice(young)
        area = rng.choices(areas, weights=[AREA_WEIGHTS[a] for a in areas])[0]
        start = copenhagen(FIRST_DAY + dt.timedelta(days=rng.randrange(7 * WEEKS)),
                           dt.time(18, 0))
        when = start + dt.timedelta(minutes=rng.randrange(8 * 60))
        planned.append(Planned("police_registration", pupil, when, local_day(when), True, area,
                               place=rng.choice(PLACES[area])))
    rng.shuffle(planned)
    planned.sort(key=lambda p: p.occurred_at)  # stable: same-time signals in random order
    return pupils, planned


def event_doc(p: Planned) -> dict[str, Any]:
    """The canonical event as the school-absence / police-døgnrapport connectors map it."""
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "schema_version": 1, "kind": p.kind,
        "occurred_at": p.occurred_at,
        "collaboration": collaboration_for(p.pupil.cpr, p.day).value,
        "purpose": "crime_prevention", "area": p.area.value, "severity": "low",
        "consent": "not_sought",
    }
    if p.kind == "school_absence":
        return base | {
            "source": {"agency": "school", "system": "elevadministration",
                       "unit": p.pupil.school},
            "subject": {"cpr": p.pupil.cpr, "name": p.pupil.name, "school": p.pupil.school,
                        "class": p.pupil.klass},
            "category": "school_absence", "necessity": ABSENCE_NECESSITY,
            "description": "",
            "absence": {"date": p.day, "lessons": p.lessons, "excused": not p.counts},
        }
    return base | {
        "source": {"agency": "police", "system": "døgnrapport", "unit": POLICE_UNIT},
        "subject": {"cpr": p.pupil.cpr, "name": p.pupil.name},
        "category": "insecurity", "necessity": REGISTRATION_NECESSITY,
        "description": f"Registreret ved {p.place} sammen med en gruppe unge.",
        "registration": {"place": p.place},
    }


def build_messages(planned: Sequence[Planned], cipher: PayloadCipher, order_key: OrderKey,
                   policy: Policy) -> tuple[list[IngestMessage], list[int]]:
    """Padded to 1 KB of JSON (``bench.throughput._pad_to``) and encrypted like the API does.
    Each event is checked against the policy: no reject rule applies, and its kind has a
    signal rule (so the worker aggregates it)."""
    out: list[IngestMessage] = []
    sizes: list[int] = []
    for p in planned:
        event: CanonicalEvent = _pad_to(event_doc(p), EVENT_BYTES)
        facts = facts_of(event, age_at(event.subject.cpr, event.occurred_at.date()))
        refusal = policy.refusal(facts)
        if refusal is not None or policy.signal_rule(p.kind) is None:
            raise RuntimeError(f"a generated {p.kind} would not be aggregated "
                               f"({refusal.reason if refusal else 'no signal rule'})")
        payload = event.model_dump_json(by_alias=True).encode("utf-8")
        sizes.append(len(payload))
        event_id = str(event.event_id)
        agency = event.source.agency.value
        sealed = seal(cipher, order_key, payload, event_id=event_id, agency=agency,
                      cpr=event.subject.cpr)
        out.append(IngestMessage(sealed, "aggregated", ()))
    return out, sizes


# -- expectations ------------------------------------------------------------------------------

def expected_in_generation_order(policy: Policy, planned: Iterable[Planned]) -> dict[str, int]:
    """Concerns per rule if the aggregator saw the signals in the order generated. The key and
    member are the CPR where the worker uses its pseudonym (a one-to-one mapping)."""
    states: dict[tuple[str, str], WindowState] = {}
    made: set[tuple[str, str, dt.date]] = set()
    for p in planned:
        rule = policy.signal_rule(p.kind)
        assert rule is not None
        subject = rule.per == "subject"
        key = p.pupil.cpr if subject else p.area.value
        member = p.day.isoformat() if subject else p.pupil.cpr
        state, crossed = observe(rule, states.get((rule.id, key), WindowState()), key, member,
                                 p.day, p.counts)
        states[(rule.id, key)] = state
        made.update((rule.id, key, one.last) for one in crossed)
    return _per_rule(policy, made)


def _per_rule(policy: Policy, made: Iterable[tuple[str, str, dt.date]]) -> dict[str, int]:
    """Concerns per rule. A concern's id is derived from (rule, key, last day counted)
    (``streams.aggregation.concern_event_id``), so two crossings with the same last day are
    one concern downstream: counted once."""
    per = Counter(rule for rule, _key, _day in made)
    return {r.id: per[r.id] for r in policy.doc.signals}


async def read_partitions(bootstrap: str, parts: Sequence[TopicPartition],
                          start: dict[TopicPartition, int], idle_s: float = 1.5,
                          ) -> tuple[dict[TopicPartition, list[Any]], dict[TopicPartition, int]]:
    """Every record from ``start`` to the end, per partition in offset order, and the true end
    offsets (read to the end: tansu's ListOffsets(latest) is not the high watermark)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 << 20)
    await consumer.start()
    records: dict[TopicPartition, list[Any]] = {tp: [] for tp in parts}
    try:
        consumer.assign(list(parts))
        for tp in parts:
            consumer.seek(tp, start.get(tp, 0))
        while True:
            data = await consumer.getmany(timeout_ms=int(idle_s * 1000), max_records=10_000)
            if not data:
                break
            for tp, msgs in data.items():
                records[tp] += msgs
        ends = {tp: await consumer.position(tp) for tp in parts}
    finally:
        await consumer.stop()
    return records, ends


def replay_expected(policy: Policy, records: dict[TopicPartition, list[Any]],
                    *, time_ordered: bool = False) -> tuple[dict[str, int], int, int]:
    """Concerns per rule, re-computed over the ``signals`` topic in the order the aggregator
    read it (``streams/app.py`` ``aggregate``: the same key, member and ``observe``). Keys never
    span partitions, so per-partition offset order is the aggregator's order per key. With
    ``time_ordered`` the same signals are counted in ``occurred_at`` order instead (what an
    in-order delivery would give). Also returns the number of signals and of threshold
    crossings (before de-duplication)."""
    signals = [(msg.key, SignalRecord.model_validate_json(msg.value))
               for msgs in records.values() for msg in msgs]
    if time_ordered:
        signals.sort(key=lambda item: item[1].occurred_at)
    states: dict[bytes, WindowState] = {}
    made: set[tuple[str, str, dt.date]] = set()
    crossings = 0
    for table_key, sig in signals:
        rule = policy.signal_rule(sig.kind.value)
        if rule is None or rule.id != sig.rule:
            continue
        subject = rule.per == "subject"
        key = sig.pseudonym if subject else sig.area.value
        state, crossed = observe(rule, states.get(table_key, WindowState()), key,
                                 sig.day.isoformat() if subject else sig.pseudonym,
                                 sig.day, sig.counts)
        states[table_key] = state
        for one in crossed:
            crossings += 1
            made.add((rule.id, key, one.last))
    return _per_rule(policy, made), len(signals), crossings


# -- measuring ---------------------------------------------------------------------------------

async def signal_partitions(bootstrap: str) -> list[TopicPartition]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [TopicPartition(SIGNALS_TOPIC, p)
                for p in sorted(await producer.partitions_for(SIGNALS_TOPIC))]
    finally:
        await producer.stop()


async def committed_offsets(consumer: Any, parts: Sequence[TopicPartition]
                            ) -> dict[TopicPartition, int | None]:
    return {tp: await consumer.committed(tp) for tp in parts}


async def wait_for_aggregator(bootstrap: str, group: str, parts: Sequence[TopicPartition],
                              start: dict[TopicPartition, int], n: int, worker: Worker,
                              t0: float, limit_s: float, interval: float = 0.1,
                              ) -> tuple[float, dict[TopicPartition, int], list[tuple[float, int]]]:
    """Poll ``group``'s committed offsets on the signals partitions until N records past
    ``start`` are committed. Returns (the time, the offsets, the (seconds since t0, records
    committed) progress whenever it moved)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    progress: list[tuple[float, int]] = []
    deadline = time.monotonic() + limit_s
    last_report = time.monotonic()
    try:
        while True:
            worker.check_alive()
            got = await committed_offsets(consumer, parts)
            now = time.monotonic()
            offsets = {tp: got[tp] if got[tp] is not None else start[tp] for tp in parts}
            done = sum(max(0, (offsets[tp] or 0) - start[tp]) for tp in parts)
            if not progress or progress[-1][1] != done:
                progress.append((round(now - t0, 3), done))
            if done >= n:
                return now, {tp: int(offsets[tp] or 0) for tp in parts}, progress
            if now > deadline:
                raise TimeoutError(f"the aggregator committed only {done}/{n} signals after "
                                   f"{limit_s:.0f}s; worker log tail:\n{worker.log_tail()}")
            if now - last_report > 10:
                log(f"  … aggregator committed {done}/{n} signals")
                last_report = now
            await asyncio.sleep(interval)
    finally:
        await consumer.stop()


def store_concerns(store: Store) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Concern event id → its queues, and concerns per signal rule (from the payload's
    ``aggregate``; a concern without one is counted under ``(not aggregated)``)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(concerns.c.event_id, concerns.c.queue,
                                      concerns.c.payload)).all()
    queues: dict[str, list[str]] = {}
    rules: dict[str, str] = {}
    for event_id, queue, payload in rows:
        queues.setdefault(event_id, []).append(queue)
        agg = json.loads(payload).get("aggregate") or {}
        rules[event_id] = str(agg.get("rule", "(not aggregated)"))
    return queues, dict(Counter(rules.values()))


def decided_span(store: Store, ids: set[str]) -> tuple[float | None, float | None]:
    """The first and last ``decided_at`` (the route stage's batch starts) of ``ids``, as Unix
    times."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.event_id, events.c.decided_at)
                            .where(events.c.decided_at.is_not(None))).all()
    stamps = [(r.decided_at if r.decided_at.tzinfo else r.decided_at.replace(tzinfo=dt.UTC))
              .timestamp() for r in rows if r.event_id in ids]
    return (min(stamps), max(stamps)) if stamps else (None, None)


def log_entries_for(store: Store, ids: set[str]) -> int:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(disclosure_log.c.event_id)
                            .where(disclosure_log.c.kind == "disclosure")).all()
    return sum(1 for r in rows if r.event_id in ids)


async def wait_for_concerns(store: Store, want: int, limit_s: float, quiet_s: float = 5.0
                            ) -> tuple[dict[str, list[str]], dict[str, int], float]:
    """Poll the store until it holds ``want`` concerns, or the count has not moved for
    ``quiet_s`` (then what is there is reported). Returns the concerns, by rule, and the time
    the last one appeared."""
    deadline = time.monotonic() + limit_s
    last_change = time.monotonic()
    seen = -1
    while True:
        found, by_rule = await asyncio.to_thread(store_concerns, store)
        now = time.monotonic()
        if len(found) != seen:
            seen, last_change = len(found), now
        if seen >= want or now - last_change > quiet_s or now > deadline:
            return found, by_rule, last_change
        await asyncio.sleep(0.2)


def aggregate_only(raw: str) -> str:
    """The profile's stacks that run inside the ``aggregate`` agent (streams/app.py)."""
    keep = []
    for line in raw.splitlines():
        stack = line.rpartition(" ")[0]
        # With --full-filenames the agent is "create_stream_app.<locals>.aggregate (…/app.py)".
        if any(f.split(" (", 1)[0].rpartition(".")[2] == "aggregate"
               and f.endswith("streams/app.py)") for f in stack.split(";")):
            keep.append(line)
    return "\n".join(keep)


async def run_signals(bootstrap: str, args: argparse.Namespace, workdir: Path
                      ) -> dict[str, Any]:
    n = args.n
    data_dir = (workdir / "hub-signals").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, bootstrap_servers=bootstrap,
                        worker_id=f"ssp-hub-bench-signals-{uuid.uuid4().hex[:8]}",
                        replication_factor=args.replication_factor)
    policy = load_policy(settings.resolved_policy_file)
    ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
    store = Store.open(settings.resolved_database_url)
    out: dict[str, Any] = {"data_dir": str(data_dir), "worker_id": settings.worker_id}
    worker: Worker | None = None
    producer: Any = None
    profiler: Profiler | None = None
    try:
        await topics_from_the_end(bootstrap, settings, policy)
        messages, expected_gen = _build(n, args.seed, ring, policy, out)

        worker = start_worker(settings, data_dir / "worker.log")
        join_s = await _join_and_settle(bootstrap, settings.worker_id, worker, args.settle)
        parts = await signal_partitions(bootstrap)
        start = await _start_offsets(bootstrap, settings.worker_id, parts)

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_KW)
        await producer.start()
        cpu_worker0 = proc_cpu_seconds(worker.pid)
        cpu_broker0 = proc_cpu_seconds(args.broker_pid) if args.broker_pid else None
        t0 = time.monotonic()
        t0_wall = time.time()
        if args.profile is not None:
            profiler = Profiler(args.profile, worker.pid, 3600)
        route_task = asyncio.create_task(
            wait_for_outcomes(store, worker, n, limit_s=max(300.0, n / 20)))
        agg_task = asyncio.create_task(
            wait_for_aggregator(bootstrap, settings.worker_id, parts, start, n, worker, t0,
                                limit_s=max(600.0, n / 10)))
        await send_all(producer, ingest_tuples(messages))
        produce_s = time.monotonic() - t0
        log(f"signals: produced {n} events in {produce_s:.1f}s ({n / produce_s:.0f}/s)")
        t_first_outcome, _, t_route = await route_task
        log(f"signals: all {n} outcomes in the store after {t_route - t0:.1f}s")
        t_agg, committed, progress = await agg_task
        cpu_worker1 = proc_cpu_seconds(worker.pid)
        cpu_broker1 = proc_cpu_seconds(args.broker_pid) if args.broker_pid else None
        load_after = [round(x, 2) for x in os.getloadavg()]
        profile_s = profiler.finish() if profiler is not None else None
        log(f"signals: aggregator committed all {n} signals after {t_agg - t0:.1f}s")

        counts = store.outcome_counts()
        route_s = t_route - t0
        agg_s = t_agg - t0
        at_route = max((c for s, c in progress if s <= route_s), default=0)
        out["hub"] = {
            "worker_group_join_s": join_s, "settle_s": args.settle,
            "produce_s": round(produce_s, 2), "produce_events_per_s": round(n / produce_s, 1),
            "first_outcome_after_first_produce_s": round(t_first_outcome - t0, 2),
            "route_stage_s": round(route_s, 3),
            "route_stage_signals_per_s": round(n / route_s, 1),
            "aggregation_path_s": round(agg_s, 3),
            "aggregation_path_signals_per_s": round(n / agg_s, 1),
            "aggregator_lag_after_route_s": round(t_agg - t_route, 3),
            "committed_when_route_done": at_route,
            "outcomes": counts,
            "outcomes_ok": counts == {"aggregated": n},
            "commit_progress": progress,
            "load_average_after": load_after,
        }
        _decision_times(store, {m.event_id for m in messages}, t0_wall, out["hub"])
        if t_agg > t_route and n > at_route:
            out["hub"]["aggregator_alone_after_route_signals_per_s"] = round(
                (n - at_route) / (t_agg - t_route), 1)
        _cpu_use(out["hub"], n, agg_s, (cpu_worker0, cpu_worker1), (cpu_broker0, cpu_broker1))

        # The signals topic as the aggregator read it, and the window table's changelog.
        records, ends = await read_partitions(bootstrap, parts, start)
        expected_replay, on_topic, crossings = replay_expected(policy, records)
        in_time_order, _, _ = replay_expected(policy, records, time_ordered=True)
        out["hub"]["signals_on_topic"] = on_topic
        out["hub"]["signals_end_offsets"] = {str(tp.partition): ends[tp] for tp in parts}
        out["hub"]["signals_committed_offsets"] = {str(tp.partition): committed[tp]
                                                   for tp in parts}
        out["hub"]["committed_equals_end"] = all(committed[tp] == ends[tp] for tp in parts)
        out["hub"]["signals_per_partition"] = {str(tp.partition): len(records[tp])
                                               for tp in parts}
        await _changelog_writes(bootstrap, f"{settings.worker_id}-signal-windows-changelog",
                                t0_wall, n, out["hub"])

        want = sum(expected_replay.values())
        found, by_rule, t_last_concern = await wait_for_concerns(store, want, limit_s=180,
                                                                  quiet_s=10)
        entries = await _log_entries_settled(store, found)
        queues = Counter(q for qs in found.values() for q in qs)
        out["concerns"] = {
            "in_store": len(found), "in_store_by_rule": by_rule,
            "rows_in_store_by_queue": dict(sorted(queues.items())),
            "disclosure_log_entries": entries,
            "expected_generation_order": expected_gen,
            "expected_generation_order_total": sum(expected_gen.values()),
            "expected_replay_of_signals_topic": expected_replay,
            "expected_replay_total": want,
            "replay_threshold_crossings": crossings,
            "expected_same_signals_in_time_order": in_time_order,
            "matches_replay": len(found) == want and all(
                by_rule.get(k, 0) == v for k, v in expected_replay.items()),
            "last_concern_in_store_after_first_produce_s": round(t_last_concern - t0, 2),
        }
        if profiler is not None and args.profile is not None:
            out["profile"] = _profile_report(profiler, args.profile, profile_s)
    finally:
        await end_run(out, profiler, worker, producer, store)
    return out


def _build(n: int, seed: int, ring: KeyRing, policy: Policy, out: dict[str, Any]
           ) -> tuple[list[IngestMessage], dict[str, int]]:
    """Plan and encrypt the signals (out["data"] describes them); the messages and the
    concerns expected in generation order."""
    t = time.monotonic()
    pupils, planned = plan_signals(n, random.Random(seed))
    messages, sizes = build_messages(planned, PayloadCipher(ring), OrderKey.for_ring(ring),
                                    policy)
    build_s = time.monotonic() - t
    data = out["data"] = _data_summary(n, seed, pupils, planned, sizes, build_s)
    expected_gen = expected_in_generation_order(policy, planned)
    log(f"signals: built and encrypted {n} events in {build_s:.1f}s "
        f"({data['school_absence']} absence, {data['police_registration']} registrations, "
        f"{data['pupils']} pupils, {data['first_day']}–{data['last_day']}); "
        f"expected concerns in generation order {expected_gen}")
    return messages, expected_gen


def _decision_times(store: Store, ids: set[str], t0_wall: float, hub: dict[str, Any]) -> None:
    """When the route stage decided the first and last event, and its rate over that span."""
    decided = route_stage_rate(store, ids)
    first_dec, last_dec = decided_span(store, ids)
    if first_dec is not None and last_dec is not None:
        hub["first_decision_after_first_produce_s"] = round(first_dec - t0_wall, 3)
        hub["last_decision_after_first_produce_s"] = round(last_dec - t0_wall, 3)
    hub["route_decided_at_span_signals_per_s"] = round(decided, 1) if decided else None


def _cpu_use(hub: dict[str, Any], n: int, agg_s: float,
             worker: tuple[float | None, float | None],
             broker: tuple[float | None, float | None]) -> None:
    """The worker's and the broker's CPU seconds over the aggregation path."""
    if worker[0] is not None and worker[1] is not None:
        cpu = worker[1] - worker[0]
        hub["worker_cpu_s"] = round(cpu, 2)
        hub["worker_cpu_util"] = round(cpu / agg_s, 2)
        hub["worker_cpu_ms_per_signal"] = round(1000 * cpu / n, 3)
    if broker[0] is not None and broker[1] is not None:
        hub["broker_cpu_util"] = round((broker[1] - broker[0]) / agg_s, 2)


def _data_summary(n: int, seed: int, pupils: Sequence[Pupil], planned: Sequence[Planned],
                  sizes: Sequence[int], build_s: float) -> dict[str, Any]:
    """The generated signals: how many of each kind, pupils, days, event sizes."""
    absence = [p for p in planned if p.kind == "school_absence"]
    police = [p for p in planned if p.kind == "police_registration"]
    days = sorted({p.day for p in planned})
    return {
        "signals": n, "seed": seed, "school_absence": len(absence),
        "absence_unexcused": sum(p.counts for p in absence),
        "police_registration": len(police), "pupils": len(pupils),
        "pupils_absent": len({p.pupil.cpr for p in absence}),
        "young_people_registered": len({p.pupil.cpr for p in police}),
        "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(),
        "event_json_bytes_mean": round(sum(sizes) / len(sizes)),
        "event_json_bytes_min": min(sizes), "event_json_bytes_max": max(sizes),
        "build_and_encrypt_s": round(build_s, 2),
    }


async def _join_and_settle(bootstrap: str, group: str, worker: Worker, settle: float
                           ) -> float | None:
    """Wait (up to 180 s) until the worker's group is Stable, then ``settle`` seconds more;
    returns the join time (None where the broker cannot tell)."""
    stop_join = asyncio.Event()
    join_task = asyncio.create_task(group_join_time(bootstrap, group, worker, stop_join))
    join_deadline = time.monotonic() + 180
    while not join_task.done():
        worker.check_alive()
        if time.monotonic() > join_deadline:
            stop_join.set()
            raise TimeoutError(f"worker group not Stable after 180 s:\n{worker.log_tail()}")
        await asyncio.sleep(0.1)
    join_s = join_task.result()
    if join_s is None:
        log("signals: group join not measurable on this broker; waiting 15 s instead")
        await asyncio.sleep(15)
    log(f"signals: worker group Stable after {join_s or 0:.1f}s; settling {settle:.0f}s")
    await asyncio.sleep(settle)
    worker.check_alive()
    return join_s


async def _start_offsets(bootstrap: str, group: str, parts: list[TopicPartition]
                         ) -> dict[TopicPartition, int]:
    """The group's committed offsets on the signals topic before anything is produced."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False)
    await probe.start()
    try:
        before = await committed_offsets(probe, parts)
    finally:
        await probe.stop()
    return {tp: v or 0 for tp, v in before.items()}


async def _changelog_writes(bootstrap: str, changelog: str, t0_wall: float, n: int,
                            hub: dict[str, Any]) -> None:
    """The window table's changelog: how many writes, and when the last one landed."""
    cl_producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await cl_producer.start()
    try:
        cl_parts = [TopicPartition(changelog, p)
                    for p in sorted(await cl_producer.partitions_for(changelog) or [])]
    finally:
        await cl_producer.stop()
    if cl_parts:
        cl_records, _ = await read_partitions(bootstrap, cl_parts, {})
        stamps = [m.timestamp for msgs in cl_records.values() for m in msgs]
        if stamps:
            last_write = max(stamps) / 1000 - t0_wall
            hub["table_changelog_writes"] = len(stamps)
            hub["last_table_write_after_first_produce_s"] = round(last_write, 3)
            if last_write > 0:
                hub["aggregation_path_by_last_table_write_signals_per_s"] = round(
                    n / last_write, 1)


async def _log_entries_settled(store: Store, found: dict[str, list[str]]) -> int:
    """The disclosure-log entries for the concerns found, waiting up to 60 s for all."""
    concern_ids = set(found)
    rows = sum(len(q) for q in found.values())
    entries = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = await asyncio.to_thread(log_entries_for, store, concern_ids)
        if entries >= rows:
            break
        await asyncio.sleep(0.5)
    return entries


def _profile_report(profiler: Profiler, path: Path, profile_s: float | None
                    ) -> dict[str, Any]:
    prof: dict[str, Any] = {"file": str(path), "seconds": round(profile_s or 0, 1)}
    if path.exists():
        raw = path.read_text(encoding="utf-8")
        prof["text"] = render_profile(summarise_profile(raw), 20)
        agg_summary = summarise_profile(aggregate_only(raw))
        prof["aggregate_agent"] = agg_summary.as_dict(25)
        prof["aggregate_agent_text"] = render_profile(agg_summary, 20)
    else:
        prof["error"] = profiler.log_path.read_text(errors="replace")[-2000:]
    return prof


# -- report ------------------------------------------------------------------------------------

def render_table(result: dict[str, Any]) -> str:
    base = result["baseline"]
    hub = result["hub"]
    data = result["data"]
    con = result["concerns"]
    rows = [
        (f"baseline: aiokafka consume→produce passthrough (median of {len(base['rounds'])})",
         f"{base['events_per_s']:.0f} events/s (min {base['events_per_s_min']:.0f}, "
         f"max {base['events_per_s_max']:.0f})"),
        ("signals produced (as fast as possible, after the worker joined)",
         f"{data['signals']} in {hub['produce_s']:.1f} s ({hub['produce_events_per_s']:.0f}/s)"),
        ("AGGREGATION PATH: first produce → last signal committed by `aggregate`",
         f"{hub['aggregation_path_signals_per_s']:.0f} signals/s "
         f"({hub['aggregation_path_s']:.1f} s)"),
        ("ratio aggregation path / baseline", f"{result['ratio']:.3f}"),
        ("route stage: first produce → all N outcomes `aggregated` in store",
         f"{hub['route_stage_signals_per_s']:.0f} signals/s ({hub['route_stage_s']:.1f} s)"),
    ]
    if hub.get("route_decided_at_span_signals_per_s"):
        rows.append(("route stage alone (decided_at span)",
                     f"{hub['route_decided_at_span_signals_per_s']:.0f} signals/s"))
    if hub.get("first_decision_after_first_produce_s") is not None:
        rows.append(("first produce → first / last route decision (decided_at)",
                     f"{hub['first_decision_after_first_produce_s']:.1f} s / "
                     f"{hub['last_decision_after_first_produce_s']:.1f} s"))
    rows.append(("last aggregator commit − last outcome in store",
                 f"{hub['aggregator_lag_after_route_s']:+.1f} s "
                 f"({hub['committed_when_route_done']} of {data['signals']} signals committed "
                 "when the outcomes were all in)"))
    if hub.get("aggregator_alone_after_route_signals_per_s"):
        rows.append(("aggregator alone, after the route stage finished (commit progress)",
                     f"{hub['aggregator_alone_after_route_signals_per_s']:.0f} signals/s"))
    if hub.get("last_table_write_after_first_produce_s") is not None:
        rows.append(("first produce → last window-table write (changelog timestamp)",
                     f"{hub['last_table_write_after_first_produce_s']:.1f} s = "
                     f"{hub.get('aggregation_path_by_last_table_write_signals_per_s') or 0:.0f}"
                     f" signals/s ({hub['table_changelog_writes']} writes)"))
    if "worker_cpu_util" in hub:
        rows.append(("worker CPU, first produce → last commit",
                     f"{100 * hub['worker_cpu_util']:.0f}% of a core, "
                     f"{hub['worker_cpu_ms_per_signal']:.2f} ms/signal"))
    if "broker_cpu_util" in hub:
        rows.append(("broker CPU, same span", f"{100 * hub['broker_cpu_util']:.0f}% of a core"))
    rows += [
        ("worker start → group Stable (excluded; then settle)",
         "—" if hub["worker_group_join_s"] is None
         else f"{hub['worker_group_join_s']:.1f} s + {hub['settle_s']:.0f} s"),
        ("first produce → first outcome in store",
         f"{hub['first_outcome_after_first_produce_s']:.1f} s"),
        ("concerns made (store) / expected: replay of `signals` / generation order",
         f"{con['in_store']} / {con['expected_replay_total']} / "
         f"{con['expected_generation_order_total']}"
         f"{'' if con['matches_replay'] else '  MISMATCH'}"),
    ]
    for rule, exp in con["expected_replay_of_signals_topic"].items():
        rows.append((f"  {rule}",
                     f"{con['in_store_by_rule'].get(rule, 0)} / {exp} / "
                     f"{con['expected_generation_order'].get(rule, 0)}"))
    rows.append(("  threshold crossings in the replay (before de-duplication by id)",
                 str(con["replay_threshold_crossings"])))
    rows.append(("  the topic's signals re-sorted by occurred_at (in-order delivery)",
                 str(con["expected_same_signals_in_time_order"])))
    rows.append(("  concern rows by queue; disclosure-log entries",
                 f"{con['rows_in_store_by_queue']}; {con['disclosure_log_entries']}"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure':<{width}}  value", f"{'-' * width}  {'-' * 30}"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append("")
    lines.append(
        f"N={data['signals']} signals of ~{data['event_json_bytes_mean']} B JSON "
        f"({data['school_absence']} school_absence, {data['absence_unexcused']} unexcused; "
        f"{data['police_registration']} police_registration), {data['pupils']} pupils, "
        f"{data['first_day']}…{data['last_day']}, seed {data['seed']}; broker "
        f"{result['config']['broker']}, {os.cpu_count()} CPUs; outcomes {hub['outcomes']}; "
        f"signals on topic {hub['signals_on_topic']}, committed = end offsets: "
        f"{hub['committed_equals_end']}")
    load = result["host"]["load_average_at_start"]
    cpus = os.cpu_count() or 1
    busy = load[0] > 0.5 * cpus or hub["load_average_after"][0] > cpus
    lines.append(
        f"load average at start {load[0]:.2f}, at the end {hub['load_average_after'][0]:.2f}. "
        "Shared machine: other processes move these numbers by 2× or more; compare runs only "
        "at similar load." + ("  OTHER PROCESSES WERE BUSY: re-run when idle." if busy else ""))
    lines.append("The commit-based end time is up to ~1 s late (faust commits once a second); "
                 "nothing is excluded as warm-up after the first produce.")
    return "\n".join(lines)


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> dict[str, Any]:
    log(f"broker {bootstrap}; N={args.n}")
    baseline = await measure_baseline(bootstrap, args.n, args)
    hub = await run_signals(bootstrap, args, workdir)
    rate = hub["hub"]["aggregation_path_signals_per_s"]
    ratio = rate / baseline["events_per_s"] if baseline["events_per_s"] else 0.0
    return {"baseline": baseline, **hub, "ratio": round(ratio, 4)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.signals",
        description="Signals/s through the aggregation path vs. the passthrough baseline.")
    parser.add_argument("--n", type=int, default=20_000,
                        help="signals (and baseline messages) per run (default 20000)")
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    parser.add_argument("--broker", default="embedded",
                        help="'embedded' (start tansu here, the default) or a bootstrap list")
    parser.add_argument("--baseline-rounds", type=int, default=3,
                        help="passthrough repetitions, median reported (default 3)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="baseline getmany max_records (the worker's batch size)")
    parser.add_argument("--seed", type=int, default=5, help="the generated data's seed")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after the worker's group is Stable (default 2)")
    parser.add_argument("--replication-factor", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy the worker from the first produce to the last commit; "
                             "raw collapsed stacks here (needs ptrace rights)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    if args.n < 10:
        parser.error("--n must be at least 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, terminate)
    started = now_utc()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    outcome = run_on_broker(args, "ssp-hub-bench-signals-", run)
    result = {
        "started_at": started.isoformat(),
        "command": "python -m bench.signals " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {"n": args.n, "broker": args.broker, "event_bytes": EVENT_BYTES,
                   "batch": args.batch, "baseline_rounds": args.baseline_rounds,
                   "seed": args.seed, "settle_s": args.settle,
                   "replication_factor": args.replication_factor,
                   "profiled": args.profile is not None},
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform(), "load_average_at_start": load_at_start},
        **outcome,
    }
    print(render_table(result))
    prof = result.get("profile") or {}
    if "aggregate_agent_text" in prof:
        print()
        print("py-spy, stacks inside the `aggregate` agent only:")
        print(prof["aggregate_agent_text"])
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    ok = result["hub"]["outcomes_ok"] and result["concerns"]["matches_replay"] \
        and result["concerns"]["in_store"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Where a worker's CPU goes, per event, stage by stage, in one process and without a broker.

    python -m bench.costs [--events N] [--database sqlite|postgres|URL] [--rounds R]

``bench.throughput`` says how fast the whole hub is; this says which part costs what, so an
optimisation can be aimed and checked without the noise of a broker and a fleet. It runs the
worker's own code on the same ~1 KB events as ``bench.throughput`` (its ``EventFactory``),
batch by batch as the stages do:

* ``decide``     — ``Pipeline.process``: open the envelope, validate, decide, scrub, pseudonymise,
                   build the concerns and log entries (the route stage's thread);
* ``serialise``  — the route stage's output records (concern, entry, outcome JSON);
* ``route-db``   — the route stage's store calls: ``already_processed``, ``Vault.put``;
* ``project``    — the route stage's projection: records → rows, then ``record_decided``
                   (concerns, outcomes and the processed ledger in one transaction);
* ``sequence``   — the sequencer: parse the entry records, ``AuditLog.integrate``.

Each is timed as this process's CPU time (``time.process_time``: the database server's own CPU
is not in it — on PostgreSQL, ``wall`` minus CPU is mostly the server and the round trips) and
as wall time, per event, median over ``--rounds`` rounds of ``--events`` fresh events. Kafka's
client costs (one fetch and ~4 produces per event) are not here: ``bench.throughput``'s
baseline measures those. Prints a table and, with ``--json``, one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.throughput import EventFactory, fresh_database
from core.bus.envelope import OrderKey, PayloadCipher
from core.ledger.auditlog import AuditLog
from core.ledger.entries import entry_message, parse_entry_message
from core.policy.evaluator import load_policy
from core.privacy.keys import FileKeyProvider
from core.privacy.vault import Identity, Vault
from core.settings import Settings
from core.store import Store
from schemas.wire import OUTCOMES_TOPIC, cases_topic
from streams.app import _pipeline
from streams.pipeline import IngestRecord, Routed, concern_json, outcome_json, record_event_id
from streams.projector import rows_from_records

STAGES = ("decide", "serialise", "route-db", "project", "sequence")


class Clock:
    """CPU and wall seconds per stage, summed over one round."""

    def __init__(self) -> None:
        self.cpu = dict.fromkeys(STAGES, 0.0)
        self.wall = dict.fromkeys(STAGES, 0.0)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.cpu[name] += time.process_time() - cpu
        self.wall[name] += time.perf_counter() - wall


def records_of(factory: EventFactory, n: int) -> list[IngestRecord]:
    """``n`` fresh sealed events as the route stage reads them."""
    now = dt.datetime.now(dt.UTC)
    out = []
    for message in factory.batch(n):
        sealed = message.sealed
        headers = dict(sealed.headers(now))
        out.append(IngestRecord(topic=sealed.topic, key=sealed.key, value=sealed.value,
                                headers=headers, position=""))
    return out


def one_round(setup: Setup, n: int, batch: int) -> Clock:
    clock = Clock()
    records = records_of(setup.factory, n)
    for i in range(0, n, batch):
        run_batch(setup, records[i:i + batch], clock)
    return clock


def run_batch(setup: Setup, records: Sequence[IngestRecord], clock: Clock) -> None:
    now = dt.datetime.now(dt.UTC)
    ids = [record_event_id(r) for r in records]
    with clock.stage("route-db"):
        done = setup.store.already_processed(ids)
    with clock.stage("decide"):
        results = [setup.pipeline.process(r, now) for r, e in zip(records, ids, strict=True)
                   if e not in done]
    cases: list[tuple[str, bytes]] = []
    entries: list[bytes] = []
    identities: list[Identity] = []
    with clock.stage("serialise"):
        for result in results:
            if isinstance(result, Routed):
                identities += result.identities
                cases += [(cases_topic(c.queue), concern_json(c)) for c in result.concerns]
            entries += [entry_message(e) for e in getattr(result, "entries", ())]
            cases.append((OUTCOMES_TOPIC, outcome_json(result.outcome)))
    with clock.stage("route-db"):
        setup.vault.put(identities)
    with clock.stage("project"):
        # The route stage's one transaction: concerns, outcomes, ledger.
        outcomes, concerns = rows_from_records(cases)
        setup.store.record_decided([(r.outcome.event_id, r.outcome.status.value)
                                    for r in results], outcomes, concerns)
    with clock.stage("sequence"):
        setup.audit.integrate([parse_entry_message(m) for m in entries])


class Setup:
    def __init__(self, workdir: Path, database_url: str | None) -> None:
        settings = Settings(data_dir=workdir, mode="dev", database_url=database_url)
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        policy = load_policy(settings.resolved_policy_file)
        self.store = Store.open(settings.resolved_database_url)
        self.pipeline = _pipeline(settings, policy, ring)
        self.vault = Vault(self.store, ring)
        self.audit = AuditLog(self.store, ring, origin=settings.log_origin)
        self.factory = EventFactory(PayloadCipher(ring), OrderKey.for_ring(ring), policy,
                                    reject_every=20)


def measure(args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ssp-hub-costs-") as tmp:
        setup = Setup(Path(tmp), database_url)
        one_round(setup, min(args.events, 200), args.batch)  # warm: caches, first queries
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        rounds = [one_round(setup, args.events, args.batch) for _ in range(args.rounds)]
        if profiler is not None:
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(args.profile)
        setup.store.close()

    def per_event(times: Callable[[Clock], dict[str, float]], stage: str) -> float:
        events: int = args.events
        return round(1e6 * statistics.median([times(c)[stage] for c in rounds]) / events, 1)

    stages = {s: {"cpu_us": per_event(lambda c: c.cpu, s),
                  "wall_us": per_event(lambda c: c.wall, s)} for s in STAGES}
    return {"events": args.events, "rounds": args.rounds, "batch": args.batch,
            "database": args.database, "stages_per_event": stages,
            "total_cpu_us": round(sum(v["cpu_us"] for v in stages.values()), 1),
            "total_wall_us": round(sum(v["wall_us"] for v in stages.values()), 1)}


def render(result: dict[str, Any]) -> str:
    lines = [f"{'stage':<10} {'CPU µs/event':>13} {'wall µs/event':>14}"]
    for name, v in result["stages_per_event"].items():
        lines.append(f"{name:<10} {v['cpu_us']:>13.1f} {v['wall_us']:>14.1f}")
    lines.append(f"{'total':<10} {result['total_cpu_us']:>13.1f} {result['total_wall_us']:>14.1f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default), postgres (started here) or a database URL")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="cProfile the measured rounds; print the top N functions by "
                             "own time (the profiler's overhead inflates every number)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as running:
        url: str | None = None
        if args.database == "postgres":
            from tests.support.external import start_postgres
            url = fresh_database(running.enter_context(start_postgres()).url, "costs")
        elif args.database != "sqlite":
            url = args.database
        result = measure(args, url)
    print(render(result), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

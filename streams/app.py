"""The worker: one faust app around the pure pipeline, with its route stage beside it.

* ``route``   a task running :class:`streams.router.Router` (its own aiokafka consumer group,
              ``<worker_id>-route``): ingest.<agency> → decrypt/validate/decide/pseudonymise →
              cases.<queue>, outcomes, disclosures, signals, deadletter. Batched; outputs are
              awaited (acks=all) and the batch's identities written to the vault before the
              batch's concerns, outcomes and ledger entries go to the store in one
              transaction, and only then are its offsets committed.
* ``aggregate`` the faust agent: signals (the route stage's ``Aggregated`` results,
              pseudonymised, on the ``signals`` topic, keyed by a hash of the aggregation key)
              → windowed state in a faust Table with a changelog (:mod:`streams.aggregation`);
              a threshold met makes one concern (``Pipeline.derive``) → cases.<queue> and its
              log entries.
* ``project`` a task running :class:`streams.projector.Projector` (its own consumer group):
              outcomes + cases.* → the queryable store (idempotent upserts), for what the
              route stage has not projected itself (it marks what it has): the aggregator's
              concerns, and records a worker from before that change left.
* ``retain``   the retention job every ``retention_interval`` seconds
              (:mod:`core.ledger.retention`), in the one worker that holds the retention
              election (:mod:`core.bus.election`).
* ``sequence`` a task running :class:`core.ledger.sequencer.Sequencer` (its own consumer group):
              disclosures → the Merkle-tree disclosure log and its signed checkpoints.

``settings.stages`` (``ssp-hub worker --stages``) picks which of them this process runs.

Duplicates are stopped by the store's ``processed`` ledger (durable across restarts and shared
by all workers). We keep the ledger in the store rather than in a faust Table because a table
routes each changelog write by the *current* event's partition, which is wrong for keys set
while handling a batch.

On any unexpected error the process exits at once (status 70) without acknowledging what it
was handling: a worker whose agent or task died must never look alive (faust-streaming#523).
The supervisor restarts it; Kafka redelivers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import hashlib
import hmac
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from core.bus import Bus
from core.bus.election import election_consumer, run_while_holding
from core.bus.envelope import PayloadCipher
from core.ledger.auditlog import AuditLog
from core.ledger.retention import retention_pass
from core.ledger.sequencer import Sequencer
from core.logs import get_logger
from core.policy.evaluator import Policy, load_policy
from core.privacy.crypto import Pseudonymiser
from core.privacy.freetext import FreeText
from core.privacy.keys import KeyRing, provider_for
from core.privacy.vault import Vault
from core.settings import Settings
from core.store import Store
from schemas.signals import SignalRecord
from schemas.wire import SIGNALS_TOPIC
from streams.aggregation import WindowState, calendar_days, concern_event_id, observe
from streams.pipeline import Pipeline
from streams.projector import Projector
from streams.router import Outputs, Router

log = get_logger("streams")
EXIT_AGENT_FAILED = 70
# How often (signals per partition) the aggregator drops keys whose window has long passed.
SWEEP_EVERY = 1000


def _die(exc: BaseException) -> None:
    log.critical("agent_failed_exiting", error=type(exc).__name__)
    os._exit(EXIT_AGENT_FAILED)


@dataclass
class Stages:
    """What the worker's stages share, built once per process: the policy, keys, pipeline,
    store, the outputs (producer) and the route stage, which the aggregator's derived
    concerns go out through too."""

    settings: Settings
    policy: Policy
    ring: KeyRing
    pipeline: Pipeline
    db: Store
    outputs: Outputs
    router: Router

    def tasks(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """The long-running tasks of the selected stages (the aggregator is a faust agent,
        added by :func:`create_stream_app`). Each exits the process if it fails (:func:`_die`)."""
        chosen = {"route": self.route, "project": self.project, "retain": self.retain,
                  "sequence": self.sequence}
        return [_guarded(work) for name, work in chosen.items() if name in self.settings.stages]

    async def route(self) -> None:
        await self.router.run()

    async def project(self) -> None:
        await Projector(self.settings, self.db, self.policy.queues, self.outputs.bus).run()

    async def retain(self) -> None:
        # Every worker may run the stage; the election lets one at a time do the work.
        settings = self.settings

        async def one_pass() -> None:
            await retention_pass(
                self.db, self.policy, self.ring, origin=settings.log_origin,
                refusal_retention=dt.timedelta(days=settings.refusal_retention_days))
        await run_while_holding(election_consumer(settings, "retention", self.outputs.bus),
                                "retention", one_pass, settings.retention_interval)

    async def sequence(self) -> None:
        settings = self.settings
        if settings.unsafe_skip_disclosure_log:
            log.critical("disclosure_log_disabled_for_benchmark")
            return
        audit = AuditLog(self.db, self.ring, origin=settings.log_origin,
                         checkpoint_every=settings.checkpoint_every,
                         checkpoint_interval=settings.checkpoint_interval)
        await Sequencer(settings, audit, self.outputs.bus).run()


def _guarded(work: Callable[[], Awaitable[None]]) -> Callable[[], Coroutine[Any, Any, None]]:
    async def guarded() -> None:
        try:
            await work()
        except Exception as exc:
            _die(exc)
    guarded.__name__ = guarded.__qualname__ = work.__name__  # faust names tasks by them
    return guarded


def build_stages(settings: Settings, *, store: Store | None = None,
                 bus: Bus | None = None) -> Stages:
    """``bus`` carries the route stage, projector, sequencer and the retention election
    (default: aiokafka against ``settings.bootstrap_servers``)."""
    policy = load_policy(settings.resolved_policy_file)
    ring = provider_for(settings, create=settings.mode != "production").load()
    pipeline = _pipeline(settings, policy, ring)
    db = store or Store.open(settings.resolved_database_url)
    outputs = Outputs(settings, bus)
    router = Router(settings, pipeline, policy, db, Vault(db, ring), outputs)
    log.info("worker_stages", stages=",".join(settings.stages))
    return Stages(settings, policy, ring, pipeline, db, outputs, router)


def freeze_startup_heap() -> None:
    """Leave what start-up built (policy, scrubber vocabularies, schemas, the store's
    metadata) out of every later garbage collection. A full collection walks every container
    it tracks, the scrubber's large vocabularies included: 60 ms on an idle core, 90–140 ms
    in a worker under half load (13 of them in one ``bench.throughput`` run, timed with
    ``gc.callbacks``), and each one stalls every event in flight. Collected first, so no
    garbage is kept; what the worker makes afterwards is collected as before."""
    gc.collect()
    gc.freeze()


# The longest a thread holds the GIL while another waits for it (Python's default: 5 ms).
GIL_SWITCH_S = 0.001


def short_gil_slices() -> None:
    """Hand the GIL over every millisecond instead of every five. While the route stage's
    thread decides a batch (CPU), each of the worker's waits that ends — a broker
    acknowledgement on the event loop, a PostgreSQL answer in the store's thread, the
    sequencer's — waited up to a whole slice for the GIL, and a batch has a dozen of them.
    Three interleaved pairs of ``bench.throughput --workers 1`` (Kafka + PostgreSQL): p99
    added at half load 113/100/131 → 67/74/106 ms, readable 143/128/157 → 94/98/133 ms; the
    drain 0–8 % slower (more switches)."""
    sys.setswitchinterval(GIL_SWITCH_S)


def create_stream_app(settings: Settings, *, store: Store | None = None,
                      bus: Bus | None = None) -> faust.App:
    """The worker as a faust app, with the stages ``settings.stages`` names; the aggregator
    is a faust agent on Kafka. (A worker without the aggregator needs no faust app:
    :func:`run_stages`.)"""
    stages = build_stages(settings, store=store, bus=bus)
    freeze_startup_heap()
    short_gil_slices()
    app = _faust_app(settings)
    for task in stages.tasks():
        app.task(task)
    if "aggregate" in settings.stages:
        _add_aggregator(app, settings, stages.policy, stages.ring, stages.pipeline,
                        stages.router)

    @app.task
    async def stop_outputs() -> None:
        # Outputs are started on first send; stopped with the app (faust cancels this task).
        try:
            await asyncio.Event().wait()
        finally:
            await stages.outputs.stop()

    return app


async def run_stages(settings: Settings) -> None:
    """A worker without the aggregator: its stages as plain asyncio tasks until cancelled.
    Not a faust app, because a faust app joins the aggregator's consumer group even with no
    agent, and every join makes the workers that hold the signal windows rebalance and
    recover their tables."""
    stages = build_stages(settings)
    freeze_startup_heap()
    short_gil_slices()
    try:
        async with asyncio.TaskGroup() as group:
            for task in stages.tasks():
                group.create_task(task())
    finally:
        await stages.outputs.stop()


def _pipeline(settings: Settings, policy: Policy, ring: KeyRing) -> Pipeline:
    # Description and necessity (also the necessity written into the disclosure log) go
    # through the one free-text scrubber (core/privacy/freetext.py); gazetteers loaded once per
    # process.
    freetext = FreeText()

    def scrub(text: str, names: Sequence[str]) -> str:
        return freetext.text(text, known_names=names)

    return Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"), policy, scrub,
                    max_future_skew=settings.max_future_skew)


def _faust_app(settings: Settings) -> faust.App:
    return faust.App(
        settings.worker_id,
        broker=[f"kafka://{b}" for b in settings.bootstrap_servers.split(",")],
        datadir=str(settings.data_dir / "faust"),
        web_enabled=False,
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        producer_linger=0.005,
        producer_max_batch_size=256 * 1024,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # Short session/rebalance timeouts: a killed worker's partitions move within seconds.
        broker_session_timeout=settings.worker_session_timeout,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=settings.worker_session_timeout,
        stream_buffer_maxsize=4 * settings.worker_batch_size,
        key_serializer="raw",
        value_serializer="raw",
    )


def _add_aggregator(app: faust.App, settings: Settings, policy: Policy, ring: KeyRing,
                    pipeline: Pipeline, router: Router) -> None:
    """The ``aggregate`` agent: signals → windowed state → derived concerns via ``router``."""
    # Window state per aggregation key (raw JSON bytes, streams/aggregation.py WindowState).
    # Co-partitioned with the signals topic: a key's signals and its state meet in one
    # partition, so that the changelog restores each partition's state to whoever owns it.
    windows = app.Table("signal-windows", default=None, key_type=bytes, value_type=bytes,
                        partitions=settings.topic_partitions)
    signals_in = app.topic(SIGNALS_TOPIC, key_type=bytes, value_type=bytes,
                           partitions=settings.topic_partitions)
    concern_ids = uuid.UUID(bytes=hmac.new(ring.connector_id_secret(), b"ssp-hub signal-concern",
                                           hashlib.sha256).digest()[:16])
    longest = max((calendar_days(r.window) for r in policy.doc.signals), default=0)

    @app.agent(signals_in, concurrency=1)
    async def aggregate(stream: Any) -> None:
        # One event at a time: a faust table writes its changelog to the partition of the
        # event being handled, which must be the partition of the key being written.
        newest: dict[int, dt.date] = {}  # per partition: the newest signal day (event time)
        seen: dict[int, int] = {}
        async for event in stream.events():
            try:
                signal = SignalRecord.model_validate_json(event.value)
                rule = policy.signal_rule(signal.kind.value)
                if rule is None or rule.id != signal.rule:
                    # The policy changed under a signal already counted as aggregated.
                    log.warning("signal_rule_gone", rule=signal.rule)
                    continue
                subject = rule.per == "subject"
                key = signal.pseudonym if subject else signal.area.value
                before = windows.get(event.key)
                state, crossings = observe(rule, WindowState.loads(before), key,
                                           signal.day.isoformat() if subject
                                           else signal.pseudonym, signal.day, signal.counts)
                for crossed in crossings:
                    # The concern first, then the state that says it was made: a crash in
                    # between makes it again, under the same id (de-duplicated downstream).
                    derived = pipeline.derive(
                        rule, signal, crossed,
                        concern_event_id(concern_ids, rule.id, key, crossed.last),
                        dt.datetime.now(dt.UTC))
                    await router.emit_derived(derived)
                    log.info("signal_threshold_met", rule=rule.id,
                             concerns=len(derived.concerns), count=crossed.count)
                after = state.dumps()
                if after != before:
                    windows[event.key] = after
                part = event.message.partition
                newest[part] = max(signal.day, newest.get(part, signal.day))
                seen[part] = seen.get(part, 0) + 1
                if seen[part] % SWEEP_EVERY == 0:
                    _sweep(part, newest[part])
            except Exception as exc:
                _die(exc)

    def _sweep(partition: int, newest: dt.date) -> None:
        """Tombstone this partition's keys whose newest signal lies more than two of the
        longest windows before the partition's newest: their members have all expired, and
        the changelog should not keep pseudonyms longer than the windows need them."""
        horizon = newest - dt.timedelta(days=2 * longest)
        parts = settings.topic_partitions
        stale = [k for k, v in list(windows.items())
                 if (murmur2(k) & 0x7FFFFFFF) % parts == partition
                 and (WindowState.loads(v).newest or horizon) < horizon]
        for key in stale:
            del windows[key]
        if stale:
            log.info("signal_windows_swept", keys=len(stale))

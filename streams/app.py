"""The faust-streaming worker: one thin agent and one task around the pure pipeline.

* ``route``   ingest.<agency> → decrypt/validate/decide/pseudonymise → cases.<queue>, outcomes,
              deadletter. Batched with ``take_events``; outputs are awaited (acks=all) and the
              batch's identities written to the vault (one store call per batch) before the
              batch is recorded in the ledger, and only then acknowledged to faust.
* ``aggregate`` signals (the route agent's ``Aggregated`` results, pseudonymised, on the
              ``signals`` topic, keyed by a hash of the aggregation key) → windowed state in a
              faust Table with a changelog (:mod:`streams.aggregation`); a threshold met makes
              one concern (``Pipeline.derive``) → cases.<queue> and its log entries.
* ``project`` a task running :class:`hub.projector.Projector` (its own consumer group):
              outcomes + cases.* → the queryable store (idempotent upserts).
* ``retain``   the retention job every ``retention_interval`` seconds (:mod:`hub.retention`).
* ``sequence`` a task running :class:`hub.sequencer.Sequencer` (its own consumer group):
              disclosures → the Merkle-tree disclosure log and its signed checkpoints.

Duplicates are stopped by the store's ``processed`` ledger (durable across restarts and shared
by all workers). We keep the ledger in the store rather than in a faust Table because a table
routes each changelog write by the *current* event's partition, which is wrong for keys set
while handling a batch.

On any unexpected error the process exits at once (status 70) without acknowledging the
batch: faust's ``take_events`` acknowledges in a ``finally``, and a worker whose agent died
must never look alive (faust-streaming#523). The supervisor restarts it; Kafka redelivers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import os
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from hub.auditlog import AuditLog
from hub.crypto import PayloadCipher, Pseudonymiser
from hub.disclosures import entry_message
from hub.keys import FileKeyProvider
from hub.logs import get_logger
from hub.projector import Projector
from hub.retention import retention_loop
from hub.sequencer import Sequencer
from hub.settings import AGENCIES, Settings
from hub.store import Store
from hub.vault import Identity, Vault
from schemas.signals import SignalRecord
from schemas.wire import (
    DEADLETTER_TOPIC,
    DISCLOSURES_TOPIC,
    H_REASON,
    H_SOURCE_TOPIC,
    OUTCOMES_TOPIC,
    SIGNALS_TOPIC,
    cases_topic,
    ingest_topic,
)
from streams.aggregation import (
    WindowState,
    calendar_days,
    concern_event_id,
    observe,
    table_key,
)
from streams.pipeline import (
    Aggregated,
    Derived,
    IngestRecord,
    Pipeline,
    Quarantined,
    Rejected,
    Result,
    Routed,
    concern_json,
    dedupe_batch,
    outcome_json,
    record_event_id,
)
from streams.policy import load_policy
from streams.scrubber import Scrubber

log = get_logger("streams")
EXIT_AGENT_FAILED = 70
# How often (signals per partition) the aggregator drops keys whose window has long passed.
SWEEP_EVERY = 1000


def _record(event: Any) -> IngestRecord:
    msg = event.message
    headers = {k: v for k, v in (msg.headers or [])}
    return IngestRecord(topic=msg.topic, key=msg.key, value=msg.value, headers=headers,
                        position=f"{msg.topic}/{msg.partition}/{msg.offset}")


def _die(exc: BaseException) -> None:
    log.critical("agent_failed_exiting", error=type(exc).__name__)
    os._exit(EXIT_AGENT_FAILED)


def create_stream_app(settings: Settings, *, store: Store | None = None) -> faust.App:
    policy = load_policy(settings.resolved_policy_file)
    ring = FileKeyProvider(settings.resolved_key_file,
                           create=settings.mode != "production").load()
    scrubber = Scrubber()  # gazetteers loaded once per process

    def scrub(text: str, names: Sequence[str]) -> str:
        return scrubber.scrub(text, known_names=names).text

    pipeline = Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"), policy, scrub)
    db = store or Store.open(settings.resolved_database_url)
    vault = Vault(db, ring)

    app = faust.App(
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
    ingest = app.topic(*(ingest_topic(a) for a in AGENCIES), key_type=bytes, value_type=bytes)

    async def send(topic: str, key: str, value: bytes,
                   headers: Sequence[tuple[str, bytes]] = ()) -> Awaitable[Any]:
        fut: Awaitable[Any] = await app.producer.send(
            topic=topic, key=key.encode("ascii"), value=value, partition=None, timestamp=None,
            headers=list(headers),
        )
        return fut

    async def emit(event_id: str, result: Result) -> list[Awaitable[Any]]:
        futures: list[Awaitable[Any]] = []
        if isinstance(result, Routed):
            for concern in result.concerns:
                futures.append(await send(cases_topic(concern.queue), event_id,
                                          concern_json(concern)))
        if isinstance(result, Routed | Rejected) and not settings.unsafe_skip_disclosure_log:
            for entry in result.entries:
                futures.append(await send(DISCLOSURES_TOPIC, entry.entry_id,
                                          entry_message(entry)))
        elif isinstance(result, Aggregated):
            signal = result.signal
            rule = policy.signal_rule(signal.kind.value)
            assert rule is not None  # the pipeline aggregates only kinds the policy has a rule for
            key = signal.pseudonym if rule.per == "subject" else signal.area.value
            futures.append(await send(SIGNALS_TOPIC, table_key(rule.id, key).decode("ascii"),
                                      signal.model_dump_json().encode("utf-8")))
        elif isinstance(result, Quarantined):
            rec = result.record
            headers = [(k, v) for k, v in rec.headers.items()
                       if k not in (H_REASON, H_SOURCE_TOPIC)]
            headers += [(H_REASON, (result.outcome.reason or "").encode("ascii", "replace")),
                        (H_SOURCE_TOPIC, rec.topic.encode("ascii"))]
            # Still encrypted: the dead letter holds the original ciphertext, untouched.
            futures.append(await send(DEADLETTER_TOPIC, event_id, rec.value, headers))
        outcome = result.outcome
        if outcome.event_id != event_id:
            outcome = outcome.model_copy(update={"event_id": event_id})
        futures.append(await send(OUTCOMES_TOPIC, event_id, outcome_json(outcome)))
        return futures

    @app.agent(ingest, concurrency=1)
    async def route(stream: Any) -> None:
        async for batch in stream.take_events(settings.worker_batch_size,
                                              within=settings.worker_batch_within):
            try:
                records = dedupe_batch([_record(ev) for ev in batch])
                todo = [(record_event_id(r) or r.position, r) for r in records]
                done = await asyncio.to_thread(db.already_processed, [e for e, _ in todo])
                now = dt.datetime.now(dt.UTC)
                futures: list[Awaitable[Any]] = []
                ledger: list[tuple[str, str]] = []
                identities: list[Identity] = []
                for event_id, rec in todo:
                    if event_id in done:
                        continue
                    result = pipeline.process(rec, now)
                    if isinstance(result, Routed):
                        identities += result.identities
                    futures += await emit(event_id, result)
                    ledger.append((event_id, result.outcome.status.value))
                # The vault write runs while the broker acknowledges; both finish before the
                # ledger records the batch, so a crash in between replays the whole batch.
                await asyncio.gather(asyncio.to_thread(vault.put, identities), *futures)
                await asyncio.to_thread(db.mark_processed, ledger)
            except Exception as exc:
                _die(exc)

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

    async def emit_derived(derived: Derived) -> None:
        futures = [await send(cases_topic(c.queue), derived.event_id, concern_json(c))
                   for c in derived.concerns]
        if not settings.unsafe_skip_disclosure_log:
            futures += [await send(DISCLOSURES_TOPIC, e.entry_id, entry_message(e))
                        for e in derived.entries]
        await asyncio.gather(asyncio.to_thread(vault.put, derived.identities), *futures)

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
                    await emit_derived(derived)
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

    @app.task
    async def project() -> None:
        try:
            await Projector(settings, db, policy.queues).run()
        except Exception as exc:
            _die(exc)

    @app.task
    async def retain() -> None:
        # Every worker runs it; runs are idempotent and each write re-checks its conditions.
        try:
            await retention_loop(db, policy, ring, settings.retention_interval,
                                 origin=settings.log_origin)
        except Exception as exc:
            _die(exc)

    @app.task
    async def sequence() -> None:
        if settings.unsafe_skip_disclosure_log:
            log.critical("disclosure_log_disabled_for_benchmark")
            return
        audit = AuditLog(db, ring, origin=settings.log_origin,
                         checkpoint_every=settings.checkpoint_every,
                         checkpoint_interval=settings.checkpoint_interval)
        try:
            await Sequencer(settings, audit).run()
        except Exception as exc:
            _die(exc)

    return app

"""The route stage: ingest.<agency> → decrypt/validate/decide/pseudonymise → cases.<queue>,
outcomes, disclosures, signals, deadletter.

A plain consumer (through the broker seam, :mod:`core.bus`) in its own group
(``<worker_id>-route``), not a faust agent. In a faust app the route agent shared rebalances
with the aggregator's table: on the embedded broker a double rebalance followed by table
recovery left ingest partitions unconsumed, and faust's acked-offset bookkeeping once
committed past an event it had not handled (both seen in the kill test, never on Apache
Kafka). Here the loop is short enough to check by reading:

    fetch → pipeline → send all outputs and write the vault
          → store (concerns, outcomes, ledger: one transaction)
          → commit what was read (while the next batch is fetched and decided)

Under a backlog the send, vault and store steps of one batch run while the next batch is
fetched and decided; writes and commits still follow each other in fetch order.

The commit names the offsets of the records just handled (never the consumer's position),
so nothing is committed that has not been decided, written and acknowledged. A commit
refused because the group rebalanced is dropped: the records come back to whoever owns the
partition now, and the ``processed`` ledger turns them into no-ops.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.bus import Bus, Consumer, KafkaBus, Outgoing, Producer, Record, TopicPartition
from core.bus.consumer import commit_handled, fetch_fresh, run_stage
from core.ledger.entries import entry_message
from core.logs import get_logger
from core.policy.evaluator import Policy
from core.privacy.vault import Identity, Vault
from core.settings import AGENCIES, Settings
from core.store import Store
from core.store.engine import STORE_UNAVAILABLE
from schemas.wire import (
    DEADLETTER_TOPIC,
    DISCLOSURES_TOPIC,
    H_PROJECTED,
    H_REASON,
    H_SOURCE_TOPIC,
    OUTCOMES_TOPIC,
    SIGNALS_TOPIC,
    cases_topic,
    ingest_topic,
)
from streams.aggregation import table_key
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
from streams.projector import rows_from_records

log = get_logger("streams.router")
ROUTE_ROLE = "route"
# On the case and outcome records the route stage has projected into the store itself.
PROJECTED = ((H_PROJECTED, b"1"),)


# A fetch this large is a backlog: its write overlaps the next batch's decision (see
# :meth:`Router.step`). A smaller one, a steady trickle where latency counts, is written before
# the next fetch: deciding beside a small batch's write lengthened its round trips (the
# deciding thread holds the GIL) more than it saved.
OVERLAP_FROM = 200


@dataclass(frozen=True)
class Decided:
    """A decided batch: each event's result, in order, and the events already processed."""

    results: list[tuple[str, Result]]
    done: set[str]


def _seen(task: asyncio.Future[Any]) -> None:
    """Mark a background commit's or write's error as retrieved: it is raised where the next
    step awaits it, and not reported again when a stopping stage never does."""
    if not task.cancelled():
        task.exception()


async def _settle(pending: tuple[Consumer, asyncio.Future[Any]] | None,
                  consumer: Consumer) -> None:
    """Wait for work a step left running in the background; work on a consumer since
    replaced (the stage restarted after its error) is abandoned."""
    if pending is None:
        return
    if pending[0] is consumer:
        await pending[1]
    else:
        pending[1].cancel()


def route_group(settings: Settings) -> str:
    """The route stage's consumer group: ``<worker_id>-route``."""
    return f"{settings.worker_id}-{ROUTE_ROLE}"


def ingest_record(msg: Record) -> IngestRecord:
    return IngestRecord(topic=msg.topic, key=msg.key, value=msg.value or b"",
                        headers=dict(msg.headers or ()),
                        position=f"{msg.topic}/{msg.partition}/{msg.offset}")


class Outputs:
    """The worker's one producer (acks=all), started on first use; ``send`` hands a record
    over and returns the future of its acknowledgement, so a batch awaits all at once."""

    def __init__(self, settings: Settings, bus: Bus | None = None) -> None:
        self.settings = settings
        self.bus = bus or KafkaBus(settings.bootstrap_servers)
        self._producer: Producer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> Producer:
        async with self._lock:
            if self._producer is None:
                # No linger: a batch's records are handed over before the sender runs
                # (handing over yields only when a producer batch is full), so they go out
                # together anyway; a linger added its 5 ms to every batch's cycle.
                producer = self.bus.producer(linger_ms=0, max_batch_size=256 * 1024)
                await producer.start()
                self._producer = producer
            return self._producer

    async def send_many(self, records: Sequence[Outgoing]) -> Awaitable[Any]:
        producer = self._producer or await self._started()
        return await producer.send_many(records)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


class Router:
    def __init__(self, settings: Settings, pipeline: Pipeline, policy: Policy, store: Store,
                 vault: Vault, outputs: Outputs) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.policy = policy
        self.store = store
        self.vault = vault
        self.outputs = outputs
        self._committing: tuple[Consumer, asyncio.Future[bool]] | None = None
        self._writing: tuple[Consumer, asyncio.Future[None]] | None = None
        self._written: frozenset[str] = frozenset()  # the event ids of the last batch written

    def consumer(self) -> Consumer:
        """The route stage's consumer on the outputs' bus: ingest.<agency> for every agency."""
        return self.outputs.bus.consumer(
            [ingest_topic(a) for a in AGENCIES], group_id=route_group(self.settings),
            max_poll_records=self.settings.worker_batch_size,
            session_timeout_ms=int(self.settings.worker_session_timeout * 1000))

    async def run(self) -> None:
        try:
            await run_stage(self.consumer, self.step, "route", transient=STORE_UNAVAILABLE)
        finally:
            # A write still running when the stage stops is never committed: its batch
            # comes back to the group, and the ledger makes what it stored a no-op.
            if self._writing is not None:
                self._writing[1].cancel()

    async def step(self, consumer: Consumer, timeout_ms: int = 500) -> int:
        """One fetch: decide it, store it, then commit the offsets of what was read. Returns
        the records read.

        The commit runs while the next batch is fetched and decided (it waits ~7 ms for the
        group coordinator, a fixed part of every batch's cycle at a steady trickle); the
        next write lets it finish before committing again, and so does a step that fetched
        nothing. Only handled records are ever committed, so a commit that a crash loses
        replays a batch the ``processed`` ledger turns into no-ops.

        Under a backlog (a fetch of at least ``OVERLAP_FROM`` records) the batch's outputs,
        vault and store write run while the next batch is fetched and decided: one worker
        waited on the broker and PostgreSQL for a fifth to a quarter of a drain's time, its
        core idle.
        Writes and commits still go one batch after the other, in fetch order."""
        batches = await fetch_fresh(consumer, timeout_ms=timeout_ms,
                                    max_records=self.settings.worker_batch_size)
        if not batches:
            await self._write_settled(consumer)
            await self._commit_settled(consumer)
            return 0
        read = sum(len(msgs) for msgs in batches.values())
        decided = await self.decide([ingest_record(m) for msgs in batches.values() for m in msgs])
        await self._write_settled(consumer)
        writing = self._write_then_commit(consumer, batches, decided)
        if read < OVERLAP_FROM:
            await writing
        else:
            task = asyncio.ensure_future(writing)
            task.add_done_callback(_seen)
            self._writing = (consumer, task)
        return read

    async def _write_then_commit(self, consumer: Consumer,
                                 batches: Mapping[TopicPartition, Sequence[Record]],
                                 decided: Decided) -> None:
        await self.write(decided)
        await self._commit_settled(consumer)
        task = asyncio.ensure_future(commit_handled(consumer, batches, "route"))
        task.add_done_callback(_seen)
        self._committing = (consumer, task)

    async def _write_settled(self, consumer: Consumer) -> None:
        """Wait for the write the last step left running (its error is this step's)."""
        pending, self._writing = self._writing, None
        await _settle(pending, consumer)

    async def _commit_settled(self, consumer: Consumer) -> None:
        """Wait for the commit the last write started (its error, if any, is this step's)."""
        pending, self._committing = self._committing, None
        await _settle(pending, consumer)

    async def handle(self, batch: Sequence[IngestRecord]) -> None:
        """Decide one batch and write it (:meth:`decide`, then :meth:`write`)."""
        await self.write(await self.decide(batch))

    async def decide(self, batch: Sequence[IngestRecord]) -> Decided:
        """The batch's results, and which of its events the ``processed`` ledger already
        holds. The CPU work (decrypt, validate, decide, scrub, pseudonymise: ~0.2 ms an
        event, so ~0.2 s for a full batch) runs in a thread, not on the event loop: the loop
        keeps serving the producer's acknowledgements, the fetches, the heartbeats, the
        previous batch's write and the projector and sequencer stages of this process
        meanwhile. The ledger lookup runs beside it (a replayed event is decided for
        nothing, and then dropped)."""
        records = dedupe_batch(batch)
        todo = [(record_event_id(r) or r.position, r) for r in records]
        now = dt.datetime.now(dt.UTC)
        done, results = await asyncio.gather(
            asyncio.to_thread(self.store.already_processed, [e for e, _ in todo]),
            asyncio.to_thread(self._decide, todo, now))
        return Decided(results, done)

    async def write(self, decided: Decided) -> None:
        """Return when the batch's outputs are acknowledged, its identities are in the vault
        and the store holds its concerns, outcomes and ledger entries (one transaction). A
        crash before that transaction replays the batch whole. An event the batch written
        just before held is skipped too: its ledger entry was not yet stored when this
        batch was looked up, if the two overlapped."""
        outgoing: list[Outgoing] = []
        ledger: list[tuple[str, str]] = []
        identities: list[Identity] = []
        projected: list[tuple[str, bytes]] = []
        skip = decided.done | self._written
        for event_id, result in decided.results:
            if event_id in skip:
                continue
            if isinstance(result, Routed):
                identities += result.identities
            outgoing += self.emit(event_id, result, projected)
            ledger.append((event_id, result.outcome.status.value))
        acknowledged = await self.outputs.send_many(outgoing)
        # The vault write runs while the broker acknowledges; both finish before the store
        # records the batch.
        await asyncio.gather(asyncio.to_thread(self.vault.put, identities), acknowledged)
        # The route stage projects its own results (the projector skips the records marked
        # H_PROJECTED): a routed concern is readable one store write after its decision,
        # not one more consumer hop later.
        outcomes, concerns = rows_from_records(projected)
        await asyncio.to_thread(self.store.record_decided, ledger, outcomes, concerns)
        self._written = frozenset(event_id for event_id, _ in decided.results)

    def _decide(self, todo: Sequence[tuple[str, IngestRecord]],
                now: dt.datetime) -> list[tuple[str, Result]]:
        return [(event_id, self.pipeline.process(rec, now)) for event_id, rec in todo]

    def emit(self, event_id: str, result: Result,
             projected: list[tuple[str, bytes]]) -> list[Outgoing]:
        """``result``'s records; the case and outcome records, which this stage projects
        itself, are also appended to ``projected`` and go out marked so."""
        key = event_id.encode("ascii")
        out: list[Outgoing] = []
        if isinstance(result, Routed):
            for concern in result.concerns:
                topic, value = cases_topic(concern.queue), concern_json(concern)
                projected.append((topic, value))
                out.append(Outgoing(topic, key, value, PROJECTED))
        if isinstance(result, Routed | Rejected) and not self.settings.unsafe_skip_disclosure_log:
            out += [Outgoing(DISCLOSURES_TOPIC, entry.entry_id.encode("ascii"),
                             entry_message(entry)) for entry in result.entries]
        elif isinstance(result, Aggregated):
            signal = result.signal
            rule = self.policy.signal_rule(signal.kind.value)
            assert rule is not None  # the pipeline aggregates only kinds the policy has a rule for
            table = signal.pseudonym if rule.per == "subject" else signal.area.value
            out.append(Outgoing(SIGNALS_TOPIC, table_key(rule.id, table),
                                signal.model_dump_json().encode("utf-8")))
        elif isinstance(result, Quarantined):
            rec = result.record
            headers = [(k, v) for k, v in rec.headers.items()
                       if k not in (H_REASON, H_SOURCE_TOPIC)]
            headers += [(H_REASON, (result.outcome.reason or "").encode("ascii", "replace")),
                        (H_SOURCE_TOPIC, rec.topic.encode("ascii"))]
            # Still encrypted: the dead letter holds the original ciphertext, untouched.
            out.append(Outgoing(DEADLETTER_TOPIC, key, rec.value, headers))
        outcome = result.outcome
        if outcome.event_id != event_id:
            outcome = outcome.model_copy(update={"event_id": event_id})
        value = outcome_json(outcome)
        projected.append((OUTCOMES_TOPIC, value))
        out.append(Outgoing(OUTCOMES_TOPIC, key, value, PROJECTED))
        return out

    async def emit_derived(self, derived: Derived) -> None:
        """A concern the aggregator made: its case records and log entries, acknowledged, and
        its identities (none for an area concern) in the vault."""
        key = derived.event_id.encode("ascii")
        outgoing = [Outgoing(cases_topic(c.queue), key, concern_json(c))
                    for c in derived.concerns]
        if not self.settings.unsafe_skip_disclosure_log:
            outgoing += [Outgoing(DISCLOSURES_TOPIC, e.entry_id.encode("ascii"),
                                  entry_message(e)) for e in derived.entries]
        acknowledged = await self.outputs.send_many(outgoing)
        await asyncio.gather(asyncio.to_thread(self.vault.put, derived.identities), acknowledged)

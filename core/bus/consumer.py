"""The consumers the worker's own stages use beside faust (projector, router, sequencer).

Each stage has its own consumer group, so that a backlog on the ingest topics never starves it
(a faust app shares one fetcher between its agents, and a full agent buffer pauses them all).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from core.bus.kafka import KafkaBus
from core.bus.protocol import Bus, CommitFailed, Consumer, Record, TopicPartition
from core.logs import get_logger
from core.settings import Settings

log = get_logger("core.bus.consumer")


# How long the broker may hold a fetch of a stage nobody waits on (the projector, the
# sequencer) to gather a batch: see :meth:`core.bus.protocol.Bus.consumer`.
GATHER_MS = 200


def own_group_consumer(settings: Settings, role: str, topics: Iterable[str],
                       bus: Bus | None = None, *, gather_ms: int | None = None) -> Consumer:
    """A consumer in the group ``<worker_id>-<role>``: manual commits after the work is
    stored, from the earliest offset, the worker's batch size and session timeout
    (``gather_ms``: see :meth:`core.bus.protocol.Bus.consumer`)."""
    return (bus or KafkaBus(settings.bootstrap_servers)).consumer(
        topics, group_id=f"{settings.worker_id}-{role}",
        max_poll_records=settings.worker_batch_size,
        session_timeout_ms=int(settings.worker_session_timeout * 1000), gather_ms=gather_ms)


# Seconds to wait before the 1st, 2nd, … restart of a stage whose store was unavailable.
STAGE_BACKOFF = (1.0, 2.0, 5.0, 10.0)


async def run_stage(make_consumer: Callable[[], Consumer],
                    step: Callable[[Consumer], Awaitable[int]], stage: str, *,
                    transient: tuple[type[BaseException], ...] = (),
                    backoff: Sequence[float] = STAGE_BACKOFF) -> None:
    """Start a consumer from ``make_consumer`` and call ``step`` (one fetch: handle it, then
    commit) until cancelled; the consumer is stopped whatever ends the loop. Each change of
    the partitions the group assigns this worker is logged (``stage_assignment``: how many,
    not which records), so an operator sees a rebalance and which workers carry a stage.

    An error of a ``transient`` kind (the store unavailable: a database restart or failover)
    pauses the stage instead of ending the worker: the consumer leaves its group, so the batch
    in hand, never committed, goes back to the group from the last committed offset; after a
    back-off a fresh consumer joins again. Every stage's writes are idempotent, so what the
    failed batch had already done is done once."""
    failures = 0
    while True:
        consumer = make_consumer()
        await consumer.start()
        held: set[TopicPartition] = set()
        try:
            while True:
                await step(consumer)
                failures = 0
                now = consumer.assignment()
                if now != held:
                    held = now
                    log.info("stage_assignment", stage=stage, partitions=len(now))
        except transient as exc:
            wait = backoff[min(failures, len(backoff) - 1)]
            failures += 1
            log.warning("stage_paused_store_unavailable", stage=stage,
                        error=type(exc).__name__, retry_in_s=wait)
        finally:
            await consumer.stop()
        await asyncio.sleep(wait)


# How long a stage waits, after a fetch that brought records, for the fetch aiokafka sends
# the moment those were handed out (see :func:`fetch_fresh`).
FRESH_WAIT_MS = 10


async def fetch_fresh(consumer: Consumer, *, timeout_ms: int, max_records: int
                      ) -> dict[TopicPartition, list[Record]]:
    """One batch that is up to date. aiokafka fetches a partition again only once the records
    buffered for it have been handed out, so what ``getmany`` returns was fetched while the
    previous batch was being handled: at a steady trickle every record waited a whole batch
    cycle in that buffer (at half load on PostgreSQL ~80 ms, measured with the records'
    ``ssp-ingested-at``). The fetch sent as they are handed out answers within milliseconds on
    a busy topic; this takes what it brings too (at most ``FRESH_WAIT_MS`` more), appended per
    partition, in order."""
    first = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    batches = {tp: list(msgs) for tp, msgs in first.items() if msgs}
    room = max_records - sum(len(msgs) for msgs in batches.values())
    if not batches or room <= 0:
        return batches
    more = await consumer.getmany(timeout_ms=min(timeout_ms, FRESH_WAIT_MS), max_records=room)
    for tp, msgs in more.items():
        batches.setdefault(tp, []).extend(msgs)
    return batches


def handled_offsets(batches: Mapping[TopicPartition, Sequence[Record]]
                    ) -> dict[TopicPartition, int]:
    """The offsets to commit once ``batches`` are handled: each partition's last record + 1
    (explicit, never "whatever the consumer has fetched by now")."""
    return {TopicPartition(tp.topic, tp.partition): msgs[-1].offset + 1
            for tp, msgs in batches.items() if msgs}


async def commit_handled(consumer: Consumer, batches: Mapping[TopicPartition, Sequence[Record]],
                         stage: str) -> bool:
    """Commit what ``batches`` held. A commit the group refuses because a rebalance took the
    partitions meanwhile is "assignment lost", not a crash: the new owner gets the records
    again from the last committed offset, and every stage's writes are idempotent (by event
    id, concern id or entry id). False when the commit was refused."""
    offsets = handled_offsets(batches)
    if not offsets:
        return True
    try:
        await consumer.commit(offsets)
    except CommitFailed:
        log.info("commit_dropped_after_rebalance", stage=stage, partitions=len(offsets))
        return False
    return True

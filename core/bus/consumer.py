"""The consumers the worker's own stages use beside faust (projector, router, sequencer).

Each stage has its own consumer group, so that a backlog on the ingest topics never starves it
(a faust app shares one fetcher between its agents, and a full agent buffer pauses them all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from core.bus.kafka import KafkaBus
from core.bus.protocol import Bus, Consumer
from core.settings import Settings


def own_group_consumer(settings: Settings, role: str, topics: Iterable[str],
                       bus: Bus | None = None) -> Consumer:
    """A consumer in the group ``<worker_id>-<role>``: manual commits after the work is
    stored, from the earliest offset, the worker's batch size and session timeout."""
    return (bus or KafkaBus(settings.bootstrap_servers)).consumer(
        topics, group_id=f"{settings.worker_id}-{role}",
        max_poll_records=settings.worker_batch_size,
        session_timeout_ms=int(settings.worker_session_timeout * 1000))


async def run_stage(consumer: Consumer, step: Callable[[Consumer], Awaitable[int]]) -> None:
    """Start ``consumer`` and call ``step`` (one fetch: handle it, then commit) until
    cancelled; the consumer is stopped whatever ends the loop."""
    await consumer.start()
    try:
        while True:
            await step(consumer)
    finally:
        await consumer.stop()

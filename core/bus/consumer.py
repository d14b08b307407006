"""The consumers the worker's own stages use beside faust (projector, router, sequencer).

Each stage has its own consumer group, so that a backlog on the ingest topics never starves it
(a faust app shares one fetcher between its agents, and a full agent buffer pauses them all).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer

from core.settings import Settings


def own_group_consumer(settings: Settings, role: str, topics: Iterable[str]) -> AIOKafkaConsumer:
    """A consumer in the group ``<worker_id>-<role>``: manual commits after the work is
    stored, from the earliest offset, the worker's batch size and session timeout."""
    session_ms = int(settings.worker_session_timeout * 1000)
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{settings.worker_id}-{role}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.worker_batch_size,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(500, session_ms // 5),
    )


"""The broker seam in one process: topics with partitions, records placed by key the way
Kafka's default partitioner places them, consumer groups with committed offsets.

For tests that drive the hub end to end without a broker (ingest → route → project → read),
like httpx's ``MockTransport``. Thread-safe: the API under ``TestClient`` runs on its own
event loop in another thread. Consumers poll (every few milliseconds) rather than wait on an
event, so that producers and consumers may live on different loops.

Simplifications against Kafka, none of which the hub's stages rely on: a record is
acknowledged as soon as it is appended; no retention or compaction; group membership changes
take effect at the next fetch (partitions are dealt to members in order of joining), and a
member's commit for a partition it no longer owns fails with :class:`CommitFailed`.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import murmur2

from core.bus.protocol import (
    BusError,
    CommitFailed,
    Headers,
    Outgoing,
    Record,
    TopicPartition,
)
from core.bus.topics import ONE_PARTITION_TOPICS

POLL_S = 0.002


@dataclass(frozen=True)
class MemoryRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class InMemoryBus:
    """``partitions`` per topic unless ``topic_partitions`` names another count (the hub's
    one-partition topics have one, as :mod:`core.bus.topics` creates them); topics are made
    on first use. ``available = False`` makes every client fail as an unreachable
    broker would (:class:`BusError`)."""

    def __init__(self, partitions: int = 3, *,
                 topic_partitions: Mapping[str, int] | None = None) -> None:
        self.default_partitions = partitions
        self.topic_partitions = {**dict.fromkeys(ONE_PARTITION_TOPICS, 1),
                                 **(topic_partitions or {})}
        self.available = True
        self._lock = threading.Lock()
        self._logs: dict[str, list[list[MemoryRecord]]] = {}
        self._committed: dict[tuple[str, TopicPartition], int] = {}
        self._members: dict[str, list[InMemoryConsumer]] = {}
        self._round_robin = itertools.count()

    # -- the Bus protocol ---------------------------------------------------------------------
    def producer(self, *, linger_ms: int = 5, max_batch_size: int | None = None,
                 request_timeout_ms: int | None = None) -> InMemoryProducer:
        return InMemoryProducer(self)

    def consumer(self, topics: Iterable[str], *, group_id: str, max_poll_records: int,
                 session_timeout_ms: int, gather_ms: int | None = None) -> InMemoryConsumer:
        return InMemoryConsumer(self, tuple(topics), group_id, max_poll_records)

    # -- inspection (tests) -------------------------------------------------------------------
    def records(self, topic: str) -> list[MemoryRecord]:
        """Every record on ``topic``, partition by partition."""
        with self._lock:
            return [r for part in self._logs.get(topic, []) for r in part]

    def committed(self, group_id: str, tp: TopicPartition) -> int | None:
        with self._lock:
            return self._committed.get((group_id, tp))

    def lag(self, group_id: str, topics: Iterable[str]) -> int:
        """Records on ``topics`` that ``group_id`` has not committed."""
        with self._lock:
            return sum(len(part) - self._committed.get((group_id, TopicPartition(t, i)), 0)
                       for t in topics for i, part in enumerate(self._logs.get(t, [])))

    # -- used by the clients ------------------------------------------------------------------
    def check(self) -> None:
        if not self.available:
            raise BusError("broker unavailable")

    def _log(self, topic: str) -> list[list[MemoryRecord]]:
        if topic not in self._logs:
            count = self.topic_partitions.get(topic, self.default_partitions)
            self._logs[topic] = [[] for _ in range(count)]
        return self._logs[topic]

    def append(self, topic: str, value: bytes, key: bytes | None, headers: Headers
               ) -> MemoryRecord:
        self.check()
        with self._lock:
            parts = self._log(topic)
            n = next(self._round_robin) if key is None else murmur2(key) & 0x7FFFFFFF
            part = parts[n % len(parts)]
            record = MemoryRecord(topic, n % len(parts), len(part), key, value, tuple(headers))
            part.append(record)
            return record

    def join(self, member: InMemoryConsumer) -> None:
        with self._lock:
            self._members.setdefault(member.group_id, []).append(member)

    def leave(self, member: InMemoryConsumer) -> None:
        with self._lock:
            members = self._members.get(member.group_id, [])
            if member in members:
                members.remove(member)

    def assignment(self, member: InMemoryConsumer) -> list[TopicPartition]:
        """The partitions of the member's topics dealt round the group in joining order."""
        with self._lock:
            members = self._members.get(member.group_id, [])
            if member not in members:
                return []
            tps = [TopicPartition(t, i) for t in sorted(set(member.topics))
                   for i in range(len(self._log(t)))]
            me = members.index(member)
            return [tp for k, tp in enumerate(tps) if k % len(members) == me]

    def fetch(self, tp: TopicPartition, position: int, limit: int) -> list[MemoryRecord]:
        with self._lock:
            return self._log(tp.topic)[tp.partition][position:position + limit]

    def commit(self, member: InMemoryConsumer, offsets: Mapping[TopicPartition, int]) -> None:
        owned = set(self.assignment(member))
        if any(tp not in owned for tp in offsets):
            raise CommitFailed("the group rebalanced")
        with self._lock:
            for tp, offset in offsets.items():
                self._committed[(member.group_id, tp)] = offset

    def position(self, group_id: str, tp: TopicPartition) -> int:
        with self._lock:
            return self._committed.get((group_id, tp), 0)  # auto_offset_reset=earliest


class InMemoryProducer:
    def __init__(self, bus: InMemoryBus) -> None:
        self.bus = bus

    async def start(self) -> None:
        self.bus.check()

    async def stop(self) -> None:
        return None

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers = ()) -> Awaitable[Any]:
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(self.bus.append(topic, value, key, headers))
        return acked

    async def send_many(self, records: Sequence[Outgoing]) -> Awaitable[Any]:
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result([self.bus.append(r.topic, r.value, r.key, r.headers) for r in records])
        return acked

    async def ready(self) -> None:
        self.bus.check()


class InMemoryConsumer:
    def __init__(self, bus: InMemoryBus, topics: tuple[str, ...], group_id: str,
                 max_poll_records: int) -> None:
        self.bus = bus
        self.topics = topics
        self.group_id = group_id
        self.max_poll_records = max_poll_records
        self._positions: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        self.bus.check()
        self.bus.join(self)

    async def stop(self) -> None:
        self.bus.leave(self)

    def _assigned(self) -> list[TopicPartition]:
        owned = self.bus.assignment(self)
        self._positions = {tp: self._positions.get(tp, self.bus.position(self.group_id, tp))
                           for tp in owned}
        return owned

    def _take(self, limit: int) -> dict[TopicPartition, Sequence[Record]]:
        out: dict[TopicPartition, Sequence[Record]] = {}
        for tp in self._assigned():
            if limit <= 0:
                break
            records = self.bus.fetch(tp, self._positions[tp], limit)
            if records:
                out[tp] = records
                self._positions[tp] += len(records)
                limit -= len(records)
        return out

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None
                      ) -> Mapping[TopicPartition, Sequence[Record]]:
        self.bus.check()
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            batch = self._take(max_records or self.max_poll_records)
            if batch or time.monotonic() >= deadline:
                return batch
            await asyncio.sleep(POLL_S)

    def assignment(self) -> set[TopicPartition]:
        return set(self.bus.assignment(self))

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        self.bus.check()
        self.bus.commit(self, dict(self._positions) if offsets is None else {
            TopicPartition(tp.topic, tp.partition): n for tp, n in offsets.items()})

"""The broker seam on aiokafka: the product's implementation of :class:`core.bus.Bus`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as KafkaTopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.partitioner import murmur2

from core.bus.protocol import BusError, CommitFailed, Headers, Outgoing, Record, TopicPartition


def _acknowledged(sent: asyncio.Future[Any]) -> asyncio.Future[Any]:
    """``sent`` with a broker failure surfaced as :class:`BusError` (a plain future, chained:
    cheaper than a task per record)."""
    out: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def copy(done: asyncio.Future[Any]) -> None:
        if out.done():
            return
        if done.cancelled():
            out.cancel()
        elif (exc := done.exception()) is not None:
            if isinstance(exc, KafkaError):
                failure = BusError(type(exc).__name__)
                failure.__cause__ = exc
                out.set_exception(failure)
            else:
                out.set_exception(exc)
        else:
            out.set_result(done.result())

    sent.add_done_callback(copy)
    return out


class KafkaProducer:
    def __init__(self, bootstrap_servers: str, **config: Any) -> None:
        # The embedded broker has no idempotent producer; duplicates from a retry are
        # absorbed downstream by event id and entry id.
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all",
                                          enable_idempotence=False, **config)

    async def start(self) -> None:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise BusError(type(exc).__name__) from exc

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers = ()) -> Awaitable[Any]:
        try:
            sent = await self._producer.send(topic, value, key=key, headers=list(headers))
        except KafkaError as exc:
            raise BusError(type(exc).__name__) from exc
        return _acknowledged(sent)

    async def send_many(self, records: Sequence[Outgoing]) -> Awaitable[Any]:
        """One producer batch per partition (``create_batch``/``send_batch``) instead of a
        ``send`` per record: the route stage hands over ~4 records an event, and ``send``'s
        per-record work (metadata check, partitioner, accumulator, a future each) was ~10 %
        of the worker's CPU in a py-spy profile of ``bench.throughput``."""
        try:
            batches = [await self._producer.send_batch(batch, topic, partition=partition)
                       for (topic, partition), batch in await self._batches(records)]
        except KafkaError as exc:
            raise BusError(type(exc).__name__) from exc
        return asyncio.gather(*(_acknowledged(b) for b in batches))

    async def _batches(self, records: Sequence[Outgoing]) -> list[tuple[tuple[str, int], Any]]:
        """``records`` in producer batches, per (topic, partition) in the order they come; a
        partition's records that outgrow one batch continue in the next."""
        partitions: dict[str, list[int]] = {}
        hashes: dict[bytes, int] = {}  # an event's case and outcome records share its key
        out: list[tuple[tuple[str, int], Any]] = []
        open_batch: dict[tuple[str, int], Any] = {}
        for r in records:
            listed = partitions.get(r.topic)
            if listed is None:
                # In the order aiokafka's metadata lists them, as ``send`` takes them.
                listed = partitions[r.topic] = list(await self._producer.partitions_for(r.topic))
            h = hashes.get(r.key)
            if h is None:
                h = hashes[r.key] = murmur2(r.key) & 0x7FFFFFFF
            # Kafka's default partitioner for a keyed record (aiokafka's DefaultPartitioner).
            tp = (r.topic, listed[h % len(listed)])
            batch = open_batch.get(tp)
            if batch is None or batch.append(key=r.key, value=r.value, timestamp=None,
                                             headers=list(r.headers)) is None:
                batch = open_batch[tp] = self._producer.create_batch()
                batch.append(key=r.key, value=r.value, timestamp=None, headers=list(r.headers))
                out.append((tp, batch))
        return out

    async def ready(self) -> None:
        try:
            await self._producer.client.fetch_all_metadata()
        except KafkaError as exc:
            raise BusError(type(exc).__name__) from exc


# What a gathering fetch waits for (see KafkaBus.consumer): about a thousand ~1 KB records, a
# full batch of the worker's stages.
GATHER_BYTES = 1024 * 1024


class KafkaConsumer:
    def __init__(self, topics: Iterable[str], bootstrap_servers: str, **config: Any) -> None:
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap_servers,
                                          enable_auto_commit=False,
                                          auto_offset_reset="earliest", **config)

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            raise BusError(type(exc).__name__) from exc

    async def stop(self) -> None:
        await self._consumer.stop()

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None
                      ) -> Mapping[TopicPartition, Sequence[Record]]:
        # aiokafka's TopicPartition and ConsumerRecord have the seam's shape: no copy.
        batches: Mapping[TopicPartition, Sequence[Record]] = await self._consumer.getmany(
            timeout_ms=timeout_ms, max_records=max_records)
        return batches

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        theirs = None if offsets is None else {
            KafkaTopicPartition(tp.topic, tp.partition): n for tp, n in offsets.items()}
        try:
            await self._consumer.commit(theirs)
        except (CommitFailedError, IllegalStateError) as exc:
            # IllegalStateError: a partition of the offsets is no longer assigned to us (the
            # group rebalanced between the fetch and the commit): the same "assignment lost".
            raise CommitFailed(type(exc).__name__) from exc


class KafkaBus:
    """aiokafka against ``bootstrap_servers`` (Apache Kafka or the embedded tansu)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    def producer(self, *, linger_ms: int = 5, max_batch_size: int | None = None,
                 request_timeout_ms: int | None = None) -> KafkaProducer:
        config: dict[str, Any] = {"linger_ms": linger_ms}
        if max_batch_size is not None:
            config["max_batch_size"] = max_batch_size
        if request_timeout_ms is not None:
            config["request_timeout_ms"] = request_timeout_ms
        return KafkaProducer(self.bootstrap_servers, **config)

    def consumer(self, topics: Iterable[str], *, group_id: str, max_poll_records: int,
                 session_timeout_ms: int, gather_ms: int | None = None) -> KafkaConsumer:
        # gather_ms: the broker answers a fetch once GATHER_BYTES are there or gather_ms has
        # passed (Kafka's fetch.min.bytes and fetch.max.wait.ms); without it, at the first
        # record (aiokafka's defaults: 1 byte, 500 ms).
        gather = {} if gather_ms is None else {"fetch_min_bytes": GATHER_BYTES,
                                               "fetch_max_wait_ms": gather_ms}
        return KafkaConsumer(
            topics, self.bootstrap_servers, group_id=group_id,
            max_poll_records=max_poll_records, session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(500, session_timeout_ms // 5), **gather)

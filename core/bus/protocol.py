"""The broker seam: what the hub's stages need of Kafka, and nothing more.

A :class:`Bus` makes producers and group consumers. A producer's ``send`` hands a record over
and returns an awaitable of its acknowledgement (so a batch is sent, then awaited at once); a
consumer fetches batches per partition and commits offsets explicitly. Two implementations:
:class:`core.bus.kafka.KafkaBus` (aiokafka, the product) and
:class:`core.bus.memory.InMemoryBus` (one process, for tests — the way httpx ships a mock
transport). Failures of the broker surface as :class:`BusError`, whichever implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

Headers = Sequence[tuple[str, bytes]]


class Outgoing(NamedTuple):
    """One record to produce (:meth:`Producer.send_many`)."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers = ()


class BusError(Exception):
    """The broker is unreachable or did not acknowledge; the caller may retry later."""


class CommitFailed(BusError):
    """A commit refused because the group rebalanced: the records go to the new owner."""


class TopicPartition(NamedTuple):
    topic: str
    partition: int


class Record(Protocol):
    """One consumed record (aiokafka's ``ConsumerRecord`` has this shape)."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class Producer(Protocol):
    async def start(self) -> None:
        """Connect; :class:`BusError` if the broker cannot be reached."""

    async def stop(self) -> None: ...

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers = ()) -> Awaitable[Any]:
        """Hand one record over; the result resolves when the broker acknowledged it (and
        raises :class:`BusError` if it never does)."""

    async def send_many(self, records: Sequence[Outgoing]) -> Awaitable[Any]:
        """Hand ``records`` over at once, placed by key as :meth:`send` places them and in
        their order on each partition; the result resolves when the broker acknowledged
        them all (:class:`BusError` if it never does)."""

    async def ready(self) -> None:
        """Return if the broker answers a metadata request; else :class:`BusError`."""


class Consumer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None
                      ) -> Mapping[TopicPartition, Sequence[Record]]:
        """Up to ``max_records`` records per :class:`TopicPartition` (``{}`` after
        ``timeout_ms`` with nothing new)."""

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        """Commit ``offsets`` (the next offset to read, per partition), or everything fetched
        so far; :class:`CommitFailed` after a rebalance."""

    def assignment(self) -> set[TopicPartition]:
        """The partitions the group assigns this member now (empty before the first fetch)."""


class Bus(Protocol):
    def producer(self, *, linger_ms: int = 5, max_batch_size: int | None = None,
                 request_timeout_ms: int | None = None) -> Producer:
        """An acks=all producer (not started)."""

    def consumer(self, topics: Iterable[str], *, group_id: str, max_poll_records: int,
                 session_timeout_ms: int, gather_ms: int | None = None) -> Consumer:
        """A consumer in ``group_id``: manual commits, from the earliest offset (not
        started). With ``gather_ms`` the broker may hold each fetch up to that long to gather
        a batch, for a stage whose latency nobody waits on: at a steady trickle a fetch
        answered at the first new record made one fetch, hand-over and commit per few
        records."""

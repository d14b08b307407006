"""The broker seam (core.bus): the in-memory bus behaves as the stages need Kafka to behave
(placement by key, consumer groups, committed offsets, rebalance), and both implementations
answer an unreachable broker with BusError."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from core.bus import (
    Bus,
    BusError,
    CommitFailed,
    Consumer,
    InMemoryBus,
    KafkaBus,
    Outgoing,
    TopicPartition,
)
from core.bus.consumer import commit_handled, fetch_fresh

pytestmark = pytest.mark.timeout(30)
TOPIC = "ingest.school"


async def _fill(bus: InMemoryBus, keys: list[bytes]) -> None:
    producer = bus.producer()
    await producer.start()
    acks = [await producer.send(TOPIC, b"v%d" % i, key=k) for i, k in enumerate(keys)]
    await asyncio.gather(*acks)


async def _drain(consumer: Consumer) -> list[bytes]:
    got: list[bytes] = []
    while batch := await consumer.getmany(timeout_ms=0):
        got += [m.value or b"" for msgs in batch.values() for m in msgs]
    return got


async def test_records_are_placed_by_key_as_kafkas_default_partitioner_places_them() -> None:
    bus = InMemoryBus(partitions=4)
    keys = [b"%032x" % i for i in range(40)]

    await _fill(bus, keys)

    placed = {r.key: r.partition for r in bus.records(TOPIC)}
    kafka = DefaultPartitioner()
    assert placed == {k: kafka(k, [0, 1, 2, 3], [0, 1, 2, 3]) for k in keys}
    assert len(set(placed.values())) > 1
    for part in range(4):  # offsets count up per partition
        offsets = [r.offset for r in bus.records(TOPIC) if r.partition == part]
        assert offsets == list(range(len(offsets)))


async def test_a_group_resumes_from_its_committed_offsets_and_another_group_from_the_start(
) -> None:
    bus = InMemoryBus()
    await _fill(bus, [b"a", b"b", b"c"])
    first = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    await first.start()
    assert len(await _drain(first)) == 3
    await first.commit()
    await first.stop()
    await _fill(bus, [b"d"])

    again = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    other = bus.consumer([TOPIC], group_id="h", max_poll_records=100, session_timeout_ms=1)
    await again.start()
    await other.start()

    assert await _drain(again) == [b"v0"]  # only the record produced after the commit
    assert len(await _drain(other)) == 4
    assert bus.lag("g", [TOPIC]) == 1  # read, not committed


async def test_uncommitted_records_come_back_to_the_next_member() -> None:
    bus = InMemoryBus()
    await _fill(bus, [b"a", b"b"])
    crashed = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    await crashed.start()
    assert len(await _drain(crashed)) == 2
    await crashed.stop()  # no commit

    successor = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    await successor.start()

    assert sorted(await _drain(successor)) == [b"v0", b"v1"]


async def test_members_of_a_group_share_the_partitions_and_a_lost_one_cannot_commit() -> None:
    bus = InMemoryBus(partitions=4)
    await _fill(bus, [b"%d" % i for i in range(20)])
    one = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    two = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    await one.start()
    await two.start()

    got_one, got_two = await _drain(one), await _drain(two)

    assert len(got_one) + len(got_two) == 20
    assert not set(got_one) & set(got_two)
    owned_by_one = set(bus.assignment(one))
    await two.stop()
    await one.commit()  # still owns its partitions
    other = next(tp for tp in (TopicPartition(TOPIC, p) for p in range(4))
                 if tp not in owned_by_one)
    stranger = bus.consumer([TOPIC], group_id="g", max_poll_records=1, session_timeout_ms=1)
    with pytest.raises(CommitFailed):
        await stranger.commit({other: 1})  # never joined: owns nothing


async def test_getmany_waits_for_a_record_produced_meanwhile() -> None:
    bus = InMemoryBus()
    consumer = bus.consumer([TOPIC], group_id="g", max_poll_records=10, session_timeout_ms=1)
    await consumer.start()

    async def later() -> None:
        await asyncio.sleep(0.02)
        await _fill(bus, [b"k"])

    task = asyncio.create_task(later())
    batch = await consumer.getmany(timeout_ms=2000)
    await task

    assert [m.value for msgs in batch.values() for m in msgs] == [b"v0"]


async def test_an_unavailable_in_memory_broker_fails_like_an_unreachable_one() -> None:
    bus = InMemoryBus()
    producer = bus.producer()
    bus.available = False

    with pytest.raises(BusError):
        await producer.start()
    with pytest.raises(BusError):
        await producer.send(TOPIC, b"x")
    with pytest.raises(BusError):
        await producer.ready()
    assert bus.records(TOPIC) == []


async def test_kafka_producer_start_against_a_closed_port_is_a_bus_error() -> None:
    bus: Bus = KafkaBus("127.0.0.1:1")
    producer = bus.producer(request_timeout_ms=1000)

    with pytest.raises(BusError):
        await producer.start()
    await producer.stop()


async def test_a_stage_whose_store_fails_pauses_and_handles_the_batch_again() -> None:
    """run_stage: a transient error (the store unavailable) leaves the uncommitted batch to
    the group and a fresh consumer takes it again after the back-off; no record is lost, none
    committed before it is handled, and the worker goes on instead of exiting."""
    import sqlalchemy as sa

    from core.bus.consumer import commit_handled, run_stage
    from core.store.engine import STORE_UNAVAILABLE

    bus = InMemoryBus()
    keys = [b"k%d" % i for i in range(12)]
    await _fill(bus, keys)
    handled: list[bytes] = []
    consumers = 0
    failed = [False]

    def make() -> Consumer:
        nonlocal consumers
        consumers += 1
        return bus.consumer([TOPIC], group_id="stage", max_poll_records=100,
                            session_timeout_ms=1)

    async def step(consumer: Consumer) -> int:
        batches = await consumer.getmany(timeout_ms=50)
        records = [m.value or b"" for msgs in batches.values() for m in msgs]
        if records and not failed[0]:
            failed[0] = True
            raise sa.exc.OperationalError("INSERT …", {}, Exception("server closed"))
        handled.extend(records)
        await commit_handled(consumer, batches, "test")
        return len(records)

    task = asyncio.create_task(run_stage(make, step, "test", transient=STORE_UNAVAILABLE,
                                         backoff=(0.01,)))
    for _ in range(200):
        if len(handled) >= len(keys):
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert failed[0]
    assert consumers == 2  # the failed one left the group; a fresh one joined
    assert sorted(handled) == sorted(b"v%d" % i for i in range(len(keys)))


async def test_a_stage_error_that_is_not_transient_still_ends_the_stage() -> None:
    from core.bus.consumer import run_stage
    from core.store.engine import STORE_UNAVAILABLE

    bus = InMemoryBus()

    async def step(_consumer: Consumer) -> int:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await run_stage(lambda: bus.consumer([TOPIC], group_id="g", max_poll_records=10,
                                           session_timeout_ms=1),
                        step, "test", transient=STORE_UNAVAILABLE)


class _ArrivesAsHandedOut:
    """A consumer whose topic gets a new record just after a fetch has handed records out:
    what aiokafka's next fetch, sent at that moment, brings back a few ms later."""

    def __init__(self, inner: Consumer, bus: InMemoryBus) -> None:
        self.inner, self.bus, self.calls = inner, bus, 0

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None) -> Any:
        self.calls += 1
        batch = await self.inner.getmany(timeout_ms=timeout_ms, max_records=max_records)
        if self.calls == 1:
            asyncio.get_running_loop().call_later(
                0.002, self.bus.append, TOPIC, b"fresh", b"late", ())
        return batch


async def test_a_fresh_fetch_takes_what_arrived_as_the_first_records_were_handed_out() -> None:
    bus = InMemoryBus(partitions=4)
    await _fill(bus, [b"%d" % i for i in range(8)])
    inner = bus.consumer([TOPIC], group_id="g", max_poll_records=100, session_timeout_ms=1)
    await inner.start()
    consumer = _ArrivesAsHandedOut(inner, bus)

    batch = await fetch_fresh(consumer, timeout_ms=500, max_records=100)  # type: ignore[arg-type]

    values = [m.value or b"" for msgs in batch.values() for m in msgs]
    assert sorted(values) == sorted([b"v%d" % i for i in range(8)] + [b"fresh"])
    for msgs in batch.values():  # per partition, in offset order: safe to commit the last
        assert [m.offset for m in msgs] == list(range(msgs[0].offset, msgs[0].offset + len(msgs)))


async def test_a_fresh_fetch_stays_within_the_batch_size_and_nothing_is_skipped() -> None:
    bus = InMemoryBus(partitions=2)
    await _fill(bus, [b"%d" % i for i in range(30)])
    consumer = bus.consumer([TOPIC], group_id="g", max_poll_records=12, session_timeout_ms=1)
    await consumer.start()

    seen: list[bytes] = []
    while batch := await fetch_fresh(consumer, timeout_ms=0, max_records=12):
        assert sum(len(msgs) for msgs in batch.values()) <= 12
        seen += [m.value or b"" for msgs in batch.values() for m in msgs]
        await commit_handled(consumer, batch, "test")

    assert sorted(seen) == sorted(b"v%d" % i for i in range(30))


async def test_records_handed_over_at_once_are_placed_as_one_by_one() -> None:
    bus = InMemoryBus(partitions=4)
    producer = bus.producer()
    await producer.start()
    keys = [b"%032x" % i for i in range(20)]
    records = [Outgoing(TOPIC, k, b"v%d" % i, (("h", b"%d" % i),)) for i, k in enumerate(keys)]

    await (await producer.send_many(records))

    kafka = DefaultPartitioner()
    got = {r.key: (r.partition, r.value, tuple(r.headers)) for r in bus.records(TOPIC)}
    assert got == {k: (kafka(k, [0, 1, 2, 3], [0, 1, 2, 3]), b"v%d" % i, (("h", b"%d" % i),))
                   for i, k in enumerate(keys)}

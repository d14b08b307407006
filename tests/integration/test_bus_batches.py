"""KafkaProducer.send_many on the real broker (tansu by default, Apache Kafka with
``--broker kafka``): records handed over at once land where ``send`` puts a record with the
same key, in the order they were handed over on each partition, with their keys, values and
headers, also when a partition's records fill several producer batches. And a consumer whose
fetches gather (``gather_ms``) still gets a lone record of a trickle, and gets a burst whole."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.bus import KafkaBus, Outgoing

pytestmark = pytest.mark.timeout(120)
PARTITIONS = 3
Read = tuple[int, bytes, bytes, tuple[tuple[str, bytes], ...]]  # partition, key, value, headers


async def _topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


async def _read(bootstrap: str, topic: str, n: int) -> list[Read]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"read-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    got: list[Read] = []
    try:
        async with asyncio.timeout(60):
            while len(got) < n:
                for msgs in (await consumer.getmany(timeout_ms=500)).values():
                    got += [(m.partition, m.key or b"", m.value or b"", tuple(m.headers))
                            for m in msgs]
    finally:
        await consumer.stop()
    return sorted(got, key=lambda r: r[0])  # (stable: each partition's records in order)


async def _scenario(bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    one_by_one, at_once, other = f"one-{run}", f"many-{run}", f"other-{run}"
    await _topics(bootstrap, [one_by_one, at_once, other])
    keys = [str(uuid.uuid4()).encode("ascii") for _ in range(60)]
    # 1 KB values and 16 KB producer batches: each partition's records fill several batches.
    records = [Outgoing(at_once, keys[i % 60], b"%04d" % i + b"x" * 1020, (("n", b"%d" % i),))
               for i in range(240)]
    records += [Outgoing(other, k, b"other", ()) for k in keys[:10]]
    producer = KafkaBus(bootstrap).producer(linger_ms=0, max_batch_size=16 * 1024)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(one_by_one, b"", key=k) for k in keys])
        await (await producer.send_many(records))
    finally:
        await producer.stop()

    placed = {key: part for part, key, _v, _h in await _read(bootstrap, one_by_one, 60)}
    assert len(set(placed.values())) == PARTITIONS
    got = await _read(bootstrap, at_once, 240)
    assert [placed[key] == part for part, key, _v, _h in got] == [True] * 240
    order: dict[int, list[int]] = defaultdict(list)
    for part, key, value, headers in got:
        i = int(value[:4])
        assert (key, value, headers) == (records[i].key, records[i].value, records[i].headers)
        order[part].append(i)
    assert all(seq == sorted(seq) for seq in order.values())
    assert sorted(i for seq in order.values() for i in seq) == list(range(240))
    assert {k: p for p, k, _v, _h in await _read(bootstrap, other, 10)} == {
        k: placed[k] for k in keys[:10]}


def test_records_handed_over_at_once_land_as_sent_one_by_one_and_in_order(broker: str) -> None:
    asyncio.run(_scenario(broker))


async def _gathering(bootstrap: str) -> tuple[list[bytes], list[bytes]]:
    topic = f"gather-{uuid.uuid4().hex[:8]}"
    await _topics(bootstrap, [topic])
    bus = KafkaBus(bootstrap)
    consumer = bus.consumer([topic], group_id=f"g-{uuid.uuid4().hex[:8]}",
                            max_poll_records=1000, session_timeout_ms=10_000, gather_ms=200)
    producer = bus.producer(linger_ms=0)
    await consumer.start()
    await producer.start()

    async def read(n: int) -> list[bytes]:
        got: list[bytes] = []
        async with asyncio.timeout(30):
            while len(got) < n:
                got += [m.value or b"" for msgs in (await consumer.getmany(
                    timeout_ms=500, max_records=1000)).values() for m in msgs]
        return got

    try:
        await (await producer.send(topic, b"lone", key=b"k"))
        lone = await read(1)  # far below the bytes a fetch gathers for: it comes anyway
        await (await producer.send_many([Outgoing(topic, b"k%d" % i, b"%03d" % i)
                                         for i in range(300)]))
        burst = await read(300)
    finally:
        await producer.stop()
        await consumer.stop()
    return lone, burst


def test_a_gathering_consumer_gets_a_lone_record_and_a_burst_whole(broker: str) -> None:
    lone, burst = asyncio.run(_gathering(broker))
    assert lone == [b"lone"]
    assert sorted(burst) == [b"%03d" % i for i in range(300)]

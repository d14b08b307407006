"""The Kafka-native connector: ``ssp-hub connector kafka --connector NAME [--topic TOPIC]``.

An agency system produces its native export to a topic of its own (``native.<agency>.<name>``;
in production with its own SASL/SCRAM credentials over TLS, granted write on that topic only;
plain on loopback in tests). Each message's value is one document in the connector's format —
a CSV export with its header row, a JSON array of notes, an XML document, or JSON Lines —
exactly what the file-drop connector would find in a file. The connector consumes in its own
consumer group and sends each document to ``POST /api/v1/connectors/{connector}``, where it is
mapped, encrypted and published to the hub's ingest topic.

Nothing is lost: a batch's offsets are committed only after the hub has answered for every
document in it. A 503, a network error or an unreachable broker is retried with backoff,
uncommitted; re-sent records are duplicates by event id and count once.

Nothing stays behind: the agency's topic holds its export in plaintext (CPR numbers, names),
while the rule is that personal identifiers rest on the broker only encrypted. So once the hub
has answered and the offsets are committed, the connector deletes the forwarded records from
the agency's topic with Kafka's DeleteRecords (the log start offset moves up to the committed
offset; the records can no longer be read, and their segments go at the next retention run).
A deletion that fails is retried with backoff and, after a restart, caught up from the group's
committed offsets. As a second line of defence the connector creates the native topic with a
short ``retention.ms`` (``SSP_HUB_NATIVE_RETENTION_MS``, default one hour).

The embedded broker (tansu 0.6.0, memory storage) implements neither: a DeleteRecords request
makes it drop the connection (its storage engine answers "not yet implemented"), and it keeps
records past ``retention.ms``. The connector logs ``connector_delete_records_failed`` and keeps
retrying; the records stay in the embedded broker's memory until it stops. See
``connectors/README.md``.

Refused records are produced to ``<topic>.rejected`` (JSON: partition, offset, line, field,
reason — never a value), the Kafka counterpart of the file-drop ``.rejected`` report.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    TopicAlreadyExistsError,
)

from connectors.registry import connector as connector_named
from core.logs import get_logger

log = get_logger("connectors.kafka")

NATIVE_PREFIX = "native."
REJECTED_SUFFIX = ".rejected"
SEGMENT_MS_MAX = 10 * 60 * 1000  # roll at least this often, so deleted records leave the disk
RETRYABLE_HTTP = (429, 502, 503, 504)
T = TypeVar("T")
LOST_ASSIGNMENT = (CommitFailedError, IllegalStateError)


class _Stopped(Exception):
    """``should_stop()`` turned true while waiting for the hub or the broker."""


def native_topic(name: str) -> str:
    """The default topic of connector ``name``: ``native.<agency>.<name>``."""
    return f"{NATIVE_PREFIX}{connector_named(name).agency.value}.{name}"


def rejected_topic(topic: str) -> str:
    return f"{topic}{REJECTED_SUFFIX}"


def is_native_topic(topic: str) -> bool:
    """An agency's own topic of native (plaintext) records; its refusal reports are not."""
    return topic.startswith(NATIVE_PREFIX) and not topic.endswith(REJECTED_SUFFIX)


def native_topic_configs(retention_ms: int) -> dict[str, str]:
    return {"retention.ms": str(retention_ms),
            "segment.ms": str(min(retention_ms, SEGMENT_MS_MAX)),
            "cleanup.policy": "delete"}


async def ensure_native_topics(bootstrap_servers: str, topic: str, *, retention_ms: int,
                               partitions: int = 1, replication_factor: int = 1) -> None:
    """Create the agency's topic (short retention) and its ``.rejected`` topic if missing.

    An existing native topic is left as it is, but a retention longer than ``retention_ms``
    is logged as an error: the records would outlive a failed deletion for that long."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [NewTopic(topic, partitions, replication_factor,
                           topic_configs=native_topic_configs(retention_ms)),
                  NewTopic(rejected_topic(topic), 1, replication_factor)]
        for new in wanted:
            if new.name not in existing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([new])
        if topic in existing:
            found = await _retention_ms(admin, topic)
            if found is None or found < 0 or found > retention_ms:
                log.error("connector_native_retention_too_long", topic=topic,
                          retention_ms=found, wanted_ms=retention_ms)
    finally:
        await admin.close()


async def _retention_ms(admin: AIOKafkaAdminClient, topic: str) -> int | None:
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    for response in responses:
        for resource in response.resources:
            for entry in resource[4]:  # config_entries: (name, value, read_only, ...)
                if entry[0] == "retention.ms" and entry[1] is not None:
                    return int(entry[1])
    return None


@dataclass
class KafkaNativeReport:
    documents: int = 0
    accepted: int = 0
    refused: int = 0
    # partition -> the agency topic's log start offset after the last successful deletion
    deleted_through: dict[int, int] = field(default_factory=dict)
    delete_failures: int = 0


class KafkaNativeConnector:
    def __init__(self, *, bootstrap_servers: str, topic: str, connector: str, api_url: str,
                 token: str, group_id: str | None = None, max_backoff_s: float = 30.0,
                 replication_factor: int = 1, retention_ms: int = 3600 * 1000,
                 partitions: int = 1, delete_max_backoff_s: float = 300.0) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.connector = connector
        self.group_id = group_id or f"ssp-hub-connector-{connector}"
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.max_backoff_s = max_backoff_s
        self.replication_factor = replication_factor
        self.retention_ms = retention_ms
        self.partitions = partitions
        self.delete_max_backoff_s = delete_max_backoff_s
        self.report = KafkaNativeReport()
        self._pending_delete: dict[TopicPartition, int] = {}  # delete before this offset
        self._caught_up: set[TopicPartition] = set()
        self._delete_backoff = 1.0
        self._next_delete_at = 0.0
        self._admin: AIOKafkaAdminClient | None = None
        self._should_stop: Callable[[], bool] = lambda: False

    async def _sleep(self, seconds: float) -> None:
        """Back off, unless asked to stop: then leave the batch uncommitted."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._should_stop():
                raise _Stopped
            await asyncio.sleep(min(left, 0.5))
        if self._should_stop():
            raise _Stopped

    # -- the hub -----------------------------------------------------------------------------
    async def _send(self, client: httpx.AsyncClient, value: bytes) -> dict[str, Any]:
        """Send one document until the hub answers for it (backoff while it cannot)."""
        backoff = 0.5
        while True:
            wait = backoff
            try:
                response = await client.post(f"/api/v1/connectors/{self.connector}",
                                             content=value)
                if response.status_code == 200:
                    answer: dict[str, Any] = response.json()
                    return answer
                if response.status_code not in RETRYABLE_HTTP:
                    # A wrong token or connector, a document too large: retrying will not
                    # help; stop uncommitted (the records stay for a fixed connector).
                    raise PermissionError(f"HTTP {response.status_code} from the hub")
                with contextlib.suppress(ValueError):
                    wait = max(wait, float(response.headers.get("Retry-After", "0")))
                log.warning("connector_hub_unavailable", status=response.status_code,
                            retry_in_s=min(wait, self.max_backoff_s))
            except httpx.HTTPError as exc:
                log.warning("connector_hub_unreachable", error=type(exc).__name__,
                            retry_in_s=min(wait, self.max_backoff_s))
            await self._sleep(min(wait, self.max_backoff_s))
            backoff = min(self.max_backoff_s, backoff * 2)

    # -- the broker --------------------------------------------------------------------------
    async def _retry(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """``op()`` until the broker takes it, with backoff. A lost assignment passes through
        (the group rebalanced: the records will be consumed and answered again)."""
        backoff = 0.5
        while True:
            try:
                return await op()
            except LOST_ASSIGNMENT:
                raise
            except (TimeoutError, KafkaError, OSError) as exc:
                log.warning("connector_broker_unavailable", during=what,
                            error=type(exc).__name__, retry_in_s=backoff)
            await self._sleep(backoff)
            backoff = min(self.max_backoff_s, backoff * 2)

    async def _start_clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        await self._retry("ensure_topics", lambda: ensure_native_topics(
            self.bootstrap_servers, self.topic, retention_ms=self.retention_ms,
            partitions=self.partitions, replication_factor=self.replication_factor))

        async def start() -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
            consumer = AIOKafkaConsumer(
                self.topic, bootstrap_servers=self.bootstrap_servers, group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=100)
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all")
            try:
                await consumer.start()
                await producer.start()
            except BaseException:
                await producer.stop()
                await consumer.stop()
                raise
            return consumer, producer
        return await self._retry("start", start)

    # -- deleting what was forwarded ---------------------------------------------------------
    async def _catch_up(self, consumer: AIOKafkaConsumer) -> None:
        """After (re)assignment: what the group committed before a crash is deleted too."""
        for tp in consumer.assignment() - self._caught_up:
            committed = await consumer.committed(tp)
            self._caught_up.add(tp)
            if committed:
                self._pending_delete[tp] = max(self._pending_delete.get(tp, 0), committed)

    async def _delete_forwarded(self) -> None:
        """DeleteRecords up to the committed offsets; on failure retry later (backoff)."""
        if not self._pending_delete or time.monotonic() < self._next_delete_at:
            return
        wanted = dict(self._pending_delete)
        try:
            if self._admin is None:
                self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
                await self._admin.start()
            low = await self._admin.delete_records(
                {tp: RecordsToDelete(before_offset=offset) for tp, offset in wanted.items()},
                timeout_ms=30_000)
        except (TimeoutError, KafkaError, OSError) as exc:
            self.report.delete_failures += 1
            log.warning("connector_delete_records_failed", topic=self.topic,
                        partitions=sorted(tp.partition for tp in wanted),
                        error=type(exc).__name__, retry_in_s=self._delete_backoff)
            admin, self._admin = self._admin, None
            if admin is not None:
                with contextlib.suppress(Exception):
                    await admin.close()
            self._next_delete_at = time.monotonic() + self._delete_backoff
            self._delete_backoff = min(self.delete_max_backoff_s, self._delete_backoff * 2)
            return
        for tp, low_watermark in low.items():
            self.report.deleted_through[tp.partition] = low_watermark
            if self._pending_delete.get(tp, 0) <= low_watermark:
                self._pending_delete.pop(tp, None)
        self._delete_backoff = 1.0
        self._next_delete_at = 0.0
        log.info("connector_delete_records", topic=self.topic,
                 deleted_through={tp.partition: o for tp, o in low.items()})

    # -- the loop ----------------------------------------------------------------------------
    async def run(self, should_stop: Callable[[], bool] = lambda: False) -> KafkaNativeReport:
        """Forward until ``should_stop()``; also checked while backing off, so a stop during
        an outage returns promptly (what was not answered stays uncommitted)."""
        self._should_stop = should_stop
        try:
            consumer, producer = await self._start_clients()
        except _Stopped:
            return self.report
        try:
            async with httpx.AsyncClient(base_url=self.api_url, timeout=120,
                                         headers={"Authorization": f"Bearer {self.token}"}
                                         ) as client:
                while not should_stop():
                    batches = await consumer.getmany(timeout_ms=500, max_records=100)
                    await self._retry("committed", lambda: self._catch_up(consumer))
                    if batches:
                        await self._forward(client, consumer, producer, batches)
                    await self._delete_forwarded()
        except _Stopped:
            pass
        finally:
            if self._admin is not None:
                await self._admin.close()
            await producer.stop()
            await consumer.stop()
        return self.report

    async def _forward(self, client: httpx.AsyncClient, consumer: AIOKafkaConsumer,
                       producer: AIOKafkaProducer, batches: dict[TopicPartition, list[Any]]
                       ) -> None:
        refusals: list[bytes] = []
        for tp, messages in batches.items():
            for msg in messages:
                answer = await self._send(client, msg.value or b"")
                self.report.documents += 1
                self.report.accepted += len(answer["accepted"])
                self.report.refused += len(answer["refused"])
                # Only these keys: whatever else the hub may add, no value reaches the topic.
                refusals += [json.dumps({"partition": tp.partition, "offset": msg.offset,
                                         "line": r["line"], "field": r["field"],
                                         "reason": r["reason"]}).encode("utf-8")
                             for r in answer["refused"]]
        for refusal in refusals:
            await self._retry("report_refusal", functools.partial(
                producer.send_and_wait, rejected_topic(self.topic), refusal))
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batches.items() if messages}
        try:
            # only now: every document in the batch was answered
            await self._retry("commit", lambda: consumer.commit(offsets))
        except LOST_ASSIGNMENT:
            log.warning("connector_commit_failed", topic=self.topic,
                        hint="the group rebalanced; the batch is sent again (duplicates)")
            return
        for tp, offset in offsets.items():
            self._pending_delete[tp] = max(self._pending_delete.get(tp, 0), offset)
        log.info("connector_kafka_batch", documents=self.report.documents,
                 accepted=self.report.accepted, refused=self.report.refused)

"""The Kafka-native connector: ``ssp-hub connector kafka --connector NAME --topic TOPIC``.

An agency system produces its native export to a topic of its own (in production with its own
SASL/SCRAM or mTLS credentials, granted write on that topic only; plain on loopback in tests).
Each message's value is one document in the connector's format — a CSV export with its header
row, a JSON array of notes, an XML document, or JSON Lines — exactly what the file-drop
connector would find in a file. The connector consumes in its own consumer group and sends
each document to ``POST /api/v1/connectors/{connector}``; it commits a batch's offsets only
after the hub has answered for every document in it, so nothing is lost: a 503 or a network
error is retried with backoff, uncommitted. Re-sent records are duplicates by event id.

Refused records are produced to ``<topic>.rejected`` (JSON: partition, offset, line, field,
reason — never a value), the Kafka counterpart of the file-drop ``.rejected`` report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hub.logs import get_logger

log = get_logger("connectors.kafka")


@dataclass
class KafkaNativeReport:
    documents: int = 0
    accepted: int = 0
    refused: int = 0


class KafkaNativeConnector:
    def __init__(self, *, bootstrap_servers: str, topic: str, connector: str, api_url: str,
                 token: str, group_id: str | None = None, max_backoff_s: float = 30.0,
                 replication_factor: int = 1) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.connector = connector
        self.group_id = group_id or f"ssp-hub-connector-{connector}"
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.max_backoff_s = max_backoff_s
        self.replication_factor = replication_factor
        self.report = KafkaNativeReport()

    async def _send(self, client: httpx.AsyncClient, value: bytes) -> dict[str, Any]:
        """Send one document until the hub answers for it (backoff while it cannot)."""
        backoff = 0.5
        while True:
            try:
                response = await client.post(f"/api/v1/connectors/{self.connector}",
                                             content=value)
                if response.status_code == 200:
                    answer: dict[str, Any] = response.json()
                    return answer
                if response.status_code not in (429, 502, 503, 504):
                    # A wrong token or connector: retrying will not help; stop uncommitted.
                    raise PermissionError(f"HTTP {response.status_code} from the hub")
                log.warning("connector_hub_unavailable", status=response.status_code)
            except httpx.HTTPError as exc:
                log.warning("connector_hub_unreachable", error=type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff_s, backoff * 2)

    async def _ensure_rejected_topic(self) -> None:
        # Created up front: a producer's first send to a missing topic can wait for a long
        # metadata timeout before the broker auto-creates it (if it does at all).
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            if f"{self.topic}.rejected" not in set(await admin.list_topics()):
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(f"{self.topic}.rejected", 1,
                                                        self.replication_factor)])
        finally:
            await admin.close()

    async def run(self, should_stop: Callable[[], bool] = lambda: False) -> KafkaNativeReport:
        await self._ensure_rejected_topic()
        consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap_servers, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=100)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all")
        await consumer.start()
        await producer.start()
        try:
            async with httpx.AsyncClient(base_url=self.api_url, timeout=120,
                                         headers={"Authorization": f"Bearer {self.token}"}
                                         ) as client:
                while not should_stop():
                    batches = await consumer.getmany(timeout_ms=500, max_records=100)
                    if not batches:
                        continue
                    refusals = []
                    for tp, messages in batches.items():
                        for msg in messages:
                            answer = await self._send(client, msg.value or b"")
                            self.report.documents += 1
                            self.report.accepted += len(answer["accepted"])
                            self.report.refused += len(answer["refused"])
                            refusals += [
                                json.dumps({"partition": tp.partition, "offset": msg.offset,
                                            **r}).encode("utf-8")
                                for r in answer["refused"]]
                    futures = [await producer.send(f"{self.topic}.rejected", r)
                               for r in refusals]
                    await asyncio.gather(*futures)
                    await consumer.commit()  # only now: every document was answered
                    log.info("connector_kafka_batch", documents=self.report.documents,
                             accepted=self.report.accepted, refused=self.report.refused)
        finally:
            await producer.stop()
            await consumer.stop()
        return self.report

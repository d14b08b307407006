"""Creating the hub's topics (idempotent) with the settings' partitions and replication."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from core.bus.election import ELECTED_JOBS
from core.settings import AGENCIES, Settings
from schemas.wire import (
    DEADLETTER_TOPIC,
    DISCLOSURES_TOPIC,
    OUTCOMES_TOPIC,
    SIGNALS_TOPIC,
    cases_topic,
    election_topic,
    ingest_topic,
)

# One partition each: one sequencer in its group integrates the log, and the member holding
# an election topic's partition runs that job (core/bus/election.py).
ONE_PARTITION_TOPICS = (DISCLOSURES_TOPIC, *(election_topic(job) for job in ELECTED_JOBS))


def hub_topics(settings: Settings, queues: tuple[str, ...]) -> list[NewTopic]:
    rf = settings.replication_factor
    parts = settings.topic_partitions
    raw = {"retention.ms": str(settings.ingest_retention_ms)}
    topics = [NewTopic(ingest_topic(a), parts, rf, topic_configs=raw) for a in AGENCIES]
    # Concerns on case topics are pseudonymised but still personal data: the store is where
    # retention applies, so the topics keep them only long enough for the projector.
    cases = {"retention.ms": str(settings.case_retention_ms)}
    topics += [NewTopic(cases_topic(q), parts, rf, topic_configs=cases) for q in queues]
    dead = {"retention.ms": str(settings.deadletter_retention_ms)}
    topics += [NewTopic(OUTCOMES_TOPIC, parts, rf),
               NewTopic(DEADLETTER_TOPIC, parts, rf, topic_configs=dead)]
    # Pseudonymised signals between the route stage and the aggregator: raw-topic retention.
    topics += [NewTopic(SIGNALS_TOPIC, parts, rf, topic_configs=raw)]
    topics += [NewTopic(name, 1, rf) for name in ONE_PARTITION_TOPICS]
    return topics


async def ensure_topics(settings: Settings, queues: tuple[str, ...],
                        wait_s: float = 60) -> None:
    """Create every topic that does not exist yet. Retries until the broker answers."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in hub_topics(settings, queues) if t.name not in existing]
            for topic in missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([topic])
            return
        except KafkaError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
        finally:
            await admin.close()

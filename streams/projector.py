"""The projector: outcomes and case topics → the queryable store.

Its own consumer group (through the broker seam, :mod:`core.bus`), so that a backlog on the
ingest topics never starves it (a faust app shares one fetcher between its agents, and a full
agent buffer pauses them all).
Writes are idempotent upserts keyed by event id; offsets are committed after the write.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from typing import Any

import orjson

from core.bus import Bus, Consumer
from core.bus.consumer import GATHER_MS, commit_handled, own_group_consumer, run_stage
from core.settings import Settings
from core.store import Store
from core.store.engine import STORE_UNAVAILABLE
from schemas.wire import CASES_PREFIX, H_PROJECTED, OUTCOMES_TOPIC, cases_topic


def rows_from_records(records: Iterable[tuple[str, bytes]]
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(topic, value) records → (outcome rows, concern rows) for the store. (orjson: the
    route stage parses every record it just wrote here; ``json.loads`` was ~3 % of its
    worker's busy samples.)"""
    outcomes: list[dict[str, Any]] = []
    concerns: list[dict[str, Any]] = []
    for topic, value in records:
        doc = orjson.loads(value)
        if topic == OUTCOMES_TOPIC:
            for field in ("ingested_at", "decided_at"):
                if doc.get(field):
                    doc[field] = dt.datetime.fromisoformat(doc[field])
            outcomes.append(doc)
        elif topic.startswith(CASES_PREFIX):
            concerns.append({
                "event_id": doc["event_id"], "queue": doc["queue"],
                # An area-level concern is about no one: stored under "", which no joint view,
                # subject access or erasure ever looks up.
                "pseudonym": doc.get("pseudonym") or "", "payload": value.decode("utf-8"),
                "occurred_at": dt.datetime.fromisoformat(doc["occurred_at"]),
            })
    return outcomes, concerns


class Projector:
    def __init__(self, settings: Settings, store: Store, queues: tuple[str, ...],
                 bus: Bus | None = None) -> None:
        self.settings = settings
        self.store = store
        self.topics = [OUTCOMES_TOPIC, *(cases_topic(q) for q in queues)]
        self.bus = bus

    def consumer(self) -> Consumer:
        # The route stage stores its own results; the projector stores the aggregator's
        # concerns (made from windows of days), which may reach the store up to GATHER_MS
        # later: its fetches gather, instead of one per few records that it mostly skips.
        return own_group_consumer(self.settings, "projector", self.topics, self.bus,
                                  gather_ms=GATHER_MS)

    async def run(self) -> None:
        await run_stage(self.consumer, self.step, "projector", transient=STORE_UNAVAILABLE)

    async def step(self, consumer: Consumer, timeout_ms: int = 500) -> int:
        """One fetch: store what it brought, then commit. Returns the records handled."""
        batches = await consumer.getmany(
            timeout_ms=timeout_ms, max_records=self.settings.worker_batch_size)
        read = sum(len(msgs) for msgs in batches.values())
        if not read:
            return 0
        # What the route stage projected itself is skipped; the projector stores the
        # aggregator's derived concerns (and records from before the route stage did this).
        records = [(tp.topic, m.value or b"") for tp, msgs in batches.items() for m in msgs
                   if dict(m.headers or ()).get(H_PROJECTED) != b"1"]
        if records:
            outcomes, concerns = rows_from_records(records)
            # Concerns first: once an outcome says "routed", its concerns are readable.
            await asyncio.to_thread(self.store.project_concerns, concerns)
            await asyncio.to_thread(self.store.project_outcomes, outcomes)
        await commit_handled(consumer, batches, "projector")
        return read

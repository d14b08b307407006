"""Where disclosure-log entries go: a one-method :class:`DisclosureSink` and two of them.

* :class:`TopicSink` produces entries to the ``disclosures`` topic (``acks=all``) for the
  sequencer (:mod:`core.ledger.sequencer`). The API and the worker use it: an act is answered only
  after its entry is durable on the broker.
* :class:`StoreSink` integrates entries straight into the log (:meth:`AuditLog.integrate`).
  The retention job and tests without a broker use it. It is safe beside a running
  sequencer: integration takes the log's write lock in the store.

Entry ids: an act the worker can replay (a routed or rejected event) gets a deterministic id
from :func:`derived_entry_id`, so a replay is integrated once; any other act gets a random one.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from core.ledger.auditlog import AuditLog
from schemas.disclosures import LogEntry
from schemas.wire import DISCLOSURES_TOPIC


def derived_entry_id(*parts: str) -> str:
    """A deterministic entry id: SHA-256 over the parts, unit-separated, as hex."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def random_entry_id() -> str:
    return secrets.token_hex(16)


def entry_message(entry: LogEntry) -> bytes:
    return entry.model_dump_json(exclude_none=True).encode("utf-8")


def parse_entry_message(value: bytes) -> LogEntry:
    return LogEntry.model_validate_json(value)


class DisclosureSink(Protocol):
    async def append(self, entries: Sequence[LogEntry]) -> None:
        """Return only when the entries are durable (on the broker or in the log)."""


class TopicSink:
    def __init__(self, producer: Any) -> None:
        self.producer = producer  # an AIOKafkaProducer (or faust's), started by the owner

    async def append(self, entries: Sequence[LogEntry]) -> None:
        futures = [await self.producer.send(DISCLOSURES_TOPIC, entry_message(e),
                                            key=e.entry_id.encode("ascii"))
                   for e in entries]
        await asyncio.gather(*futures)


class StoreSink:
    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def append(self, entries: Sequence[LogEntry]) -> None:
        await asyncio.to_thread(self.log.integrate, list(entries))

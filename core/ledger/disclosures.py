"""Where disclosure-log entries go: a one-method :class:`DisclosureSink` and two of them.

* :class:`TopicSink` produces entries to the ``disclosures`` topic (``acks=all``) for the
  sequencer (:mod:`core.ledger.sequencer`). The API and the worker use it: an act is answered only
  after its entry is durable on the broker.
* :class:`StoreSink` integrates entries straight into the log (:meth:`AuditLog.integrate`).
  The retention job and tests without a broker use it. It is safe beside a running
  sequencer: integration takes the log's write lock in the store.

Entry ids and the entry's message form: :mod:`core.ledger.entries`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from core.ledger.auditlog import AuditLog
from core.ledger.entries import entry_message
from schemas.disclosures import LogEntry
from schemas.wire import DISCLOSURES_TOPIC


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

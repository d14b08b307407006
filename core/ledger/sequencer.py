"""The sequencer: the ``disclosures`` topic → the disclosure log
(:class:`core.ledger.auditlog.AuditLog`).

Its own aiokafka consumer group on a one-partition topic, so one sequencer is active at a
time; the log's write lock in the store fences a zombie. Offsets are committed after the
entries are integrated; a redelivered entry is skipped by its entry id. A message that is
not a valid entry stops the sequencer (the worker exits and is restarted): skipping it would
silently lose a disclosure record, and a stalled log is visible on ``/readyz``-style checks.
"""

from __future__ import annotations

import asyncio
import time

from core.bus import Bus, Consumer
from core.bus.consumer import GATHER_MS, commit_handled, own_group_consumer, run_stage
from core.ledger.auditlog import AuditLog
from core.ledger.entries import parse_entry_message
from core.logs import get_logger
from core.settings import Settings
from core.store.engine import STORE_UNAVAILABLE
from schemas.wire import DISCLOSURES_TOPIC

log = get_logger("hub.sequencer")


class Sequencer:
    def __init__(self, settings: Settings, audit: AuditLog, bus: Bus | None = None) -> None:
        self.settings = settings
        # When a step last asked whether a timed checkpoint is due (:meth:`_checkpoint_if_due`).
        self._asked_at = -float("inf")
        self.audit = audit
        self.bus = bus

    def consumer(self) -> Consumer:
        # An entry is in the log up to GATHER_MS later at a trickle, and the one sequencer
        # integrates (and commits) one batch where it did one per few entries.
        return own_group_consumer(self.settings, "sequencer", [DISCLOSURES_TOPIC], self.bus,
                                  gather_ms=GATHER_MS)

    async def run(self) -> None:
        await run_stage(self.consumer, self.step, "sequencer", transient=STORE_UNAVAILABLE)

    async def step(self, consumer: Consumer, timeout_ms: int = 500) -> int:
        """One fetch: integrate its entries into the log (a duplicate entry id is skipped),
        commit them, then sign a checkpoint if one is due. Returns the entries read."""
        batches = await consumer.getmany(
            timeout_ms=timeout_ms, max_records=self.settings.worker_batch_size)
        entries = [parse_entry_message(m.value or b"")
                   for msgs in batches.values() for m in msgs]
        if entries:
            seqs = await asyncio.to_thread(self.audit.integrate, entries)
            await commit_handled(consumer, batches, "sequencer")
            if len(seqs) < len(entries):
                log.info("log_duplicates_skipped", count=len(entries) - len(seqs))
        await self._checkpoint_if_due()
        return len(entries)

    async def _checkpoint_if_due(self) -> None:
        """Ask whether a checkpoint is due at most every tenth of ``checkpoint_interval`` (and
        at least every second): a step at a steady trickle comes ~25 times a second, and each
        question cost two store reads that answered "not yet". A checkpoint thus comes at most
        a tenth of its interval late; one due by size is signed inside ``integrate``."""
        now = time.monotonic()
        if now - self._asked_at < min(1.0, self.audit.checkpoint_interval.total_seconds() / 10):
            return
        self._asked_at = now
        await asyncio.to_thread(self.audit.checkpoint)

"""One holder at a time for a job that any worker could run but only one should (retention):
the member of the consumer group ``<worker_id>-<job>-holder`` to which the broker assigns
the one partition of the empty topic ``election.<job>`` holds the job.

Kafka's group protocol is the election: a holder that dies stops heartbeating, and after
the session timeout the group rebalances and the next member gets the partition (the
hand-over). A holder that is cut off may still finish the run in hand while another starts
one, so an elected job must be safe to run twice (retention re-checks every condition in the
write that acts on it). Kafka's consumer group does this already, tested and fenced by
generation; a lease table in the store would be a second, hand-written election.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from core.bus.kafka import KafkaBus
from core.bus.protocol import Bus, Consumer
from core.logs import get_logger
from core.settings import Settings
from schemas.wire import election_topic

log = get_logger("core.bus.election")
# The jobs elected this way (each has its topic: core.bus.topics).
ELECTED_JOBS = ("retention",)
POLL_MS = 1000  # a member polls this often: it stays in the group and sees an assignment


def election_consumer(settings: Settings, job: str, bus: Bus | None = None) -> Consumer:
    """A member of the job's election group (not started)."""
    return (bus or KafkaBus(settings.bootstrap_servers)).consumer(
        [election_topic(job)], group_id=f"{settings.worker_id}-{job}-holder",
        max_poll_records=1, session_timeout_ms=int(settings.worker_session_timeout * 1000))


async def run_while_holding(consumer: Consumer, job: str, work: Callable[[], Awaitable[None]],
                            interval_s: float, *, poll_ms: int = POLL_MS) -> None:
    """Start ``consumer`` and, for as long as it holds the job's partition, await ``work``
    at once and then every ``interval_s`` seconds; a member that does not hold it only polls.
    Runs until cancelled; the consumer is stopped (leaving the group: the next member takes
    over at once) whatever ends it."""
    await consumer.start()
    last: float | None = None
    try:
        while True:
            await consumer.getmany(timeout_ms=poll_ms)
            if not consumer.assignment():
                if last is not None:
                    log.info("election_lost", job=job)
                last = None
                continue
            if last is None:
                log.info("election_won", job=job)
            if last is None or time.monotonic() - last >= interval_s:
                last = time.monotonic()
                await work()
    finally:
        await consumer.stop()

"""Fault suite (issue 15 §5): the hub on a 3-node Apache Kafka cluster (replication factor 3)
with PostgreSQL and two or three workers, under a steady load of police events, while:

1. a third worker joins, and one of the first two is killed with ``kill -9`` during the
   rebalance that follows;
2. the broker leading the ingest partitions is killed (``kill -9``) and later restarted;
3. PostgreSQL is restarted (open connections cut);
4. a worker is removed (SIGTERM, as a scale-down does).

Afterwards every event has exactly one outcome, every routed concern is in its queue exactly
once, the disclosure log holds exactly one entry per disclosure and per rejection and
verifies. A worker that exits on its own is restarted, as the compose file's
``restart: unless-stopped`` would, and counted: the report (``test-output/fault-suite.json``)
says how often that happened. Runs only with ``--broker kafka --database postgres``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from core.ledger.auditlog import public_keys, verify_store
from core.privacy.keys import FileKeyProvider
from schemas.wire import ingest_topic
from tests.integration.conftest import _keep_logs
from tests.integration.events import expected_queues, make_event
from tests.integration.hubstack import HubStack, start_stack
from tests.integration.test_kill import AREAS, CATEGORIES, _post_all
from tests.support.external import KafkaHandle, PostgresHandle, start_kafka, start_postgres

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_EVENTS = 1200


@pytest.fixture(scope="module")
def fault_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[HubStack, KafkaHandle, PostgresHandle]]:
    if request.config.getoption("--broker") != "kafka" \
            or request.config.getoption("--database") != "postgres":
        pytest.skip("the fault suite runs with --broker kafka --database postgres")
    kafka = start_kafka("cluster", tmp_path_factory.mktemp("fault-kafka"))
    pg = start_postgres()  # its own server: this suite restarts it
    try:
        workdir: Path = tmp_path_factory.mktemp("fault-hub")
        gen = start_stack(workdir, kafka.bootstrap, pg.url, replication_factor=3)
        stack = next(gen)
        try:
            stack.start_worker()  # two full workers share the stages
            yield stack, kafka, pg
        finally:
            gen.close()
            _keep_logs(stack.logs)
    finally:
        pg.stop()
        kafka.stop()


async def _leader(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        leaders = collections.Counter(p["leader"] for p in described["partitions"])
        return int(leaders.most_common(1)[0][0])
    finally:
        await admin.close()


class Supervisor:
    """Restarts a worker that exited on its own (not one this test stopped), as a container
    runtime would, and counts the restarts."""

    def __init__(self, hub: HubStack) -> None:
        self.hub = hub
        self.stopped: set[int] = set()
        self.restarts = 0

    def stop(self, proc: Any, *, kill: bool) -> None:
        self.stopped.add(proc.pid)
        if kill:
            self.hub.kill_worker(proc)
        else:
            proc.terminate()
            proc.wait(30)

    def live(self, n: int, timeout: float = 60) -> list[Any]:
        """At least ``n`` live workers (restarting the ones that exited), oldest first."""
        deadline = time.monotonic() + timeout
        while len(self.hub.live_workers()) < n:
            self.check()
            assert time.monotonic() < deadline, f"fewer than {n} workers stay alive"
            time.sleep(0.2)
        return self.hub.live_workers()

    def check(self) -> None:
        for proc in list(self.hub.workers):
            if proc.poll() is not None and proc.pid not in self.stopped:
                self.stopped.add(proc.pid)
                self.restarts += 1
                self.hub.start_worker()


def _wait_progress(progress: list[int], threshold: int, poster: threading.Thread,
                   supervisor: Supervisor) -> None:
    while progress[0] < threshold and poster.is_alive():
        supervisor.check()
        time.sleep(0.05)


def test_faults_under_load_lose_nothing_and_duplicate_nothing(
        fault_hub: tuple[HubStack, KafkaHandle, PostgresHandle]) -> None:
    hub, kafka, pg = fault_hub
    token = hub.principal("politi-fault", "agency:police")
    events = []
    for i in range(N_EVENTS):
        purpose = "investigation" if i % 10 == 0 else "crime_prevention"
        events.append(make_event("police", category=CATEGORIES[i % len(CATEGORIES)],
                                 area=AREAS[i % len(AREAS)], purpose=purpose, seed=50_000 + i))
    progress = [0]
    result: dict[str, list[int]] = {}
    poster = threading.Thread(target=lambda: result.setdefault(
        "statuses", asyncio.run(_post_all(hub.api_url, token, events, progress))))
    supervisor = Supervisor(hub)
    faults: list[str] = []
    poster.start()

    _wait_progress(progress, N_EVENTS // 6, poster, supervisor)
    first = supervisor.live(2)[0]
    hub.start_worker()  # a third worker joins: the groups rebalance …
    time.sleep(1.0)
    supervisor.stop(first, kill=True)  # … and one of the first two dies in the middle of it
    faults.append("worker added, another killed -9 during the rebalance")

    _wait_progress(progress, 2 * N_EVENTS // 6, poster, supervisor)
    leader = asyncio.run(_leader(kafka.bootstrap, ingest_topic("police")))
    kafka.kill_node(leader)
    faults.append(f"leader broker {leader} of {ingest_topic('police')} killed -9")

    _wait_progress(progress, 3 * N_EVENTS // 6, poster, supervisor)
    kafka.start_node(leader)
    pg.restart()
    faults.append("broker restarted; PostgreSQL restarted")

    _wait_progress(progress, 4 * N_EVENTS // 6, poster, supervisor)
    supervisor.stop(supervisor.live(2)[0], kill=False)
    faults.append("a worker removed (SIGTERM)")

    while poster.is_alive():
        supervisor.check()
        poster.join(0.5)
    assert result["statuses"].count(202) == N_EVENTS, collections.Counter(result["statuses"])
    _check_outcomes(hub, events, supervisor)
    asyncio.run(kafka.wait_in_sync())

    report = {"events": N_EVENTS, "faults": faults, "worker_restarts": supervisor.restarts,
              "workers_at_end": len(hub.live_workers())}
    out = Path("test-output")
    out.mkdir(exist_ok=True)
    (out / "fault-suite.json").write_text(json.dumps(report, indent=2))
    print(f"\nfault suite: {report}")


def _check_outcomes(hub: HubStack, events: list[dict[str, Any]], supervisor: Supervisor
                    ) -> None:
    ids = [e["event_id"] for e in events]
    deadline = time.monotonic() + 400
    while True:  # keep supervising while the backlog drains
        supervisor.check()
        try:
            rows = hub.wait_outcomes(ids, timeout=10)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "events still pending after 400 s"
    expected_status = {e["event_id"]: "rejected" if e["purpose"] == "investigation"
                       else "routed" for e in events}
    assert {i: rows[i]["status"] for i in ids} == expected_status

    expected = {(e["event_id"], q) for e in events if expected_status[e["event_id"]] == "routed"
                for q in expected_queues(e["category"], e["area"])}
    projected = hub.projected({q for _, q in expected}, set(ids))
    assert set(projected) == expected
    assert max(projected.values()) == 1

    rejected_ids = {i for i, v in expected_status.items() if v == "rejected"}
    id_set = set(ids)
    entries = hub.wait_log(lambda e: e.get("event_id") in id_set and e["kind"] in (
        "disclosure", "rejection"), count=len(expected) + len(rejected_ids), timeout=300)
    disclosed = collections.Counter((e["event_id"], e["recipient"]) for e in entries
                                    if e["kind"] == "disclosure")
    rejections = collections.Counter(e["event_id"] for e in entries if e["kind"] == "rejection")
    assert set(disclosed) == expected
    assert max(disclosed.values()) == 1
    assert set(rejections) == rejected_ids
    assert max(rejections.values()) == 1
    assert hub.store is not None
    verdict = verify_store(hub.store, public_keys(
        FileKeyProvider(hub.settings.resolved_key_file, create=False).load()))
    assert verdict.ok, verdict.summary()

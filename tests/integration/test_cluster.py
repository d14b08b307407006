"""The hub on a 3-node Apache Kafka cluster (RF 3, min.insync.replicas=2): losing one broker
loses no event. Runs only with ``--broker kafka``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.events import make_event
from tests.integration.hubstack import HubStack, start_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[HubStack, object]]:
    if request.config.getoption("--broker") != "kafka":
        pytest.skip("the 3-node cluster runs with --broker kafka")
    from tests.support.external import start_kafka

    kafka = start_kafka("cluster", tmp_path_factory.mktemp("cluster"))
    try:
        workdir: Path = tmp_path_factory.mktemp("cluster-hub")
        gen = start_stack(workdir, kafka.bootstrap, None, replication_factor=3)
        stack = next(gen)
        try:
            yield stack, kafka
        finally:
            gen.close()
    finally:
        kafka.stop()


def test_one_broker_down_loses_no_event(cluster_hub: tuple[HubStack, object]) -> None:
    from tests.support.external import KafkaHandle

    hub, kafka = cluster_hub
    assert isinstance(kafka, KafkaHandle)
    token = hub.principal("skole-cluster", "agency:school")
    before = [make_event("school", category="crime", area="stege") for _ in range(20)]
    with hub.client(token) as c:
        for ev in before:
            assert c.post("/api/v1/ingest/school", json=ev).status_code == 202
    hub.wait_outcomes([e["event_id"] for e in before])

    kafka.kill_node(2)
    during = [make_event("school", category="group_conflict", area="praestoe")
              for _ in range(20)]
    with hub.client(token) as c:
        for ev in during:
            for _attempt in range(30):  # 503 + Retry-After while leadership moves
                resp = c.post("/api/v1/ingest/school", json=ev)
                if resp.status_code != 503:
                    break
            assert resp.status_code == 202, resp.text
    rows = hub.wait_outcomes([e["event_id"] for e in during], timeout=180)
    assert {r["status"] for r in rows.values()} == {"routed"}
    assert {tuple(r["queues"]) for r in rows.values()} == {("beredskab",)}

    kafka.start_node(2)
    asyncio.run(kafka.wait_in_sync())
    assert all(hub.store is not None and hub.store.event(e["event_id"]) is not None
               for e in before + during)

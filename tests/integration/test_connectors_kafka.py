"""The Kafka-native connector (issue 5 §2): an agency produces native documents to its own
topic; ``ssp-hub connector kafka`` forwards them to the real hub and survives a kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from connectors.base import Mapped, keyed_namespace
from connectors.registry import connector
from hub.keys import FileKeyProvider
from tests.integration.hubstack import REPO, HubStack, read_all_topics

pytestmark = pytest.mark.integration
SAMPLES = REPO / "connectors" / "samples"


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(topic, value)
        finally:
            await producer.stop()
    asyncio.run(go())


def _start(hub: HubStack, token: str, name: str, topic: str, log: Path
           ) -> subprocess.Popen[bytes]:
    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "connector", "kafka", "--connector", name,
             "--topic", topic, "--api", hub.api_url, "--group", f"{topic}-connector"],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _ids(hub: HubStack, name: str, data: bytes) -> list[str]:
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    ns = keyed_namespace(ring.hmac["ssp"][min(ring.hmac["ssp"])])
    return [str(r.event.event_id) for r in connector(name, id_namespace=ns).parse(data)
            if isinstance(r, Mapped)]


def test_native_documents_on_the_agencys_topic_reach_the_hub_across_a_kill(
        hub: HubStack, tmp_path: Path) -> None:
    token = hub.principal("politi-kafka", "agency:police")
    topic = f"politi.doegnrapport.{uuid.uuid4().hex[:6]}"
    lines = (SAMPLES / "doegnrapport-2026-03-02.jsonl").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    documents = [b"".join(lines[:half]), b"".join(lines[half:])]
    ids = _ids(hub, "police-doegnrapport", b"".join(lines))
    _produce(hub.settings.bootstrap_servers, topic, documents[:1])

    first = _start(hub, token, "police-doegnrapport", topic, tmp_path / "connector.log")
    try:
        hub.wait_outcomes(_ids(hub, "police-doegnrapport", documents[0]))
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no shutdown, no final commit
        first.wait(10)
    _produce(hub.settings.bootstrap_servers, topic, documents[1:])
    second = _start(hub, token, "police-doegnrapport", topic, tmp_path / "connector.log")
    try:
        rows = hub.wait_outcomes(ids)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)

    assert {r["status"] for r in rows.values()} <= {"routed", "rejected"}
    deadline = time.monotonic() + 30
    while True:
        refusals = [json.loads(v) for t, _, v, _ in
                    read_all_topics(hub.settings.bootstrap_servers) if t == f"{topic}.rejected"]
        if len(refusals) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(1)
    expected = [r for doc in documents for r in connector("police-doegnrapport").parse(doc)
                if not isinstance(r, Mapped)]
    assert {(r["field"], r["reason"]) for r in refusals} >= {(r.field, r.reason)
                                                            for r in expected}
    assert all(set(r) == {"partition", "offset", "line", "field", "reason"} for r in refusals)

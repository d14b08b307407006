"""Kafka-native delivery (issue 5 §2): an agency produces native documents to its own topic;
``ssp-hub connector kafka`` forwards them to the real hub, for every native format, across a
kill -9, while the hub or the broker is unreachable — and then deletes what it forwarded from
the agency's topic, which holds plaintext identifiers.

On the embedded broker (tansu 0.6.0) the deletion cannot happen: DeleteRecords makes it drop
the connection and it does not enforce ``retention.ms``. There the tests assert exactly that
limit (the connector reports the failed deletion, the records are still there) instead of the
deletion; see connectors/README.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from connectors.base import Mapped, Refused, keyed_namespace
from connectors.kafka_native import ensure_native_topics, rejected_topic
from connectors.registry import CONNECTORS, connector
from core.privacy.keys import FileKeyProvider
from core.store import events
from hub.embedded import free_port, wait_for_port
from hub.sample_data import NATIVE_SAMPLES, native_sample
from schemas.cpr import cpr_like_numbers
from tests.integration.events import IDENTIFIERS, fresh_sample, identifiers_in
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration
FINAL = {"routed", "rejected", "aggregated"}  # signals: rejected until aggregation, then aggregated
REPORT_KEYS = {"partition", "offset", "line", "field", "reason"}


@pytest.fixture(scope="module")
def on_kafka(request: pytest.FixtureRequest) -> bool:
    """Apache Kafka deletes records (DeleteRecords); the embedded tansu cannot."""
    return bool(request.config.getoption("--broker") == "kafka")


# -- data ------------------------------------------------------------------------------------
def _keyed(hub: HubStack, name: str, data: bytes) -> list[Mapped | Refused]:
    """The hub's own mapping of ``data``: event ids under the hub's secret namespace."""
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    return connector(name, id_namespace=keyed_namespace(ring.connector_id_secret())).parse(data)


def _ids(results: list[Mapped | Refused]) -> list[str]:
    return [str(r.event.event_id) for r in results if isinstance(r, Mapped)]


def _expected_reports(results: list[Mapped | Refused]) -> list[tuple[int, str, str]]:
    return sorted((r.line, r.field, r.reason) for r in results if isinstance(r, Refused))


# -- the broker ------------------------------------------------------------------------------
def _topic(name: str, tag: str) -> str:
    return f"native.{CONNECTORS[name].agency.value}.{name}.{tag.lower()}"


def _ensure(hub: HubStack, topic: str) -> None:
    """What the connector does at start (and ops in production): the topic with its short
    retention, before the agency produces to it — so that auto-creation cannot make it."""
    asyncio.run(ensure_native_topics(
        hub.settings.bootstrap_servers, topic, retention_ms=hub.settings.native_retention_ms,
        partitions=hub.settings.topic_partitions))


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


TopicState = tuple[dict[int, int], dict[int, int], list[tuple[int, int, bytes]]]


def _read(bootstrap: str, topic: str) -> TopicState:
    """(log start offsets, end offsets, records) of one topic, by partition."""
    async def go() -> TopicState:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            parts = [TopicPartition(topic, p)
                     for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(parts)
            begin = await consumer.beginning_offsets(parts)
            end = await consumer.end_offsets(parts)
            await consumer.seek_to_beginning(*parts)
            records: list[tuple[int, int, bytes]] = []
            deadline = time.monotonic() + 30
            remaining = {tp for tp in parts if end[tp] > begin[tp]}
            while remaining and time.monotonic() < deadline:
                for tp, msgs in (await consumer.getmany(timeout_ms=300)).items():
                    records += [(tp.partition, m.offset, m.value or b"") for m in msgs]
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
            return ({tp.partition: begin[tp] for tp in parts},
                    {tp.partition: end[tp] for tp in parts}, records)
        finally:
            await consumer.stop()
    return asyncio.run(go())


def _retention_ms(bootstrap: str, topic: str) -> int:
    async def go() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            found = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic)])
        finally:
            await admin.close()
        values = {e[0]: e[1] for r in found for res in r.resources for e in res[4]}
        return int(values["retention.ms"])
    return asyncio.run(go())


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    async def go() -> dict[int, int | None]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                    enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            return {p: await consumer.committed(TopicPartition(topic, p))
                    for p in sorted(consumer.partitions_for_topic(topic) or ())}
        finally:
            await consumer.stop()
    return asyncio.run(go())


def _wait(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


# -- the connector process -------------------------------------------------------------------
def _start(hub: HubStack, name: str, topic: str, token: str, *, api: str | None = None,
           bootstrap: str | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    """``ssp-hub connector kafka`` with its log next to the hub's, which test_zz_no_plaintext
    searches for identifiers."""
    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    if bootstrap is not None:
        env["SSP_HUB_BOOTSTRAP_SERVERS"] = bootstrap
    log = hub.logs / f"connector-kafka-{topic}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "connector", "kafka", "--connector", name,
             "--topic", topic, "--api", api or hub.api_url, "--group", f"{topic}-connector"],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(20)


def _log_events(log: Path, event: str) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            out.append(entry)
    return out


def _token(hub: HubStack, name: str) -> str:
    agency = CONNECTORS[name].agency.value
    return hub.principal(f"{agency}-kafka", f"agency:{agency}")


def _stored(hub: HubStack, ids: list[str]) -> int:
    assert hub.store is not None
    with hub.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)
                                .where(events.c.event_id.in_(ids))).scalar_one())


def _assert_forwarded_records_left_the_topic(hub: HubStack, topic: str, log: Path,
                                             produced: int, on_kafka: bool) -> None:
    """Apache Kafka: every forwarded record is deleted (the log start offset reaches the end).
    tansu: the deletion fails, the connector says so, and the records are still there."""
    bootstrap = hub.settings.bootstrap_servers
    if on_kafka:
        _wait("the forwarded records to be deleted",
              lambda: (s := _read(bootstrap, topic))[0] == s[1] and not s[2])
        begin, end, records = _read(bootstrap, topic)
        assert sum(end.values()) == produced
        assert records == []
        assert _log_events(log, "connector_delete_records")
        assert not _log_events(log, "connector_delete_records_failed")
    else:
        _wait("the connector to report the failed deletion",
              lambda: bool(_log_events(log, "connector_delete_records_failed")))
        begin, end, records = _read(bootstrap, topic)
        assert set(begin.values()) == {0}  # tansu 0.6.0: nothing deleted
        assert len(records) == produced
        failure = _log_events(log, "connector_delete_records_failed")[0]
        assert failure["topic"] == topic
        assert failure["error"] == "KafkaConnectionError"  # tansu drops the connection


def _fresh(hub: HubStack, name: str, prefix: str
           ) -> tuple[str, bytes, list[Mapped | Refused], list[str]]:
    """A fresh copy of the connector's sample for its own new topic: (topic, data, mapping
    results, event ids). Its identifiers are recorded: test_zz_no_plaintext searches for them."""
    tag = f"{prefix}{uuid.uuid4().hex[:8]}"
    data = fresh_sample(name, tag)
    results = _keyed(hub, name, data)
    IDENTIFIERS.update(identifiers_in(results))
    return _topic(name, tag), data, results, _ids(results)


# -- the tests -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NATIVE_SAMPLES))
def test_each_native_format_on_the_agencys_topic_reaches_the_hub_and_leaves_the_topic(
        hub: HubStack, on_kafka: bool, name: str) -> None:
    topic, data, results, ids = _fresh(hub, name, "K")
    expected = _expected_reports(results)
    assert ids
    assert expected  # every sample has both (connectors/README.md, "Samples")
    assert expected == _expected_reports(connector(name).parse(native_sample(name).read_bytes()))
    _ensure(hub, topic)
    assert _retention_ms(hub.settings.bootstrap_servers, topic) == \
        hub.settings.native_retention_ms
    _produce(hub.settings.bootstrap_servers, topic, [data])

    proc, log = _start(hub, name, topic, _token(hub, name))
    try:
        rows = hub.wait_outcomes(ids)  # every mapped record has an outcome
        assert {r["status"] for r in rows.values()} <= FINAL
        if name != "school-absence":  # every sample but the absence signals holds concerns
            assert "routed" in {r["status"] for r in rows.values()}
        _wait("the batch to be answered", lambda: bool(_log_events(log, "connector_kafka_batch")))
        batch = _log_events(log, "connector_kafka_batch")[-1]
        assert (batch["documents"], batch["accepted"], batch["refused"]) == \
            (1, len(ids), len(expected))  # the hub answered for every record
        _wait("the refusal reports", lambda: len(_read(
            hub.settings.bootstrap_servers, rejected_topic(topic))[2]) >= len(expected))
        _assert_forwarded_records_left_the_topic(hub, topic, log, 1, on_kafka)
    finally:
        _stop(proc)

    reports = [json.loads(v) for _, _, v in _read(hub.settings.bootstrap_servers,
                                                  rejected_topic(topic))[2]]
    assert all(set(r) == REPORT_KEYS for r in reports)
    assert sorted((r["line"], r["field"], r["reason"]) for r in reports) == expected
    raw = b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") for r in reports)
    for identifier in identifiers_in(results):  # a report names the field, never its value
        assert identifier.encode("utf-8") not in raw
    assert not cpr_like_numbers(data.decode("utf-8", "replace")) & cpr_like_numbers(
        raw.decode("utf-8", "replace"))


def test_a_connector_killed_mid_stream_loses_nothing_and_the_next_one_deletes_everything(
        hub: HubStack, on_kafka: bool) -> None:
    """kill -9 (no shutdown, no final commit) after the first document was answered; more is
    produced; a new connector in the same group forwards the rest, and deletes what the dead
    one had committed as well as its own."""
    name = "police-doegnrapport"
    tag = f"KILL{uuid.uuid4().hex[:8]}"
    topic = _topic(name, tag)
    token = _token(hub, name)
    lines = fresh_sample(name, tag).splitlines(keepends=True)
    half = len(lines) // 2
    documents = [b"".join(lines[:half]), b"".join(lines[half:])]
    results = _keyed(hub, name, b"".join(lines))
    IDENTIFIERS.update(identifiers_in(results))
    ids = _ids(results)
    _ensure(hub, topic)
    _produce(hub.settings.bootstrap_servers, topic, documents[:1])

    first, log = _start(hub, name, topic, token)
    try:
        hub.wait_outcomes(_ids(_keyed(hub, name, documents[0])))
    finally:
        _stop(first, signal.SIGKILL)
    _produce(hub.settings.bootstrap_servers, topic, documents[1:])
    second, log = _start(hub, name, topic, token)
    try:
        rows = hub.wait_outcomes(ids)
        assert {r["status"] for r in rows.values()} <= FINAL
        _assert_forwarded_records_left_the_topic(hub, topic, log, 2, on_kafka)
        expected = {(r.line, r.field, r.reason) for doc in documents
                    for r in connector(name).parse(doc) if isinstance(r, Refused)}
        _wait("the refusal reports", lambda: {
            (r["line"], r["field"], r["reason"]) for r in
            (json.loads(v) for _, _, v in _read(hub.settings.bootstrap_servers,
                                                rejected_topic(topic))[2])} >= expected)
    finally:
        _stop(second)


def test_while_the_hub_is_unreachable_the_connector_retries_and_loses_nothing(
        hub: HubStack, on_kafka: bool, tmp_path: Path) -> None:
    """The connector starts while no API listens at its URL: it backs off, commits nothing,
    deletes nothing; once an API comes up there, every record goes through."""
    name = "school-concern"
    topic, data, _results, ids = _fresh(hub, name, "DOWN")
    _ensure(hub, topic)
    _produce(hub.settings.bootstrap_servers, topic, [data])
    port = free_port()
    api: subprocess.Popen[bytes] | None = None

    proc, log = _start(hub, name, topic, _token(hub, name), api=f"http://127.0.0.1:{port}")
    try:
        _wait("three retries", lambda: len(_log_events(log, "connector_hub_unreachable")) >= 3)
        waits = [e["retry_in_s"] for e in _log_events(log, "connector_hub_unreachable")]
        assert waits[:3] == sorted(waits[:3])  # backoff
        assert waits[2] > waits[0]
        assert proc.poll() is None
        assert _stored(hub, ids) == 0
        assert set(_committed(hub.settings.bootstrap_servers, f"{topic}-connector",
                              topic).values()) == {None}  # nothing committed
        assert len(_read(hub.settings.bootstrap_servers, topic)[2]) == 1  # still there

        with (tmp_path / "api.log").open("ab") as out:  # the hub comes back at that URL
            api = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "api", "--port", str(port)], env=hub.env,
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port("127.0.0.1", port, 60)
        rows = hub.wait_outcomes(ids)
        assert {r["status"] for r in rows.values()} <= FINAL
        _assert_forwarded_records_left_the_topic(hub, topic, log, 1, on_kafka)
    finally:
        _stop(proc)
        if api is not None:
            _stop(api)


class _Forwarder:
    """A TCP forwarder on a port of its own to the broker: the connector's bootstrap address,
    which is 'down' until the forwarder starts."""

    def __init__(self, port: int, target: str) -> None:
        host, _, target_port = target.rpartition(":")
        self.port = port
        self.target = (host, int(target_port))
        self.server: socket.socket | None = None

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.server is not None
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
def late_broker(hub: HubStack) -> Iterator[_Forwarder]:
    forwarder = _Forwarder(free_port(), hub.settings.bootstrap_servers)
    try:
        yield forwarder
    finally:
        forwarder.stop()


def test_while_the_broker_is_unreachable_the_connector_retries_and_loses_nothing(
        hub: HubStack, on_kafka: bool, late_broker: _Forwarder) -> None:
    """The connector starts while nothing answers at its bootstrap address: it does not give
    up, and once the broker answers there it forwards and deletes as always."""
    name = "social-concern"
    topic, data, _results, ids = _fresh(hub, name, "NOBROKER")
    _ensure(hub, topic)
    _produce(hub.settings.bootstrap_servers, topic, [data])

    proc, log = _start(hub, name, topic, _token(hub, name),
                       bootstrap=f"127.0.0.1:{late_broker.port}")
    try:
        _wait("two retries", lambda: len(_log_events(log, "connector_broker_unavailable")) >= 2)
        assert proc.poll() is None
        assert _stored(hub, ids) == 0
        late_broker.start()
        rows = hub.wait_outcomes(ids)
        assert {r["status"] for r in rows.values()} <= FINAL
        _assert_forwarded_records_left_the_topic(hub, topic, log, 1, on_kafka)
    finally:
        _stop(proc)

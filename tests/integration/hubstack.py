"""A whole hub for the integration tests: broker, database, worker and API processes.

Started once per session. The same test bodies run on the embedded broker and on Apache
Kafka (``--broker kafka``), on SQLite and on PostgreSQL (``--database postgres``).
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from core.bus.topics import ensure_topics
from core.ledger.auditlog import AuditLog
from core.policy.evaluator import load_policy
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from core.store import Store
from hub.auth import new_token
from hub.embedded import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class HubStack:
    settings: Settings
    env: dict[str, str]
    api_url: str
    logs: Path
    tokens: dict[str, str] = field(default_factory=dict)
    api: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    store: Store | None = None

    # -- processes -----------------------------------------------------------------------
    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        out = (self.logs / log_name).open("ab")
        return subprocess.Popen([sys.executable, "-m", "hub.cli", *args], env=self.env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                start_new_session=True)

    def start_worker(self, *args: str) -> subprocess.Popen[bytes]:
        """``ssp-hub worker ARGS`` (e.g. ``--stages route,project``)."""
        proc = self._spawn(["worker", *args], f"worker-{len(self.workers)}.log")
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        """``kill -9``: no shutdown hooks, no final commit."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def start_api(self) -> None:
        self.api = self._spawn(["api", "--port", self.api_url.rsplit(":", 1)[1]], "api.log")
        wait_for_port("127.0.0.1", int(self.api_url.rsplit(":", 1)[1]), 60)

    def restart_api(self) -> None:
        """Stop the API (SIGTERM, as an operator would) and start a fresh one."""
        if self.api is not None and self.api.poll() is None:
            os.killpg(self.api.pid, signal.SIGTERM)
            self.api.wait(20)
        self.start_api()

    def stop(self) -> None:
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        if self.store is not None:
            self.store.close()

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    # -- principals ----------------------------------------------------------------------
    def principal(self, name: str, role: str, queues: tuple[str, ...] = ()) -> str:
        assert self.store is not None
        token = new_token()
        self.store.add_principal(f"{name}-{uuid.uuid4().hex[:6]}", role, queues, token)
        return token

    # -- HTTP ----------------------------------------------------------------------------
    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30)

    def projected(self, queues: set[str], event_ids: set[str]
                  ) -> collections.Counter[tuple[str, str]]:
        """How often each of ``event_ids`` is listed in each of ``queues`` (every page of the
        queue API, read by a consultant of those queues)."""
        token = self.principal("konsulent-projected", "consultant", tuple(sorted(queues)))
        found: collections.Counter[tuple[str, str]] = collections.Counter()
        with self.client(token) as c:
            for queue in sorted(queues):
                cursor = None
                while True:
                    params: dict[str, Any] = {"limit": 1000}
                    if cursor:
                        params["cursor"] = cursor
                    page = c.get(f"/api/v1/queues/{queue}/concerns", params=params).json()
                    found.update((i["event_id"], queue) for i in page["items"]
                                 if i["event_id"] in event_ids)
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
        return found

    def wait_outcomes(self, event_ids: list[str], timeout: float = 120) -> dict[str, Any]:
        """Poll the store until every event has left ``pending``; return their rows."""
        assert self.store is not None
        deadline = time.monotonic() + timeout
        rows: dict[str, Any] = {}
        pending = set(event_ids)
        while pending and time.monotonic() < deadline:
            for event_id in list(pending):
                row = self.store.event(event_id)
                if row is not None and row["status"] != "pending":
                    rows[event_id] = row
                    pending.discard(event_id)
            if pending:
                time.sleep(0.2)
        assert not pending, f"{len(pending)} of {len(event_ids)} events still pending"
        return rows

    # -- the disclosure log --------------------------------------------------------------
    def log_entries(self, **filters: Any) -> list[dict[str, Any]]:
        """Every disclosure-log entry matching ``filters`` (see AuditLog.page), oldest first."""
        assert self.store is not None
        audit = AuditLog(self.store)
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = audit.page(limit=1000, cursor=cursor, newest_first=False, **filters)
            items += page.items
            cursor = page.next_cursor
            if cursor is None:
                return items

    def wait_log(self, predicate: Callable[[dict[str, Any]], bool], count: int = 1,
                 timeout: float = 60, **filters: Any) -> list[dict[str, Any]]:
        """Poll until at least ``count`` entries satisfy ``predicate``; return them. The API
        answers once an entry is on the broker; the sequencer integrates it shortly after."""
        deadline = time.monotonic() + timeout
        while True:
            # An erased entry (another test's `audit erase`) keeps only its leaf: no content
            # for a predicate to read.
            found = [e for e in self.log_entries(**filters)
                     if not e.get("erased") and predicate(e)]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{len(found)} of {count} log entries appeared"
                return found
            time.sleep(0.2)


async def _read_all(bootstrap: str) -> list[tuple[str, bytes | None, bytes, list[Any]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = sorted(await admin.list_topics())
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    out: list[tuple[str, bytes | None, bytes, list[Any]]] = []
    try:
        parts = []
        for topic in topics:
            for p in consumer.partitions_for_topic(topic) or await _partitions(consumer, topic):
                parts.append(TopicPartition(topic, p))
        consumer.assign(parts)
        end = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        remaining = {tp for tp in parts if end[tp] > 0}
        deadline = time.monotonic() + 120
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, msgs in batch.items():
                for m in msgs:
                    out.append((tp.topic, m.key, m.value or b"", list(m.headers or [])))
                    if m.offset + 1 >= end[tp]:
                        remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return out


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def read_all_topics(bootstrap: str) -> list[tuple[str, bytes | None, bytes, list[Any]]]:
    """Every record in every topic on the broker: (topic, key, value, headers)."""
    return asyncio.run(_read_all(bootstrap))


def start_stack(workdir: Path, bootstrap: str, database_url: str | None,
                replication_factor: int = 1) -> Generator[HubStack, None, None]:
    data_dir = workdir / "data"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
    env.update({
        "SSP_HUB_DATA_DIR": str(data_dir),
        "SSP_HUB_BOOTSTRAP_SERVERS": bootstrap,
        "SSP_HUB_WORKER_ID": f"ssp-hub-test-{uuid.uuid4().hex[:8]}",
        "SSP_HUB_REPLICATION_FACTOR": str(replication_factor),
        "SSP_HUB_LOG_LEVEL": "info",
        "SSP_HUB_WORKER_SESSION_TIMEOUT": "6",
        "SSP_HUB_CHECKPOINT_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1",
    })
    if database_url:
        env["SSP_HUB_DATABASE_URL"] = database_url
    settings = Settings(data_dir=data_dir, bootstrap_servers=bootstrap,
                        database_url=database_url, replication_factor=replication_factor)
    # The hub's keys and topics exist before its processes start (as `ssp-hub keys init`
    # and the deployment's topic set-up would have made them).
    FileKeyProvider(settings.resolved_key_file, create=True).load()
    asyncio.run(ensure_topics(settings, load_policy(settings.resolved_policy_file).queues))
    stack = HubStack(settings=settings, env=env, api_url=f"http://127.0.0.1:{free_port()}",
                     logs=logs)
    try:
        stack.store = Store.open(settings.resolved_database_url)
        stack.start_api()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()

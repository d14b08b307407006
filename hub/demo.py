"""``ssp-hub demo``: the whole hub on one machine, no Docker.

Starts the embedded tansu broker on a free loopback port, one worker (restarted if it dies),
the API on 127.0.0.1 and demo principals (tokens printed). Unless ``--no-sample-data``, it then
feeds sample data through every way into the hub:

* the canonical sample events (:mod:`hub.sample_data`) by ``POST /api/v1/ingest/{agency}``;
* the agencies' native sample exports (``connectors/samples/``) through the three delivery
  modes of the connectors (:data:`hub.sample_data.DEMO_DELIVERY`): HTTP
  (``POST /api/v1/connectors/{connector}``), file drop (copied into
  ``DATA_DIR/drop/<connector>/``, where a watcher sends it) and Kafka-native (produced to the
  police's own topic, where the Kafka-native connector consumes it).

The drop-folder watchers (one folder per connector) and the Kafka-native connector keep running
— also with ``--no-sample-data`` — so an operator can drop more exports or produce more
døgnrapporter. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import structlog
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka_native import KafkaNativeConnector, native_topic
from connectors.registry import CONNECTORS
from connectors.watch import FileDropWatcher, WatchReport, default_state_dir
from core.bus.topics import ensure_topics
from core.logs import configure
from core.policy.evaluator import load_policy
from core.privacy.keys import provider_for
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.auth import new_token
from hub.embedded import die_with_parent, start_embedded_broker, wait_for_port
from hub.sample_data import DEMO_DELIVERY, NATIVE_SAMPLES, native_sample, sample_events
from hub.web.sessions import WEB_ROLES, hash_password
from hub.web.texts import TEXTS

DEMO_PRINCIPALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("demo-skole", "agency:school", ()),
    ("demo-socialforvaltning", "agency:social", ()),
    ("demo-politi", "agency:police", ()),
    ("demo-konsulent", "consultant", ("beredskab", "infohus", "opsoegende", "omraade-praestoe",
                                      "omraade-stege", "omraade-vordingborg", "underretning")),
    # A second consultant on Infohus: re-identification there needs four eyes (the policy).
    ("demo-konsulent-infohus", "consultant", ("infohus",)),
    ("demo-sikkerhed", "security_officer", ()),
    ("demo-admin", "admin", ()),
    ("demo-styregruppe", "governance", ()),
)
AGENCY_PRINCIPALS = {"school": "demo-skole", "social": "demo-socialforvaltning",
                     "police": "demo-politi"}
DROP_POLL_S = 1.0
FEED_TIMEOUT_S = 90.0


def _demo_tokens(store: Store) -> tuple[dict[str, str], dict[str, str]]:
    """Create the demo principals, or give existing ones fresh tokens (only hashes are kept),
    and give each person with a web role a fresh password: (tokens, passwords)."""
    tokens, passwords = {}, {}
    for name, role, queues in DEMO_PRINCIPALS:
        token = new_token()
        if not store.replace_token(name, token):
            store.add_principal(name, role, queues, token)
        tokens[name] = token
        if role in WEB_ROLES:
            passwords[name] = secrets.token_urlsafe(9)
            store.set_password_hash(name, hash_password(passwords[name]))
    return tokens, passwords


T = TypeVar("T")
STOP_WAIT_S = 5.0  # how long each part may take to stop before it is left behind or killed


async def in_daemon_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a daemon thread. Unlike ``asyncio.to_thread`` (whose executor is joined at
    exit), a call that hangs — an upload to an API that never answers — cannot keep the
    demo from stopping: the task can be cancelled and the process exits without the thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def run() -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn())
        except BaseException as exc:
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="ssp-hub-demo", daemon=True).start()
    return await future


async def _until(done: Callable[[], bool], wait_s: float, step_s: float = 0.2) -> bool:
    """Poll ``done`` until it is true or ``wait_s`` has passed; its last answer."""
    for _ in range(int(wait_s / step_s)):
        if done():
            return True
        await asyncio.sleep(step_s)
    return done()


def _connector_token(tokens: dict[str, str], connector: str) -> str:
    return tokens[AGENCY_PRINCIPALS[CONNECTORS[connector].agency.value]]


def _start_worker(settings: Settings, log_file: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SSP_HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "SSP_HUB_DATA_DIR": str(settings.data_dir), "SSP_HUB_LOG_LEVEL": "warning",
           "SSP_HUB_MODE": settings.mode}
    with log_file.open("ab") as out:
        # Its own session (Ctrl-C is the demo's to handle), and it dies with the demo even
        # when the demo is killed outright.
        return subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=die_with_parent())


@dataclass
class Fed:
    """One line of the start-up summary: what went into the hub, how, and with what answer."""

    mode: str
    sample: str
    via: str
    accepted: int | None = None  # None: not answered in time
    refused: int = 0
    note: str = ""


async def _feed_canonical(client: httpx.AsyncClient, tokens: dict[str, str]) -> Fed:
    accepted = refused = 0
    for agency, event in sample_events():
        resp = await client.post(f"/api/v1/ingest/{agency}", json=event, headers={
            "Authorization": f"Bearer {tokens[AGENCY_PRINCIPALS[agency]]}"})
        if resp.status_code == 202:
            accepted += 1
        else:
            refused += 1
    return Fed("HTTP ingest", "canonical sample events", "POST /api/v1/ingest/{agency}",
               accepted, refused)


async def _feed_http(client: httpx.AsyncClient, tokens: dict[str, str], connector: str) -> Fed:
    sample = native_sample(connector)
    resp = await client.post(f"/api/v1/connectors/{connector}", content=sample.read_bytes(),
                             headers={"Authorization":
                                      f"Bearer {_connector_token(tokens, connector)}"})
    fed = Fed("HTTP connector", sample.name, f"POST /api/v1/connectors/{connector}")
    if resp.status_code != 200:
        fed.note = f"HTTP {resp.status_code}"
        return fed
    counts = resp.json()["counts"]
    fed.accepted, fed.refused = counts["accepted"], counts["refused"]
    return fed


class DropFolders:
    """One drop folder per connector under ``DATA_DIR/drop/``, each with its watcher, polled
    from the demo's event loop (the watcher is synchronous: it runs in a thread)."""

    def __init__(self, settings: Settings, base: str, tokens: dict[str, str]) -> None:
        self.root = root = settings.data_dir / "drop"
        self.watchers: dict[str, FileDropWatcher] = {}
        for name in sorted(CONNECTORS):
            (root / name).mkdir(parents=True, exist_ok=True)
            self.watchers[name] = FileDropWatcher(
                root / name, name, base, _connector_token(tokens, name), settle_s=1.0,
                state_dir=default_state_dir(settings.resolved_watch_state_dir, name,
                                            root / name),
                retention_s=settings.drop_retention_days * 86400)
        self.announce = False  # print what the watchers did (after the start-up summary)

    def folder(self, connector: str) -> Path:
        return self.root / connector

    def _done(self, connector: str, digest: str) -> dict[str, Any] | None:
        return self.watchers[connector].done_entry(digest)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, watcher in self.watchers.items():
                try:
                    report = await in_daemon_thread(watcher.run_once)
                except Exception as exc:  # one folder's trouble never stops the others
                    print(f"[file drop {name}] {type(exc).__name__}: {exc}", flush=True)
                    continue
                if self.announce and (report.sent or report.already_done or report.rejected):
                    self._show(name, report)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), DROP_POLL_S)

    def _show(self, name: str, report: WatchReport) -> None:
        print(f"[file drop {name}] sent {report.sent} file(s): {report.accepted} records "
              f"accepted, {report.refused} refused; {report.already_done} already done "
              f"(see {self.folder(name) / 'done'})"
              + (f"; {report.rejected} rejected (see {self.folder(name) / 'rejected'})"
                 if report.rejected else ""), flush=True)

    async def feed(self, connector: str) -> Fed:
        """Drop ``connector``'s sample into its folder and wait until the watcher sent it."""
        sample = native_sample(connector)
        data = sample.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        folder = self.folder(connector)
        fed = Fed("file drop", sample.name, f"{folder}{os.sep}")
        entry = self._done(connector, digest)
        if entry is not None:  # the watcher remembers the content: it would not send it again
            fed.note = "sent in an earlier run"
        else:
            part = folder / f"{sample.name}.part"  # copied under a name the watcher ignores,
            part.write_bytes(data)                 # then renamed: it never sees half a file
            os.replace(part, folder / sample.name)
            await _until(lambda: self._done(connector, digest) is not None, FEED_TIMEOUT_S)
            entry = self._done(connector, digest)
        if entry is not None and entry.get("accepted") is not None:
            fed.accepted, fed.refused = int(entry["accepted"]), int(entry["refused"])
        return fed

    def close(self) -> None:
        for watcher in self.watchers.values():
            watcher.close()


async def _topic_exists(bootstrap: str, topic: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return topic in set(await admin.list_topics())
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _feed_kafka(settings: Settings, native: KafkaNativeConnector,
                      task: asyncio.Task[Any], connector: str) -> Fed:
    """Produce ``connector``'s sample to the agency's topic, as the agency's system would, and
    wait until the running Kafka-native connector has had the hub's answer for it."""
    sample = native_sample(connector)
    fed = Fed("Kafka-native", sample.name, f"topic {native.topic}")
    before = native.report.documents, native.report.accepted, native.report.refused
    for _ in range(int(FEED_TIMEOUT_S)):  # the connector creates its topic (short retention)
        if task.done() or await _topic_exists(settings.bootstrap_servers, native.topic):
            break
        await asyncio.sleep(1)
    await _produce(settings.bootstrap_servers, native.topic, sample.read_bytes())
    await _until(lambda: native.report.documents > before[0] or task.done(), FEED_TIMEOUT_S)
    if native.report.documents > before[0]:
        fed.accepted = native.report.accepted - before[1]
        fed.refused = native.report.refused - before[2]
    elif task.done():
        fed.note = "the Kafka-native connector stopped; see the log"
    return fed


def _start_kafka_native(settings: Settings, base: str, tokens: dict[str, str],
                       stop: asyncio.Event) -> tuple[KafkaNativeConnector, asyncio.Task[Any]]:
    """The Kafka-native connector on the police's own topic, running until ``stop``."""
    connector = next(c for c, mode in DEMO_DELIVERY.items() if mode == "kafka")
    native = KafkaNativeConnector(
        bootstrap_servers=settings.bootstrap_servers, topic=native_topic(connector),
        connector=connector, api_url=base, token=_connector_token(tokens, connector),
        group_id=f"ssp-hub-demo-{connector}", max_backoff_s=5.0,
        replication_factor=settings.replication_factor, partitions=settings.topic_partitions,
        retention_ms=settings.native_retention_ms)
    return native, asyncio.create_task(native.run(should_stop=stop.is_set))


def _drop_delete_failures(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]
                          ) -> MutableMapping[str, Any]:
    """The embedded broker implements no DeleteRecords, so the Kafka-native connector would
    warn about it with every retry for as long as the demo runs; the demo says it once."""
    if event_dict.get("event") == "connector_delete_records_failed":
        raise structlog.DropEvent
    return event_dict


def _summary(fed: list[Fed]) -> str:
    lines = [f"  {'mode':15} {'sample':34} {'accepted':>8} {'refused':>8}  via"]
    for f in fed:
        accepted = "-" if f.accepted is None else str(f.accepted)
        note = f"  ({f.note})" if f.note else ""
        lines.append(f"  {f.mode:15} {f.sample:34} {accepted:>8} {f.refused:>8}  {f.via}{note}")
    return "\n".join(lines)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the demo stops API, worker and broker together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _stop_task(task: asyncio.Task[Any] | None, wait_s: float) -> None:
    if task is None:
        return
    try:
        await asyncio.wait_for(task, wait_s)
    except TimeoutError:
        pass  # wait_for has cancelled it
    except Exception as exc:  # shutting down: report it, do not mask the exit
        print(f"{type(exc).__name__} while stopping: {exc}", flush=True)


async def _feed_all(settings: Settings, base: str, tokens: dict[str, str], drops: DropFolders,
                    native: KafkaNativeConnector, kafka_task: asyncio.Task[Any]) -> None:
    """Feed the sample data through every delivery mode and print the summary."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        fed = [await _feed_canonical(client, tokens)]
        for connector, mode in DEMO_DELIVERY.items():
            if mode == "http":
                fed.append(await _feed_http(client, tokens, connector))
    fed += [await drops.feed(c) for c, m in DEMO_DELIVERY.items() if m == "file-drop"]
    fed += [await _feed_kafka(settings, native, kafka_task, c)
            for c, m in DEMO_DELIVERY.items() if m == "kafka"]
    print("\nSample data fed (fictitious people; refusals are deliberate, see "
          "connectors/README.md):\n" + _summary(fed))
    print("  Refused records are reported by line, field and reason, never a value: in "
          "the HTTP answer,\n  in the drop folder's done/<file>.rejected, on topic "
          f"{native.topic}.rejected.\n  The embedded broker cannot delete records "
          "(no DeleteRecords): the døgnrapport stays in its memory\n  until the demo "
          "stops. On Apache Kafka the connector deletes what it has forwarded.")
    print(f"\nTry:\n  curl -H 'Authorization: Bearer {tokens['demo-konsulent']}' "
          f"{base}/api/v1/queues\n"
          f"  curl -H 'Authorization: Bearer {tokens['demo-sikkerhed']}' "
          f"{base}/api/v1/disclosures/verify\n"
          f"  ssp-hub audit verify --data-dir {settings.data_dir}")


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run ``work`` until it is done (True) or ``stop`` is set (False: it is cancelled), so
    that Ctrl-C during start-up does not wait for a feed that hangs."""
    task = asyncio.create_task(work)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _serve(settings: Settings, tokens: dict[str, str], passwords: dict[str, str],
                 sample_data: bool, worker_log: Path) -> None:
    server = _Server(uvicorn.Config(create_api(settings), host=settings.api_host,
                                    port=settings.api_port, log_level="warning",
                                    timeout_graceful_shutdown=int(STOP_WAIT_S)))
    worker = _start_worker(settings, worker_log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve())
    base = f"http://{settings.api_host}:{settings.api_port}"
    drops = DropFolders(settings, base, tokens)
    drop_task: asyncio.Task[None] | None = None
    kafka_task: asyncio.Task[Any] | None = None
    try:
        while not server.started:
            if serving.done():
                serving.result()
                return
            await asyncio.sleep(0.1)
        drop_task = asyncio.create_task(drops.run(stop))
        native, kafka_task = _start_kafka_native(settings, base, tokens, stop)
        print(f"\nSSP Hub kører / is running:\n  web UI    {base}/ui/  (log ind med en "
              "demo-bruger nedenfor / log in as a demo user below)\n"
              f"  API       {base}/docs\n"
              f"  OpenAPI   {base}/openapi.json\n"
              f"  metrics   {base}/metrics  (the security officer's or admin's token below)\n"
              f"  broker    {settings.bootstrap_servers} (embedded tansu, memory only)\n"
              f"  data dir  {settings.data_dir}\n\nDemo tokens (Authorization: Bearer …):")
        for name, role, _ in DEMO_PRINCIPALS:
            print(f"  {name:24} {role:18} {tokens[name]}")
        print("\nDemo-brugere til webgrænsefladen / web UI demo accounts "
              "(nye adgangskoder ved hver start / new passwords at every start):")
        for name, role, _ in DEMO_PRINCIPALS:
            if name in passwords:
                print(f"  {TEXTS['roles'][role]:24} brugernavn {name:20} "
                      f"adgangskode {passwords[name]}")
        if sample_data and not await _unless_stopped(
                _feed_all(settings, base, tokens, drops, native, kafka_task), stop):
            return
        print("\nDrop an agency's native export into its folder (watched; sent files move to "
              "done/):")
        for name in sorted(NATIVE_SAMPLES):
            print(f"  {name:20} {drops.folder(name)}{os.sep}")
        print(f"Or produce døgnrapport documents (JSON Lines) to topic {native.topic} on "
              f"{settings.bootstrap_servers}.")
        drops.announce = True
        print("\nCtrl-C stops everything.", flush=True)
        while not stop.is_set():
            if worker.poll() is not None:
                print(f"worker exited with {worker.returncode}; restarting", flush=True)
                worker = _start_worker(settings, worker_log)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        # Every step is bounded, so that a hanging upload or a broker that does not answer
        # cannot hold Ctrl-C up: the feeders first (they talk to the API), the worker stops
        # meanwhile, then the API (its requests and its producer, which may wait on the broker).
        stop.set()
        worker_deadline = loop.time() + 3 * STOP_WAIT_S
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        await asyncio.gather(_stop_task(kafka_task, STOP_WAIT_S),
                             _stop_task(drop_task, STOP_WAIT_S))
        drops.close()
        server.should_exit = True
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(serving, 2 * STOP_WAIT_S)
        try:
            worker.wait(max(0.1, worker_deadline - loop.time()))
        except subprocess.TimeoutExpired:
            worker.kill()


def run_demo(*, data_dir: Path, port: int, sample_data: bool) -> int:
    data_dir = data_dir.resolve()
    with socket.socket() as probe:  # say it plainly before anything starts (uvicorn would exit
        try:                        # from inside the event loop, with a traceback)
            probe.bind(("127.0.0.1", port))
        except OSError:
            print(f"port {port} on 127.0.0.1 is in use; choose another with --port",
                  file=sys.stderr)
            return 1
    data_dir.mkdir(parents=True, exist_ok=True)
    configure("warning")
    structlog.configure(processors=[_drop_delete_failures,
                                    *structlog.get_config()["processors"]])
    broker = start_embedded_broker(data_dir / "logs" / "tansu.log")
    try:
        # The demo opts into dev mode explicitly: it may create its own key file.
        settings = Settings(mode="dev", data_dir=data_dir, bootstrap_servers=broker.bootstrap,
                            api_port=port)
        provider_for(settings, create=True).load()
        policy = load_policy(settings.resolved_policy_file)
        asyncio.run(ensure_topics(settings, policy.queues))
        store = Store.open(settings.resolved_database_url)
        try:
            tokens, passwords = _demo_tokens(store)
        finally:
            store.close()
        wait_for_port("127.0.0.1", broker.port, 5)
        asyncio.run(_serve(settings, tokens, passwords, sample_data,
                           data_dir / "logs" / "worker.log"))
    finally:
        broker.stop()
    print("stopped.")
    return 0

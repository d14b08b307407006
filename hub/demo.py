"""``ssp-hub demo``: the whole hub on one machine, no Docker.

Starts the embedded tansu broker on a free loopback port, one worker (restarted if it dies),
the API on 127.0.0.1, demo principals (tokens printed), and — unless ``--no-sample-data`` —
feeds the sample events from all three agencies. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn

from hub.api import create_api
from hub.auth import new_token
from hub.embedded import start_embedded_broker, wait_for_port
from hub.keys import FileKeyProvider
from hub.logs import configure
from hub.sample_data import sample_events
from hub.settings import Settings
from hub.store import Store
from hub.topics import ensure_topics
from streams.policy import load_policy

DEMO_PRINCIPALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("demo-skole", "agency:school", ()),
    ("demo-socialforvaltning", "agency:social", ()),
    ("demo-politi", "agency:police", ()),
    ("demo-konsulent", "consultant", ("beredskab", "infohus", "opsoegende", "omraade-praestoe",
                                      "omraade-stege", "omraade-vordingborg", "underretning")),
    ("demo-sikkerhed", "security_officer", ()),
    ("demo-admin", "admin", ()),
)


def _demo_tokens(store: Store) -> dict[str, str]:
    """Create the demo principals, or give existing ones fresh tokens (only hashes are kept)."""
    tokens = {}
    for name, role, queues in DEMO_PRINCIPALS:
        token = new_token()
        if not store.replace_token(name, token):
            store.add_principal(name, role, queues, token)
        tokens[name] = token
    return tokens


def _start_worker(settings: Settings, log_file: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SSP_HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "SSP_HUB_DATA_DIR": str(settings.data_dir), "SSP_HUB_LOG_LEVEL": "warning"}
    with log_file.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


async def _feed(base: str, tokens: dict[str, str]) -> dict[str, int]:
    by_agency = {"school": "demo-skole", "social": "demo-socialforvaltning",
                 "police": "demo-politi"}
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for agency, event in sample_events():
            resp = await client.post(f"/api/v1/ingest/{agency}", json=event, headers={
                "Authorization": f"Bearer {tokens[by_agency[agency]]}"})
            key = "accepted" if resp.status_code == 202 else f"http {resp.status_code}"
            counts[key] = counts.get(key, 0) + 1
    return counts


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the demo stops API, worker and broker together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(settings: Settings, tokens: dict[str, str], sample_data: bool,
                 worker_log: Path) -> None:
    server = _Server(uvicorn.Config(create_api(settings), host=settings.api_host,
                                           port=settings.api_port, log_level="warning"))
    worker = _start_worker(settings, worker_log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve())
    base = f"http://{settings.api_host}:{settings.api_port}"
    try:
        while not server.started:
            if serving.done():
                serving.result()
                return
            await asyncio.sleep(0.1)
        print(f"\nSSP Hub kører / is running:\n  API       {base}/docs\n"
              f"  OpenAPI   {base}/openapi.json\n  metrics   {base}/metrics\n"
              f"  broker    {settings.bootstrap_servers} (embedded tansu, memory only)\n"
              f"  data dir  {settings.data_dir}\n\nDemo tokens (Authorization: Bearer …):")
        for name, role, _ in DEMO_PRINCIPALS:
            print(f"  {name:24} {role:18} {tokens[name]}")
        if sample_data:
            counts = await _feed(base, tokens)
            print(f"\nSample data fed: {counts}. Try:\n  curl -H 'Authorization: Bearer "
                  f"{tokens['demo-konsulent']}' {base}/api/v1/queues\n"
                  f"  curl -H 'Authorization: Bearer {tokens['demo-sikkerhed']}' "
                  f"{base}/api/v1/disclosures/verify\n"
                  f"  ssp-hub audit verify --data-dir {settings.data_dir}")
        print("\nCtrl-C stops everything.", flush=True)
        while not stop.is_set():
            if worker.poll() is not None:
                print(f"worker exited with {worker.returncode}; restarting", flush=True)
                worker = _start_worker(settings, worker_log)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        server.should_exit = True
        await serving
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()


def run_demo(*, data_dir: Path, port: int, sample_data: bool) -> int:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    configure("warning")
    broker = start_embedded_broker(data_dir / "logs" / "tansu.log")
    try:
        settings = Settings(data_dir=data_dir, bootstrap_servers=broker.bootstrap,
                            api_port=port)
        FileKeyProvider(settings.resolved_key_file, create=True).load()
        policy = load_policy(settings.resolved_policy_file)
        asyncio.run(ensure_topics(settings, policy.queues))
        store = Store.open(settings.resolved_database_url)
        try:
            tokens = _demo_tokens(store)
        finally:
            store.close()
        wait_for_port("127.0.0.1", broker.port, 5)
        asyncio.run(_serve(settings, tokens, sample_data, data_dir / "logs" / "worker.log"))
    finally:
        broker.stop()
    print("stopped.")
    return 0

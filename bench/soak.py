"""Soak: the hub at a steady rate for a long time; every process's memory and every outcome.

    python -m bench.soak --minutes 30 --rate 300 [--workers 2] [--broker kafka]
                         [--database postgres]

One run: a broker (embedded tansu by default, or one Apache Kafka node with ``--broker
kafka``), the API process and ``--workers`` worker processes on a fresh data dir. For
``--minutes``, ``--rate`` encrypted ~1 KB events a second go to the ingest topics (sealed as
``POST /api/v1/ingest`` seals them: :class:`bench.throughput.EventFactory`), and a consultant
reads a page of a queue through the API every ``--read-every`` seconds (so the API serves and
logs consultations too). Every ``--sample-every`` seconds the resident memory (VmRSS) of the
API, each worker and the broker is read from ``/proc``. At the end it waits until every event
has its outcome and every routed concern is in the store, and prints one JSON line: the RSS
series of each process (first and last sample, and the growth from the sample after warm-up
to the last), the outcome accounting, and the events the hub was still behind by at the end
of each sample (a backlog that grows means the rate is above what the hub sustains).

Run it by hand (it is long); the README's benchmark section has a result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from bench.throughput import (
    PRODUCER_KW,
    EventFactory,
    Fleet,
    IngestMessage,
    decided_count,
    fresh_database,
    hub_env,
    ingest_tuples,
    log,
    run_on_broker,
    send_all,
    start_fleet,
    store_totals,
    topics_from_the_end,
)
from core.bus.envelope import OrderKey, PayloadCipher
from core.policy.evaluator import load_policy
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from core.store import Store
from hub.auth import new_token
from hub.embedded import free_port, wait_for_port


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (None once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def start_api(settings: Settings, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with (data_dir / "api.log").open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "api", "--port", str(port)],
                                env=hub_env(settings), cwd=data_dir, stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    wait_for_port("127.0.0.1", port, 60)
    return proc, f"http://127.0.0.1:{port}"


async def _reader(api_url: str, token: str, queue: str, every: float,
                  stop: asyncio.Event, reads: list[int]) -> None:
    """A consultant reading the newest page of a queue every ``every`` seconds."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                resp = await client.get(f"/api/v1/queues/{queue}/concerns",
                                        params={"limit": 50})
                reads.append(resp.status_code)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


async def _produce(producer: Any, factory: EventFactory, rate: float, seconds: float,
                   sent: list[IngestMessage]) -> None:
    """``rate`` events a second for ``seconds``, in ten slices a second."""
    started = time.monotonic()
    tick = 0
    while (now := time.monotonic()) - started < seconds:
        due = int((now - started) * rate) - len(sent)
        if due > 0:
            batch = factory.batch(due)
            await send_all(producer, ingest_tuples(batch))
            sent += batch
        tick += 1
        await asyncio.sleep(max(0.0, started + tick / 10 - time.monotonic()))


async def soak(args: argparse.Namespace, bootstrap: str, workdir: Path) -> dict[str, Any]:
    data_dir = (workdir / "hub").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, bootstrap_servers=bootstrap,
                        worker_id=f"ssp-hub-soak-{os.getpid()}",
                        database_url=fresh_database(args.database_url, f"soak_{os.getpid()}"))
    policy = load_policy(settings.resolved_policy_file)
    ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
    factory = EventFactory(PayloadCipher(ring), OrderKey.for_ring(ring), policy, 20)
    store = Store.open(settings.resolved_database_url)
    await topics_from_the_end(bootstrap, settings, policy)
    queue = sorted(policy.queues)[0]
    token = new_token()
    store.add_principal("konsulent-soak", "consultant", tuple(policy.queues), token)
    api, api_url = start_api(settings, data_dir)
    fleet: Fleet = start_fleet(settings, data_dir, args.workers)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_KW)
    await producer.start()
    pids = {"api": api.pid, **{f"worker-{i + 1}": w.pid for i, w in enumerate(fleet.workers)}}
    if args.broker_pid:
        pids["broker"] = args.broker_pid
    samples: list[dict[str, Any]] = []
    sent: list[IngestMessage] = []
    reads: list[int] = []
    stop = asyncio.Event()
    try:
        reader = asyncio.create_task(_reader(api_url, token, queue, args.read_every, stop, reads))
        producing = asyncio.create_task(_produce(producer, factory, args.rate,
                                                 args.minutes * 60, sent))
        started = time.monotonic()
        while not producing.done():
            await asyncio.wait({producing}, timeout=args.sample_every)
            fleet.check_alive()
            decided = await asyncio.to_thread(decided_count, store)
            samples.append({"t_s": round(time.monotonic() - started),
                            "rss_mb": {name: rss_mb(pid) for name, pid in pids.items()},
                            "behind": len(sent) - decided})
            log(f"soak: {samples[-1]}")
        await producing
        stop.set()
        await reader
        deadline = time.monotonic() + 600
        while await asyncio.to_thread(decided_count, store) < len(sent):
            fleet.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("outcomes still missing 10 minutes after the last event")
            await asyncio.sleep(0.5)
        return _report(args, samples, sent, reads, store_totals(store))
    finally:
        await producer.stop()
        fleet.stop()
        api.send_signal(signal.SIGTERM)
        api.wait(20)
        store.close()


def _report(args: argparse.Namespace, samples: list[dict[str, Any]],
            sent: list[IngestMessage], reads: list[int], totals: dict[str, Any]
            ) -> dict[str, Any]:
    expected = {"routed": sum(m.expected == "routed" for m in sent),
                "rejected": sum(m.expected == "rejected" for m in sent)}
    concerns = sum(len(m.queues) for m in sent if m.expected == "routed")
    warm = samples[min(len(samples) - 1, 1)] if samples else {"rss_mb": {}}
    last = samples[-1] if samples else {"rss_mb": {}}
    growth = {name: (round(last["rss_mb"][name] - mb, 1)
                     if mb is not None and last["rss_mb"].get(name) is not None else None)
              for name, mb in warm["rss_mb"].items()}
    return {
        "minutes": args.minutes, "rate": args.rate, "workers": args.workers,
        "broker": args.broker, "database": args.database, "events": len(sent),
        "rss_first_mb": samples[0]["rss_mb"] if samples else {},
        "rss_last_mb": last["rss_mb"], "rss_growth_after_warmup_mb": growth,
        "behind_max": max((s["behind"] for s in samples), default=0),
        "behind_last_sample": last.get("behind"),
        "queue_reads": len(reads), "queue_reads_ok": reads.count(200),
        "outcomes": totals["outcomes"], "expected_outcomes": expected,
        "concerns": totals["concerns"], "expected_concerns": concerns,
        "accounting_ok": ({k: v for k, v in totals["outcomes"].items() if v}
                          == {k: v for k, v in expected.items() if v}
                          and totals["concerns"] == concerns),
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=300.0, help="events a second")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--broker", default="embedded",
                        help="'embedded', 'kafka' (one Apache Kafka node) or a bootstrap list")
    parser.add_argument("--database", default="sqlite", help="'sqlite', 'postgres' or a URL")
    parser.add_argument("--sample-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--read-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    result = run_on_broker(args, "ssp-hub-soak-", soak)
    print(json.dumps(result, separators=(",", ":")))
    return 0 if result["accounting_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

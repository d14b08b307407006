"""`ssp-hub demo` killed outright leaves no broker or worker behind (issue 13 §11)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.embedded import free_port
from tests.integration.hubstack import REPO

pytestmark = pytest.mark.integration


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that has just ended
            found |= {int(c) for c in (task / "children").read_text("ascii").split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text("ascii").rsplit(") ", 1)[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_demos_broker_and_worker_die_when_the_demo_is_killed(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--broker") != "embedded":
        pytest.skip("the demo always runs on the embedded broker")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--no-sample-data", "--port",
         str(free_port()), "--data-dir", str(tmp_path / "demo")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or "Ctrl-C stops everything" in line:
                break
        children = _children(proc.pid)
        assert len(children) >= 2, "expected the broker and the worker"  # tansu, worker

        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.2)
        assert not [c for c in children if _alive(c)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_ctrl_c_stops_the_demo_promptly_while_an_upload_hangs(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A drop-folder upload hangs (the broker is frozen, so the hub cannot accept it): Ctrl-C
    still stops the demo within seconds, not after the upload's two-minute timeout."""
    if request.config.getoption("--broker") != "embedded":
        pytest.skip("the demo always runs on the embedded broker")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
    data_dir = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--no-sample-data", "--port",
         str(free_port()), "--data-dir", str(data_dir)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children: set[int] = set()
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or "Ctrl-C stops everything" in line:
                break
        children = _children(proc.pid)
        broker = next(c for c in children
                      if "tansu" in Path(f"/proc/{c}/cmdline").read_text("latin-1"))
        os.kill(broker, signal.SIGSTOP)
        sample = REPO / "connectors" / "samples" / "elevfravaer-2026-03.csv"
        (data_dir / "drop" / "school-absence" / sample.name).write_bytes(sample.read_bytes())
        time.sleep(6)  # the watcher has picked it up; its upload waits on the frozen broker

        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        elapsed = time.monotonic() - started

        assert elapsed < 25, f"the demo took {elapsed:.0f}s to stop"
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

"""The newcomer's path: `ssp-hub demo`, and `ssp-hub users add` on a running hub."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub.embedded import free_port
from hub.sample_data import sample_events
from tests.integration.events import make_event
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration


def test_users_add_works_while_the_hub_runs(hub: HubStack) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hub.cli", "users", "add", "skole-cli", "--role", "agency:school",
         "--data-dir", str(hub.settings.data_dir)],
        env=hub.env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    with hub.client(token) as c:
        assert c.get("/api/v1/whoami").json()["role"] == "agency:school"
        event = make_event("school")
        assert c.post("/api/v1/ingest/school", json=event).status_code == 202
    assert hub.wait_outcomes([event["event_id"]])[event["event_id"]]["status"] == "routed"


def test_demo_routes_sample_data_from_all_three_agencies_and_stops_cleanly(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--broker") != "embedded":
        pytest.skip("the demo always runs on the embedded broker")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--port", str(port), "--data-dir",
         str(tmp_path / "demo")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        output = "".join(lines)
        assert "Sample data fed: {'accepted': 44}" in output, output
        token = re.search(r"demo-konsulent\s+consultant\s+(\S+)", output)
        assert token is not None, output
        agencies: set[str] = set()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token.group(1)}"}) as c:
            while time.monotonic() < deadline and agencies != {"school", "social", "police"}:
                for q in c.get("/api/v1/queues").json()["items"]:
                    items = c.get(f"/api/v1/queues/{q['queue']}/concerns").json()["items"]
                    agencies |= {i["source"]["agency"] for i in items}
                time.sleep(0.5)
        assert agencies == {"school", "social", "police"}
        for _agency, event in sample_events():
            subject = event["subject"]
            assert isinstance(subject, dict)
            assert subject["cpr"] not in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    assert _processes_mentioning(str(tmp_path / "demo")) == []
    broker = re.search(r"broker\s+127\.0\.0\.1:(\d+)", "".join(lines))
    assert broker is not None
    for p in (int(broker.group(1)), port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p), timeout=1).close()


def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment names ``marker`` (the demo's data dir)."""
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            blob = (proc_dir / "cmdline").read_bytes() + (proc_dir / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(proc_dir.name))
    return found
